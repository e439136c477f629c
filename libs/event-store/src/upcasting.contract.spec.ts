import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { upcast } from '@chronicle/domain';
import { appendFixtureHistory, readFixtureHistory } from '../../../test/support/fixture-history';
import { startEventStoreDbTestServer } from '../../../test/support/eventstoredb-test-server';
import type { EventStore, FeedPage, RecordedEvent } from './event-store';
import { EventStoreDbEventStore } from './eventstoredb/eventstoredb-event-store';
import { SqliteEventStore } from './sqlite/sqlite-event-store';

/**
 * Both adapters upcast a history stored by schema version 1 of InteractionLogged
 * (test/fixtures/histories) on every read: stream reads, feed pages and subscriptions serve
 * version 2 and say which version is stored (docs/schema-evolution.md).
 */
type Open = (withUpcast: boolean) => Promise<{ store: EventStore; reopen(withUpcast: boolean): EventStore; close(): Promise<void> }>;

const adapters: Array<[string, Open]> = [
  [
    'SQLite',
    async (withUpcast) => {
      const dir = mkdtempSync(join(tmpdir(), 'chronicle-upcast-'));
      const filename = join(dir, 'events.db');
      const opened: EventStore[] = [];
      const reopen = (u: boolean) => {
        const s = new SqliteEventStore({ filename, pollIntervalMs: 20, upcast: u ? upcast : undefined });
        opened.push(s);
        return s;
      };
      return {
        store: reopen(withUpcast),
        reopen,
        async close() {
          for (const s of opened) await s.close();
          rmSync(dir, { recursive: true, force: true });
        },
      };
    },
  ],
  [
    'EventStoreDB (test double server)',
    async (withUpcast) => {
      const server = await startEventStoreDbTestServer();
      const opened: EventStore[] = [];
      const reopen = (u: boolean) => {
        const s = new EventStoreDbEventStore({ connectionString: server.url, upcast: u ? upcast : undefined });
        opened.push(s);
        return s;
      };
      return {
        store: reopen(withUpcast),
        reopen,
        async close() {
          for (const s of opened) await s.close();
          await server.stop();
        },
      };
    },
  ],
];

describe.each(adapters)('upcasting a stored version 1 history: %s', (_name, open) => {
  jest.setTimeout(15_000);
  const history = readFixtureHistory('v1-interactions');
  const streamId = history[0].streamId;
  let opened: Awaited<ReturnType<Open>>;
  beforeAll(async () => {
    // Written by a store without upcasting, as today's version left it.
    opened = await open(false);
    await appendFixtureHistory(opened.store, history);
  });
  afterAll(() => opened?.close());

  const versions = (events: RecordedEvent[]) => events.map((e) => [e.type, e.schemaVersion, e.storedSchemaVersion]);
  const expected = [['CustomerRegistered', 1, undefined], ...Array(5).fill(['InteractionLogged', 2, 1])];
  const expectV2 = (events: RecordedEvent[]) => {
    expect(versions(events)).toEqual(expected);
    events.forEach((e, i) => {
      const stored = history[i].data;
      // Version 2 = the stored fields unchanged, plus the channel of the type.
      if (e.type === 'InteractionLogged')
        expect(e.data).toEqual({ ...stored, channel: expect.objectContaining({ medium: expect.any(String) }) });
      else expect(e.data).toEqual(stored);
    });
  };

  it('a store without an upcast reads the events as stored', async () => {
    const events = await opened.store.readStream(streamId);
    expect(versions(events)).toEqual([['CustomerRegistered', 1, undefined], ...Array(5).fill(['InteractionLogged', 1, undefined])]);
    expect(events.map((e) => e.data)).toEqual(history.map((e) => e.data));
  });

  it('reads a stream as version 2, forwards and backwards', async () => {
    const store = opened.reopen(true);
    expectV2(await store.readStream(streamId));
    expectV2((await store.readStream(streamId, { direction: 'backwards' })).reverse());
  });

  it('reads the feed as version 2', async () => {
    const store = opened.reopen(true);
    const page = await store.readAll({ filter: { categories: ['customer'] } });
    expectV2(page.events.filter((e) => e.streamId === streamId));
  });

  it('delivers version 2 to subscriptions', async () => {
    const store = opened.reopen(true);
    const subscription = store.subscribeToAll({ filter: { categories: ['customer'] } });
    const events: RecordedEvent[] = [];
    try {
      for await (const page of subscription as AsyncIterable<FeedPage>) {
        events.push(...page.events.filter((e) => e.streamId === streamId));
        if (events.length >= history.length) break;
      }
    } finally {
      await subscription.close();
    }
    expectV2(events);
  });
});
