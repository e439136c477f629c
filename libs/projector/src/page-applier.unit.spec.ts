import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { EventStore, FeedPage, RecordedEvent } from '@chronicle/event-store';
import { EmbeddedReadStore } from '@chronicle/read-store';
import { IdFilter } from './id-filter';
import type { Projection } from './projection';
import { PageApplier } from './page-applier';
import { Slot } from './slot';
import { GatedStore } from './testing/gated-store';

const event = (position: number, streamId: string): RecordedEvent => ({
  eventId: `e${position}`,
  type: 'Happened',
  schemaVersion: 1,
  streamId,
  streamRevision: 0,
  globalPosition: position,
  occurredAt: '2026-01-01T00:00:00.000Z',
  recordedAt: '2026-01-01T00:00:00.000Z',
  actor: 'a',
  correlationId: 'c',
  causationId: 'c',
  data: {},
  metadata: {},
});
const page = (from: number, streams: string[]): FeedPage => ({
  events: streams.map((s, i) => event(from + i, s)),
  checkpoint: from + streams.length - 1,
  isEnd: false,
});

/** Counts per stream: a read (get) and a write per event, like most projections. */
const counter: Projection = {
  name: 'counter',
  version: 1,
  collections: ['counts'],
  async apply(e, ctx) {
    const doc = (await ctx.get<{ _id: string; n: number }>('counts', e.streamId)) ?? { _id: e.streamId, n: 0 };
    ctx.put('counts', { ...doc, n: doc.n + 1 });
  },
};

/** The tests look at the slots' positions, not at status documents. */
const status = () => ({ collection: '_status', id: 'counter', doc: null });

