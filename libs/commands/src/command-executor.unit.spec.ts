import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { customerDecider, CustomerCommand, defaultPipeline, fold, InteractionTypes } from '@chronicle/domain';
import type { EventStore, NewEvent } from '@chronicle/event-store';
import { openEventStore } from '../../../test/support/event-store-under-test';
import { ChronicleConfig, SqliteSnapshotStore } from '@chronicle/infrastructure';
import { PersonalDataEventStore, SqliteKeyStore } from '@chronicle/personal-data';
import type { CommandBus } from '@nestjs/cqrs';
import type { CommandContext } from './command-context';
import { CommandExecutor, toDomainEvent } from './command-executor';
import { CommandEnvironment } from './command-spec';
import { CustomerHandler } from './handlers/customer.handler';
import { CustomerMessage } from './messages';
import { OwnershipViolation } from './ownership';

// Snapshots make loading a stream cost the snapshot plus a bounded tail, so a rep's interaction
// (which must check the owner) and a PATCH cost the same on a long history as on a short one. The
// cost is counted in events read from the store, not in wall time.

const EVERY = 25;
let dir: string;
/** The store under test (SQLite, or the EventStoreDB adapter on its test double), uncounted. */
let sqlite: EventStore;
let closeStore: () => Promise<void>;
let snapshots: SqliteSnapshotStore;
let keys: SqliteKeyStore;
let eventsRead: number;
let store: EventStore;
let executor: CommandExecutor;
let handler: CustomerHandler;

const admin: CommandContext = { actor: 'admin-user', correlationId: 'c', causationId: 'c' };
const rep = (actor = 'rep-ada'): CommandContext => ({ actor, correlationId: 'c', causationId: 'c', ownerScope: actor });
const now = () => new Date().toISOString();

/** The real SQLite store, counting the events its readStream returns. */
function counting(inner: EventStore): EventStore {
  return new Proxy(inner, {
    get(target, key, receiver) {
      if (key === 'readStream') {
        return async (...args: Parameters<EventStore['readStream']>) => {
          const events = await target.readStream(...args);
          eventsRead += events.length;
          return events;
        };
      }
      const value = Reflect.get(target, key, receiver);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

const send = (command: CustomerCommand, context: CommandContext) => handler.execute(new CustomerMessage(command, context));
const register = async (ownerId: string) => {
  const customerId = randomUUID();
  await send({ type: 'RegisterCustomer', data: { customerId, name: 'Ada', source: 'web', ownerId }, occurredAt: now() }, admin);
  return customerId;
};
const interaction = (customerId: string, i = 0): CustomerCommand => ({
  type: 'LogInteraction',
  data: {
    customerId,
    interactionId: randomUUID(),
    type: InteractionTypes[i % InteractionTypes.length],
    direction: 'inbound',
    subject: `#${i}`,
  },
  occurredAt: now(),
});
/** Events read by one command. */
async function cost(action: () => Promise<unknown>): Promise<number> {
  eventsRead = 0;
  await action();
  return eventsRead;
}

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'chronicle-executor-'));
  ({ store: sqlite, close: closeStore } = await openEventStore(dir));
  snapshots = new SqliteSnapshotStore(join(dir, 'snapshots.db'));
  // As in the app: personal fields sealed around the (counting) store.
  keys = new SqliteKeyStore(join(dir, 'keys.db'));
  const personalData = new PersonalDataEventStore(counting(sqlite), keys);
  store = personalData;
  executor = new CommandExecutor(store, { snapshots, snapshotEvery: EVERY });
  // The CommandBus only carries an erasure on to the lead, which these tests do not send.
  const config = { automation: false, assignment: { strategy: 'off' } } as unknown as ChronicleConfig;
  handler = new CustomerHandler(
    new CommandEnvironment(executor, store, personalData, undefined as unknown as CommandBus, defaultPipeline, config),
  );
});
afterEach(async () => {
  snapshots.close();
  await keys.close();
  await closeStore();
  rmSync(dir, { recursive: true, force: true });
});

