import { randomUUID } from 'node:crypto';
import { EventStore, ExpectedRevision, FeedPage, NewEvent, RecordedEvent, WrongExpectedRevisionError } from '../event-store';

/**
 * The contract every event-store adapter passes (SQLite, EventStoreDB on the test server, and a
 * real EventStoreDB when EVENTSTORE_URL is set). Tests use fresh stream names and categories, so
 * the suite also runs against a shared, non-empty store.
 */
export interface ContractTarget {
  store: EventStore;
  cleanup(): Promise<void>;
}

const uid = () => randomUUID().replace(/-/g, '').slice(0, 12);

export function newEvent(
  type = 'SomethingHappened',
  data: Record<string, unknown> = {},
  overrides: Partial<NewEvent['metadata']> = {},
): NewEvent {
  return {
    eventId: randomUUID(),
    type,
    data,
    schemaVersion: 1,
    metadata: {
      occurredAt: '2024-01-02T03:04:05.000Z',
      actor: 'user-1',
      correlationId: randomUUID(),
      causationId: randomUUID(),
      ...overrides,
    },
  };
}

async function conflictOf(promise: Promise<unknown>): Promise<WrongExpectedRevisionError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(WrongExpectedRevisionError);
    return error as WrongExpectedRevisionError;
  }
  throw new Error('expected a WrongExpectedRevisionError');
}

async function readAllOf(store: EventStore, category: string, fromPosition = 0): Promise<RecordedEvent[]> {
  const events: RecordedEvent[] = [];
  let page: FeedPage;
  let from = fromPosition;
  do {
    page = await store.readAll({ fromPosition: from, maxCount: 100, filter: { categories: [category] } });
    events.push(...page.events);
    from = page.checkpoint;
  } while (!page.isEnd);
  return events;
}