describe('PageApplier', () => {
  let dir: string;
  let inner: EmbeddedReadStore;
  let store: GatedStore;
  let slot: Slot;
  let applier: PageApplier;
  const committed: number[] = [];
  const n = async (stream: string) => (await inner.collection<{ _id: string; n: number }>('counter.counts.g1').findById(stream))?.n;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'chronicle-applier-'));
    inner = new EmbeddedReadStore(join(dir, 'reads.db'));
    store = new GatedStore(inner);
    slot = new Slot(counter, 1, 0);
    committed.length = 0;
    applier = new PageApplier({ eventStore: {} as EventStore, readStore: store, batchSize: 100 }, [slot], status, (c) => committed.push(c));
  });
  afterEach(async () => {
    await inner.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("applies the next page while the previous page's commit is under way, reading that page's changes", async () => {
    store.hold();
    await applier.apply(page(1, ['a', 'b', 'a'])); // returns with its commit held
    expect(slot.checkpoint).toBe(0);
    expect(slot.applied).toBe(3);
    expect(await n('a')).toBeUndefined(); // nothing in the store yet
    const second = applier.apply(page(4, ['a', 'c'])); // applies, then waits for the first commit
    await new Promise((r) => setImmediate(r));
    expect(committed).toEqual([]);
    store.gate!.open();
    await second;
    await applier.settle();
    expect(committed).toEqual([3, 5]); // in page order, each once committed
    expect(slot.checkpoint).toBe(5);
    expect([await n('a'), await n('b'), await n('c')]).toEqual([3, 1, 1]); // page 2 counted on page 1's 'a'
  });

  it('after a failed commit, rolls back to the last committed page; applying again from there gives the right counts', async () => {
    await applier.apply(page(1, ['a', 'b']));
    await applier.settle();
    store.failNext = true;
    await applier.apply(page(3, ['a'])); // its commit fails in the background
    await expect(applier.apply(page(4, ['a']))).rejects.toThrow('disk full');
    expect([slot.checkpoint, slot.applied, applier.position]).toEqual([2, 2, 2]);
    // the feed is read again from position 2
    await applier.apply(page(3, ['a', 'a']));
    await applier.settle();
    expect(await n('a')).toBe(3);
    expect(committed).toEqual([2, 4]);
  });

  it('a projection that throws leaves the slots alone: its changes of the page are dropped, its failure is committed in its status at its last checkpoint, the others go on', async () => {
    const failing: Projection = {
      ...counter,
      apply: (e, ctx) => (e.streamId === 'boom' ? Promise.reject(new Error('bad event')) : counter.apply(e, ctx)),
    };
    slot = new Slot(failing, 1, 0);
    const other = new Slot({ ...counter, name: 'other' }, 1, 0);
    const failed: Slot[] = [];
    const statusOf = (s: Slot, checkpoint: number) => ({
      collection: '_status',
      id: s.name,
      doc: { _id: s.name, checkpoint, failure: s.failure ?? null },
    });
    applier = new PageApplier(
      { eventStore: {} as EventStore, readStore: store, batchSize: 100 },
      [slot, other],
      statusOf,
      (c) => committed.push(c),
      undefined,
      { failed: (s) => failed.push(s) },
    );
    store.hold();
    await applier.apply(page(1, ['a']));
    const second = applier.apply(page(2, ['a', 'boom', 'a'])); // waits for page 1's commit, under way
    store.gate!.open();
    await second;
    await applier.settle();
    expect(failed).toEqual([slot]);
    expect(applier.slots).toEqual([other]);
    expect([slot.checkpoint, slot.applied, other.checkpoint]).toEqual([1, 1, 4]); // page 1 committed, page 2 forgotten for the failed one alone
    expect(slot.failure).toMatchObject({ eventId: 'e3', eventType: 'Happened', position: 3, error: 'bad event', attempts: 1 });
    expect(await n('a')).toBe(1); // its 'a' of page 2 (applied before the throw) is not in the store
    expect((await inner.collection<{ _id: string; n: number }>('other.counts.g1').findById('a'))?.n).toBe(3);
    expect(await inner.collection('_status').findById('counter')).toEqual({ _id: 'counter', checkpoint: 1, failure: slot.failure });
    expect(committed).toEqual([1, 4]);
  });

  it('a page that fails as a whole (the previous commit failed) leaves no failure behind and counts no attempt', async () => {
    const failing: Projection = {
      ...counter,
      apply: (e, ctx) => (e.streamId === 'boom' ? Promise.reject(new Error('bad event')) : counter.apply(e, ctx)),
    };
    slot = new Slot(failing, 1, 0);
    applier = new PageApplier({ eventStore: {} as EventStore, readStore: store, batchSize: 100 }, [slot], status, (c) => committed.push(c));
    store.failNext = true;
    await applier.apply(page(1, ['a'])); // its commit fails in the background
    await expect(applier.apply(page(2, ['boom']))).rejects.toThrow('disk full');
    expect([slot.checkpoint, slot.applied, slot.failure]).toEqual([0, 0, undefined]);
    expect(applier.slots).toEqual([slot]);
  });

  it('looks up no id it never wrote in a collection marked fresh, and every id in one that is not', async () => {
    await applier.markFresh(slot);
    await applier.apply(page(1, ['a', 'b', 'c', 'a']));
    await applier.settle();
    expect(store.lookups).toBe(0);

    // A second applier over the same (now filled) collection cannot mark it fresh: it must read.
    const later = new Slot(counter, 1, 0);
    const other = new PageApplier({ eventStore: {} as EventStore, readStore: store, batchSize: 100 }, [later], status);
    await other.markFresh(later);
    await other.apply(page(5, ['a', 'd']));
    await other.settle();
    expect(store.lookups).toBe(2);
    expect([await n('a'), await n('d')]).toEqual([3, 1]);
  });
});

describe('IdFilter', () => {
  it('never misses an id it was given, tells collections apart, and has few false positives', () => {
    const filter = new IdFilter(2 ** 20, 7);
    const seed = IdFilter.seedOf('deals.deals.g1');
    for (let i = 0; i < 50_000; i++) filter.add(seed, `deal-${i}`);
    let missed = 0;
    for (let i = 0; i < 50_000; i++) if (!filter.mightHave(seed, `deal-${i}`)) missed += 1;
    expect(missed).toBe(0);
    let falsePositives = 0;
    const other = IdFilter.seedOf('leads.leads.g1');
    for (let i = 0; i < 50_000; i++) if (filter.mightHave(other, `deal-${i}`) || filter.mightHave(seed, `lead-${i}`)) falsePositives += 1;
    // 50,000 ids in 2^20 bits with 7 probes: about 0.25 % per lookup, so ~250 of 100,000
    expect(falsePositives).toBeLessThan(600);
  });
});
