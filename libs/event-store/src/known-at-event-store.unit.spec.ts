import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { newEvent } from './contract/event-store.contract';
import type { FeedPage } from './event-store';
import { KnownAtEventStore } from './known-at-event-store';
import { SqliteEventStore } from './sqlite/sqlite-event-store';

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('KnownAtEventStore: the store as it was known at an instant', () => {
  let dir: string;
  let store: SqliteEventStore;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'known-at-'));
    store = new SqliteEventStore({ filename: join(dir, 'events.db'), pollIntervalMs: 20 });
  });
  afterEach(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Appends A (X), B (Y), then, 5 ms later, a backdated C (X); knownAt is B's recording time. */
  async function history() {
    await store.append('s-1', [newEvent('X')]);
    await store.append('s-2', [newEvent('Y')]);
    const all = (await store.readAll()).events;
    const knownAt = all[1].recordedAt;
    await pause(5);
    await store.append('s-1', [newEvent('X', {}, { occurredAt: '2020-01-01T00:00:00.000Z' })]);
    return { a: all[0], b: all[1], knownAt };
  }

  it('ends at the last event recorded by knownAt, for every filter alike', async () => {
    const { a, b, knownAt } = await history();
    const view = await KnownAtEventStore.open(store, knownAt);
    // A consumer of X alone stops at B (the end), not at A: it would otherwise wait for B forever.
    const x = await view.readAll({ fromPosition: 0, filter: { types: ['X'] } });
    expect([x.events.map((e) => e.eventId), x.checkpoint, x.isEnd]).toEqual([[a.eventId], b.globalPosition, true]);
    const all = await view.readAll({ fromPosition: 0, maxCount: 1 });
    expect([all.events.map((e) => e.eventId), all.checkpoint, all.isEnd]).toEqual([[a.eventId], a.globalPosition, false]);
    const rest = await view.readAll({ fromPosition: a.globalPosition });
    expect([rest.events.map((e) => e.eventId), rest.checkpoint, rest.isEnd]).toEqual([[b.eventId], b.globalPosition, true]);
    expect(await view.readAll({ fromPosition: b.globalPosition })).toEqual({ events: [], checkpoint: b.globalPosition, isEnd: true });
    expect([await view.headPosition(), await view.reachedEnd()]).toEqual([b.globalPosition, b.globalPosition]);
    // Streams, as known then: the backdated C is not there.
    expect((await view.readStream('s-1')).map((e) => e.eventId)).toEqual([a.eventId]);
    expect(await view.streamRevision('s-1')).toBe(0);
    expect(await store.streamRevision('s-1')).toBe(1);
  });

  it('leaves out what is appended after it opened, even within the same millisecond as knownAt', async () => {
    await store.append('s-1', [newEvent('X')]);
    const view = await KnownAtEventStore.open(store, new Date(Date.now() + 60_000).toISOString());
    await store.append('s-1', [newEvent('X')]);
    const page = await view.readAll();
    expect([page.events.length, page.checkpoint, page.isEnd]).toEqual([1, view.head, true]);
  });

  it('a subscription through it delivers up to the end, then nothing more', async () => {
    const { a, b, knownAt } = await history();
    const view = await KnownAtEventStore.open(store, knownAt);
    const subscription = view.subscribeToAll({ fromPosition: 0 });
    const iterator = subscription[Symbol.asyncIterator]();
    const first = (await iterator.next()).value as FeedPage;
    expect(first.events.map((e) => e.eventId)).toEqual([a.eventId, b.eventId]);
    await store.append('s-3', [newEvent('Y')]);
    const next = await Promise.race([iterator.next().then(() => 'more'), pause(300).then(() => 'quiet')]);
    expect(next).toBe('quiet');
    await subscription.close();
  });

  it('is read-only, and closing it leaves the store open', async () => {
    const view = await KnownAtEventStore.open(store, new Date().toISOString());
    expect(
      await view.append().then(
        () => 'appended',
        (e: Error) => e.message,
      ),
    ).toBe('a known-at view of the event store is read-only');
    await view.close();
    expect((await store.append('s-1', [newEvent()])).position).toBeGreaterThan(0);
  });
});
