import type { Command, Decider, DomainEvent } from '@chronicle/domain';
import { EventStore, EventStoreDbEventStore, SqliteEventStore } from '@chronicle/event-store';
import { startEventStoreDbTestServer } from '../../../test/support/eventstoredb-test-server';
import type { CommandContext } from './command-context';
import { CommandExecutor } from './command-executor';

/**
 * A command with derived event ids (a process manager's reaction, an Idempotency-Key retry) run
 * again after its stream moved on — a reaction made once more after a failover — appends nothing,
 * on SQLite (which refuses an event id twice anywhere) and on EventStoreDB (which recognises a
 * repeat only when it comes with the first attempt's expected revision).
 */
type Bumped = DomainEvent<'Bumped', { by: string }>;
const counter: Decider<number, Command<'Bump', { by: string }>, Bumped> = {
  initialState: () => 0,
  decide: (command) => [{ type: 'Bumped', data: { by: command.data.by }, occurredAt: command.occurredAt }],
  evolve: (n) => n + 1,
};
const bump = (by: string) => ({ type: 'Bump' as const, data: { by }, occurredAt: '2026-01-01T00:00:00.000Z' });
const plain: CommandContext = { actor: 'someone', correlationId: 'c', causationId: 'c' };
const reaction: CommandContext = {
  actor: 'system:process-manager',
  correlationId: 'c',
  causationId: 'cause-1',
  idSeed: 'reaction|score|cause-1',
};

describe.each(['sqlite', 'eventstoredb'] as const)('a reaction sent again (%s)', (kind) => {
  let store: EventStore;
  let stop: () => Promise<void>;

  beforeEach(async () => {
    if (kind === 'sqlite') {
      store = new SqliteEventStore({ filename: ':memory:' });
      stop = () => store.close();
    } else {
      const server = await startEventStoreDbTestServer();
      store = new EventStoreDbEventStore({ connectionString: server.url });
      stop = async () => {
        await store.close();
        await server.stop();
      };
    }
  });
  afterEach(() => stop());

  it('after the stream moved on, appends nothing and answers where the first run landed', async () => {
    const executor = new CommandExecutor(store);
    await executor.execute(counter, 'lead-1', bump('capture'), plain);
    const first = await executor.execute(counter, 'lead-1', bump('score'), reaction);
    await executor.execute(counter, 'lead-1', bump('api'), plain);
    const again = await executor.execute(counter, 'lead-1', bump('score'), reaction);
    const events = await store.readStream('lead-1');
    expect(events.map((e) => (e.data as { by: string }).by)).toEqual(['capture', 'score', 'api']);
    expect([again.revision, again.position]).toEqual([first.revision, first.position]);
    expect(again.events.map((e) => e.eventId)).toEqual(first.events.map((e) => e.eventId));
  });

  it('a create run again (an Idempotency-Key retry on another process) answers as the first run, not "exists"', async () => {
    const creates: Decider<boolean, Command<'Create', null>, DomainEvent<'Created', null>> = {
      initialState: () => false,
      decide: (_, exists) => {
        if (exists) throw new Error('exists');
        return [{ type: 'Created', data: null, occurredAt: '2026-01-01T00:00:00.000Z' }];
      },
      evolve: () => true,
    };
    const retry: CommandContext = { actor: 'api', correlationId: 'c', causationId: 'c', idSeed: 'idempotency|manager|key-1' };
    const create = { type: 'Create' as const, data: null, occurredAt: '2026-01-01T00:00:00.000Z' };
    const first = await new CommandExecutor(store).execute(creates, 'customer-9', create, retry);
    const again = await new CommandExecutor(store).execute(creates, 'customer-9', create, retry);
    expect([again.revision, again.position, again.events.map((e) => e.eventId)]).toEqual([
      first.revision,
      first.position,
      first.events.map((e) => e.eventId),
    ]);
    await expect(new CommandExecutor(store).execute(creates, 'customer-9', create, plain)).rejects.toThrow('exists');
  });

  it('two runs racing (two processes) append it once', async () => {
    const [one, two] = [new CommandExecutor(store), new CommandExecutor(store)];
    await one.execute(counter, 'lead-2', bump('capture'), plain);
    await Promise.all([one.execute(counter, 'lead-2', bump('score'), reaction), two.execute(counter, 'lead-2', bump('score'), reaction)]);
    expect((await store.readStream('lead-2')).map((e) => (e.data as { by: string }).by)).toEqual(['capture', 'score']);
  });
});