export function eventStoreContract(name: string, connect: () => Promise<ContractTarget>): void {
  describe(`event store contract: ${name}`, () => {
    let target: ContractTarget;
    let store: EventStore;
    let category: string;
    const stream = (suffix = uid()) => `${category}-${suffix}`;

    beforeAll(async () => {
      target = await connect();
      store = target.store;
    });
    afterAll(async () => target?.cleanup());
    beforeEach(() => {
      category = `t${uid()}`;
    });

    describe('append with expected revision', () => {
      it('appends to a new stream with no-stream, starting at revision 0', async () => {
        const s = stream();
        const result = await store.append(s, [newEvent()], { expectedRevision: ExpectedRevision.NoStream });
        expect(result.streamId).toBe(s);
        expect(result.nextExpectedRevision).toBe(0);
        expect(result.position).toBeGreaterThan(0);
        expect(await store.streamRevision(s)).toBe(0);
      });

      it('rejects no-stream when the stream exists, reporting the actual revision', async () => {
        const s = stream();
        await store.append(s, [newEvent(), newEvent()]);
        const error = await conflictOf(store.append(s, [newEvent()], { expectedRevision: ExpectedRevision.NoStream }));
        expect(error.streamId).toBe(s);
        expect(error.actual).toBe(1);
        expect(await store.streamRevision(s)).toBe(1);
      });

      it('exists: rejected for a missing stream, accepted for an existing one', async () => {
        const s = stream();
        const error = await conflictOf(store.append(s, [newEvent()], { expectedRevision: ExpectedRevision.StreamExists }));
        expect(error.actual).toBe(-1);
        expect(await store.streamRevision(s)).toBe(-1);
        await store.append(s, [newEvent()]);
        const result = await store.append(s, [newEvent()], { expectedRevision: ExpectedRevision.StreamExists });
        expect(result.nextExpectedRevision).toBe(1);
      });

      it('exact revision: accepted when equal to the last revision, rejected otherwise', async () => {
        const s = stream();
        await store.append(s, [newEvent(), newEvent(), newEvent()]);
        await conflictOf(store.append(s, [newEvent()], { expectedRevision: 1 }));
        await conflictOf(store.append(s, [newEvent()], { expectedRevision: 3 }));
        await conflictOf(store.append(stream(), [newEvent()], { expectedRevision: 0 }));
        const result = await store.append(s, [newEvent()], { expectedRevision: 2 });
        expect(result.nextExpectedRevision).toBe(3);
      });

      it('any: appends whatever the stream holds', async () => {
        const s = stream();
        expect((await store.append(s, [newEvent()], { expectedRevision: ExpectedRevision.Any })).nextExpectedRevision).toBe(0);
        expect((await store.append(s, [newEvent()])).nextExpectedRevision).toBe(1);
      });

      it('writes a multi-event append atomically with contiguous revisions and increasing positions', async () => {
        const s = stream();
        const result = await store.append(s, [newEvent('A'), newEvent('B'), newEvent('C')]);
        const events = await store.readStream(s);
        expect(events.map((e) => [e.type, e.streamRevision])).toEqual([
          ['A', 0],
          ['B', 1],
          ['C', 2],
        ]);
        expect(events[1].globalPosition).toBeGreaterThan(events[0].globalPosition);
        expect(events[2].globalPosition).toBeGreaterThan(events[1].globalPosition);
        expect(result.position).toBe(events[2].globalPosition);
      });

      it('a rejected append writes nothing', async () => {
        const s = stream();
        await store.append(s, [newEvent('A')]);
        await conflictOf(store.append(s, [newEvent('B'), newEvent('C')], { expectedRevision: 5 }));
        expect((await store.readStream(s)).map((e) => e.type)).toEqual(['A']);
      });

      it('re-appending the same event ids returns the first result and writes nothing (idempotent)', async () => {
        const s = stream();
        const events = [newEvent('A'), newEvent('B')];
        const first = await store.append(s, events, { expectedRevision: ExpectedRevision.NoStream });
        const again = await store.append(s, events, { expectedRevision: ExpectedRevision.NoStream });
        expect(again).toEqual(first);
        expect(await store.readStream(s)).toHaveLength(2);
      });

      it('50 concurrent appends with the same expected revision: exactly one wins, the rest conflict', async () => {
        const s = stream();
        await store.append(s, [newEvent()]);
        const results = await Promise.allSettled(Array.from({ length: 50 }, () => store.append(s, [newEvent()], { expectedRevision: 0 })));
        expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
        const rejected = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
        expect(rejected).toHaveLength(49);
        for (const r of rejected) expect(r.reason).toBeInstanceOf(WrongExpectedRevisionError);
        expect((await store.readStream(s)).map((e) => e.streamRevision)).toEqual([0, 1]);
      });

      it('50 concurrent appends to one stream with any: all land, revisions contiguous without gap or duplicate', async () => {
        const s = stream();
        const results = await Promise.all(Array.from({ length: 50 }, (_, i) => store.append(s, [newEvent('E', { i })])));
        const events = await store.readStream(s);
        expect(events.map((e) => e.streamRevision)).toEqual(Array.from({ length: 50 }, (_, i) => i));
        expect(new Set(results.map((r) => r.position)).size).toBe(50);
      });

      it('concurrent appends to many streams get unique, increasing global positions in commit order', async () => {
        const streams = Array.from({ length: 20 }, () => stream());
        await Promise.all(streams.map((s) => store.append(s, [newEvent(), newEvent()])));
        const feed = await readAllOf(store, category);
        expect(feed).toHaveLength(40);
        const positions = feed.map((e) => e.globalPosition);
        expect([...positions].sort((a, b) => a - b)).toEqual(positions);
        expect(new Set(positions).size).toBe(40);
      });
    });

    describe('reading streams', () => {
      it('stores every metadata field, business time apart from server time', async () => {
        const s = stream();
        const event = newEvent(
          'DealOpened',
          { amount: 12.5, nested: { a: [1, 2] } },
          { occurredAt: '2020-05-06T07:08:09.000Z', extraKey: 'x' },
        );
        const before = Date.now();
        const { position } = await store.append(s, [event]);
        const [stored] = await store.readStream(s);
        expect(stored).toMatchObject({
          eventId: event.eventId,
          type: 'DealOpened',
          schemaVersion: 1,
          streamId: s,
          streamRevision: 0,
          globalPosition: position,
          occurredAt: '2020-05-06T07:08:09.000Z',
          actor: 'user-1',
          correlationId: event.metadata.correlationId,
          causationId: event.metadata.causationId,
          data: { amount: 12.5, nested: { a: [1, 2] } },
        });
        expect(stored.metadata).toMatchObject({ extraKey: 'x' });
        expect(Date.parse(stored.recordedAt)).toBeGreaterThanOrEqual(before - 1000);
        expect(Date.parse(stored.recordedAt)).toBeLessThanOrEqual(Date.now() + 1000);
      });

      it('reads forwards and backwards, from a revision, with a maximum count', async () => {
        const s = stream();
        await store.append(
          s,
          ['A', 'B', 'C', 'D', 'E'].map((t) => newEvent(t)),
        );
        const types = (events: RecordedEvent[]) => events.map((e) => e.type).join('');
        expect(types(await store.readStream(s))).toBe('ABCDE');
        expect(types(await store.readStream(s, { fromRevision: 2 }))).toBe('CDE');
        expect(types(await store.readStream(s, { fromRevision: 1, maxCount: 2 }))).toBe('BC');
        expect(types(await store.readStream(s, { direction: 'backwards' }))).toBe('EDCBA');
        expect(types(await store.readStream(s, { direction: 'backwards', fromRevision: 2, maxCount: 2 }))).toBe('CB');
      });

      it('a stream that does not exist reads as empty, with revision -1', async () => {
        expect(await store.readStream(stream())).toEqual([]);
        expect(await store.readStream(stream(), { direction: 'backwards' })).toEqual([]);
        expect(await store.streamRevision(stream())).toBe(-1);
        expect(await store.streamHead(stream())).toBeUndefined();
      });

      it("the stream's head: its last revision and the type of its last event", async () => {
        const s = stream();
        await store.append(s, [newEvent(), newEvent('CustomerMerged')]);
        expect(await store.streamHead(s)).toEqual({ revision: 1, type: 'CustomerMerged' });
      });
    });

    describe('global feed', () => {
      it('reads in position order from an exclusive position, in pages', async () => {
        const start = await store.headPosition();
        const a = stream();
        const b = stream();
        await store.append(a, [newEvent('A1')]);
        await store.append(b, [newEvent('B1')]);
        await store.append(a, [newEvent('A2')]);
        const all = await readAllOf(store, category, start);
        expect(all.map((e) => e.type)).toEqual(['A1', 'B1', 'A2']);
        const after = await readAllOf(store, category, all[0].globalPosition);
        expect(after.map((e) => e.type)).toEqual(['B1', 'A2']);
        const page = await store.readAll({ fromPosition: start, maxCount: 2, filter: { categories: [category] } });
        expect(page.events.map((e) => e.type)).toEqual(['A1', 'B1']);
        expect(page.isEnd).toBe(false);
        expect(page.checkpoint).toBe(page.events[1].globalPosition);
        expect(await store.headPosition()).toBeGreaterThanOrEqual(all[2].globalPosition);
      });

      it('filters by category and by event type; the checkpoint passes filtered-out events', async () => {
        const start = await store.headPosition();
        const other = `o${uid()}`;
        await store.append(stream(), [newEvent('Kept'), newEvent('Dropped')]);
        await store.append(`${other}-1`, [newEvent('Kept')]);
        const byType = await store.readAll({ fromPosition: start, maxCount: 1000, filter: { categories: [category], types: ['Kept'] } });
        expect(byType.events.map((e) => e.type)).toEqual(['Kept']);
        const last = await store.append(`${other}-1`, [newEvent('Tail')]);
        const page = await store.readAll({ fromPosition: start, maxCount: 1000, filter: { categories: [category] } });
        expect(page.isEnd).toBe(true);
        expect(page.checkpoint).toBeGreaterThanOrEqual(last.position);
        const none = await store.readAll({ fromPosition: page.checkpoint, maxCount: 1000, filter: { categories: [category] } });
        expect(none.events).toEqual([]);
      });
    });

    describe('catch-up-then-live subscription', () => {
      async function take(iterator: AsyncIterator<FeedPage>, count: number, category_: string): Promise<RecordedEvent[]> {
        const seen: RecordedEvent[] = [];
        while (seen.length < count) {
          const { value, done } = await iterator.next();
          if (done) break;
          seen.push(...value.events.filter((e) => e.streamId.startsWith(`${category_}-`)));
        }
        return seen;
      }

      it('delivers history, then live appends, in order and without duplicates; resumes from a checkpoint', async () => {
        const start = await store.headPosition();
        const s = stream();
        await store.append(s, [newEvent('H1'), newEvent('H2')]);
        const subscription = store.subscribeToAll({ fromPosition: start, filter: { categories: [category] }, maxBatch: 1 });
        const iterator = subscription[Symbol.asyncIterator]();
        const history = await take(iterator, 2, category);
        expect(history.map((e) => e.type)).toEqual(['H1', 'H2']);
        const live = take(iterator, 3, category);
        await store.append(s, [newEvent('L1')]);
        await store.append(stream(), [newEvent('L2'), newEvent('L3')]);
        const liveEvents = await live;
        expect(liveEvents.map((e) => e.type)).toEqual(['L1', 'L2', 'L3']);
        await subscription.close();
        expect((await iterator.next()).done).toBe(true);

        const resumed = store.subscribeToAll({ fromPosition: history[1].globalPosition, filter: { categories: [category] } });
        const again = await take(resumed[Symbol.asyncIterator](), 3, category);
        expect(again.map((e) => e.type)).toEqual(['L1', 'L2', 'L3']);
        await resumed.close();
      });

      it('applies type filters to live events too', async () => {
        const start = await store.headPosition();
        const subscription = store.subscribeToAll({ fromPosition: start, filter: { categories: [category], types: ['Wanted'] } });
        const iterator = subscription[Symbol.asyncIterator]();
        const received = take(iterator, 2, category);
        await store.append(stream(), [newEvent('Unwanted'), newEvent('Wanted', { n: 1 })]);
        await store.append(stream(), [newEvent('Wanted', { n: 2 })]);
        const events = await received;
        expect(events.map((e) => [e.type, (e.data as { n: number }).n])).toEqual([
          ['Wanted', 1],
          ['Wanted', 2],
        ]);
        await subscription.close();
      });
    });
  });
}