describe('CommandExecutor with snapshots', () => {
  it("a rep's interaction and a PATCH read at most a snapshot's tail, on 5 or 600 past events alike", async () => {
    const short = await register('rep-ada');
    for (let i = 0; i < 4; i++) await send(interaction(short, i), admin);
    const long = await register('rep-ada');
    for (let i = 0; i < 600; i++) await send(interaction(long, i), admin); // the unfolded fast path keeps snapshots fresh

    const onShort = await cost(() => send(interaction(short), rep()));
    const onLong = await cost(() => send(interaction(long), rep()));
    expect(onShort).toBeLessThanOrEqual(EVERY + 1);
    expect(onLong).toBeLessThanOrEqual(EVERY + 1);
    const patchLong = await cost(() =>
      send({ type: 'UpdateCustomerProfile', data: { customerId: long, company: 'Engines' }, occurredAt: now() }, rep()),
    );
    expect(patchLong).toBeLessThanOrEqual(EVERY + 2);
    // …and the admin's interaction still reads no event at all (only the stream's head: revision and last type).
    expect(await cost(() => send(interaction(long), admin))).toBe(0);

    // The state decided on equals the fold of the whole stream.
    const loaded = await executor.load(customerDecider, `customer-${long}`);
    const full = fold(
      customerDecider,
      (await store.readStream(`customer-${long}`)).map((e) => toDomainEvent(e)),
    );
    expect(loaded.state).toEqual(JSON.parse(JSON.stringify(full)));
    expect(loaded.state).toMatchObject({ interactions: 602, company: 'Engines', ownerId: 'rep-ada' });
  }, 30_000);

  it('a history written without snapshots is folded once, then loads are bounded', async () => {
    const customerId = randomUUID();
    const streamId = `customer-${customerId}`;
    const events: NewEvent[] = [
      {
        eventId: randomUUID(),
        type: 'CustomerRegistered',
        data: { customerId, name: 'Legacy', source: 'web', ownerId: 'rep-ada' },
        metadata: { occurredAt: now(), actor: 'x', correlationId: 'c', causationId: 'c' },
      },
    ];
    for (let i = 0; i < 400; i++) {
      events.push({
        eventId: randomUUID(),
        type: 'InteractionLogged',
        data: { customerId, interactionId: randomUUID(), type: 'call', direction: 'inbound', subject: 's' },
        metadata: { occurredAt: now(), actor: 'x', correlationId: 'c', causationId: 'c' },
      });
    }
    await sqlite.append(streamId, events);
    // An admin's interaction does not pay the fold of a history it does not need to read…
    expect(await cost(() => send(interaction(customerId), admin))).toBe(0);
    // …the first command that needs the state does, once.
    expect(await cost(() => send(interaction(customerId), rep()))).toBe(402);
    expect(await cost(() => send(interaction(customerId), rep()))).toBeLessThanOrEqual(EVERY + 1);
  });

  it('never trusts a snapshot whose event is not the stream’s (another history under the same stream id), and replaces it', async () => {
    const customerId = await register('rep-ada');
    const streamId = `customer-${customerId}`;
    const version = executor.snapshotVersion(customerDecider);
    expect(version).toMatch(/^1:[0-9a-f]{16}$/);
    expect(snapshots.revision(streamId, version)).toBe(-1); // one event: nothing worth a snapshot yet
    for (let i = 0; i < EVERY + 2; i++) await send(interaction(customerId, i), admin);
    expect(snapshots.revision(streamId, version)).toBeGreaterThanOrEqual(EVERY - 1);
    // A forged snapshot says the customer belongs to rep-eve, at the stream's revision but with another event id.
    const current = await sqlite.streamRevision(streamId);
    const forged = { ...customerDecider.initialState(), exists: true, customerId, ownerId: 'rep-eve' };
    snapshots.save({ streamId, version, revision: current, eventId: randomUUID(), state: forged });
    await expect(send(interaction(customerId), rep('rep-eve'))).rejects.toBeInstanceOf(OwnershipViolation);
    await expect(send(interaction(customerId), rep('rep-ada'))).resolves.toMatchObject({ streamId });
    expect(snapshots.load(streamId, version)).toMatchObject({ state: { ownerId: 'rep-ada' } });
    expect((await executor.load(customerDecider, streamId)).eventsRead).toBeLessThanOrEqual(EVERY + 1);
  });

  it('a change to the fold’s code is another snapshot version: older snapshots are not used', async () => {
    const customerId = await register('rep-ada');
    for (let i = 0; i < EVERY + 2; i++) await send(interaction(customerId, i), admin);
    const changed = {
      ...customerDecider,
      evolve: (s: ReturnType<typeof customerDecider.initialState>, e: Parameters<typeof customerDecider.evolve>[1]) =>
        customerDecider.evolve(s, e),
    };
    const loaded = await executor.load(changed, `customer-${customerId}`);
    expect(loaded.eventsRead).toBe(EVERY + 3); // the whole stream: the snapshot was not this fold's
    expect(snapshots.revision(`customer-${customerId}`, executor.snapshotVersion(customerDecider))).toBe(-1); // replaced by the new version's
    expect(snapshots.revision(`customer-${customerId}`, executor.snapshotVersion(changed))).toBe(EVERY + 2);
  });

  it('checks the owner on the state it appends on: a reassignment in between is seen, nothing is appended for the old owner', async () => {
    const customerId = await register('rep-ada');
    const streamId = `customer-${customerId}`;
    await send({ type: 'AssignCustomerOwner', data: { customerId, ownerId: 'rep-bob' }, occurredAt: now() }, admin);
    const before = await sqlite.streamRevision(streamId);
    await expect(send(interaction(customerId), rep('rep-ada'))).rejects.toThrow(/owned by someone else/);
    await expect(
      send({ type: 'ChurnCustomer', data: { customerId, reason: 'x' }, occurredAt: now() }, rep('rep-ada')),
    ).rejects.toBeInstanceOf(OwnershipViolation);
    expect(await sqlite.streamRevision(streamId)).toBe(before);
    await expect(send(interaction(customerId), rep('rep-bob'))).resolves.toMatchObject({ revision: before + 1 });
  });
});

describe('SqliteSnapshotStore', () => {
  it('keeps the newest snapshot per stream, one decider version at a time, and forgets a stream on demand', () => {
    const s = new SqliteSnapshotStore(':memory:');
    try {
      s.save({ streamId: 'customer-1', version: 'v1', revision: 10, eventId: 'e10', state: { n: 10 } });
      s.save({ streamId: 'customer-1', version: 'v1', revision: 5, eventId: 'e5', state: { n: 5 } }); // older: ignored
      expect(s.load('customer-1', 'v1')).toMatchObject({ revision: 10, eventId: 'e10', state: { n: 10 } });
      s.save({ streamId: 'customer-1', version: 'v2', revision: 3, eventId: 'e3', state: { n: 3 } });
      expect(s.load('customer-1', 'v1')).toBeUndefined(); // another version's copy is dropped
      expect(s.revision('customer-1', 'v2')).toBe(3);
      s.save({ streamId: 'customer-2', version: 'v2', revision: 1, eventId: 'e1', state: {} });
      s.forget('customer-1');
      expect(s.revision('customer-1', 'v2')).toBe(-1);
      expect(s.revision('customer-2', 'v2')).toBe(1);
    } finally {
      s.close();
    }
  });
});
