import { randomUUID } from 'node:crypto';
import { EventStoreDBClient, FORWARDS, START, streamNameFilter } from '@eventstore/db-client';
import { EventStoreDbTestServer, startEventStoreDbTestServer } from '../../../../test/support/eventstoredb-test-server';
import { eventStoreContract, newEvent } from '../contract/event-store.contract';
import { FeedPage, NewEvent, RecordedEvent, UnknownPositionError, WrongExpectedRevisionError } from '../event-store';
import { EventStoreDbEventStore } from './eventstoredb-event-store';

// The shared contract, against the adapter talking gRPC to the in-process EventStoreDB test double.
eventStoreContract('EventStoreDB (test double server)', async () => {
  const server = await startEventStoreDbTestServer();
  const store = new EventStoreDbEventStore({ connectionString: server.url });
  return {
    store,
    async cleanup() {
      await store.close();
      await server.stop();
    },
  };
});

describe('EventStoreDB adapter (test double server)', () => {
  jest.setTimeout(15_000);
  let server: EventStoreDbTestServer;
  let store: EventStoreDbEventStore;
  const uid = () => randomUUID().replace(/-/g, '').slice(0, 12);

  beforeAll(async () => {
    server = await startEventStoreDbTestServer();
    store = new EventStoreDbEventStore({
      connectionString: server.url,
      reconnect: { initialDelayMs: 10, maxDelayMs: 100 },
      checkpointInterval: 1,
    });
  });
  afterAll(async () => {
    await store?.close();
    await server?.stop();
  });

  /** Reads batches until `done` says so, failing loudly instead of hanging. */
  async function collect(iterator: AsyncIterator<FeedPage>, done: (pages: FeedPage[]) => boolean, timeoutMs = 8_000): Promise<FeedPage[]> {
    const pages: FeedPage[] = [];
    const deadline = Date.now() + timeoutMs;
    while (!done(pages)) {
      const remaining = deadline - Date.now();
      if (remaining <= 0) throw new Error(`timed out after ${pages.length} pages`);
      let timer: NodeJS.Timeout | undefined;
      const next = await Promise.race([
        iterator.next(),
        new Promise<never>(
          (_, reject) => (timer = setTimeout(() => reject(new Error(`timed out after ${pages.length} pages`)), remaining)),
        ),
      ]).finally(() => clearTimeout(timer));
      if (next.done) break;
      pages.push(next.value);
    }
    return pages;
  }
  const eventsOf = (pages: FeedPage[]) => pages.flatMap((p) => p.events);
  /** Lets the test double's emulated projections write their `$>` link events. */
  const settle = () => new Promise((resolve) => setTimeout(resolve, 5));

  it('stores the event metadata of docs/domain.md as the event metadata, with the server time as recordedAt', async () => {
    const stream = `deal-${uid()}`;
    const event = newEvent('DealOpened', { amount: 3 }, { occurredAt: '2019-01-01T00:00:00.000Z', idempotencyKey: 'k-1' });
    await store.append(stream, [{ ...event, schemaVersion: 2 }]);

    // What another EventStoreDB client (or the web UI) sees.
    const raw = EventStoreDBClient.connectionString(server.url);
    const stored = [];
    for await (const resolved of raw.readStream(stream)) stored.push(resolved.event!);
    await raw.dispose();
    expect(stored).toHaveLength(1);
    expect(stored[0].isJson).toBe(true);
    expect(stored[0].metadata).toEqual({
      occurredAt: '2019-01-01T00:00:00.000Z',
      actor: 'user-1',
      correlationId: event.metadata.correlationId,
      causationId: event.metadata.causationId,
      schemaVersion: 2,
      idempotencyKey: 'k-1',
      $correlationId: event.metadata.correlationId,
      $causationId: event.metadata.causationId,
    });

    const [read] = await store.readStream(stream);
    expect(read.schemaVersion).toBe(2);
    expect(read.metadata).toEqual({ idempotencyKey: 'k-1' });
    expect(read.recordedAt).toBe(stored[0].created.toISOString());
    expect(read.recordedAt).not.toBe(read.occurredAt);
  });

  it('maps a conflict on a missing stream to WrongExpectedRevisionError with actual -1', async () => {
    const error = await store.append(`deal-${uid()}`, [newEvent()], { expectedRevision: 4 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WrongExpectedRevisionError);
    expect((error as WrongExpectedRevisionError).actual).toBe(-1);
    expect((error as WrongExpectedRevisionError).expected).toBe(4);
  });

  it('upcasts old event versions on read, as the SQLite adapter does', async () => {
    const upcasting = new EventStoreDbEventStore({
      connectionString: server.url,
      upcast: (type, version, data) =>
        type === 'Renamed' && version === 1
          ? { data: { ...(data as object), upcast: true }, schemaVersion: 2 }
          : { data, schemaVersion: version },
    });
    try {
      const stream = `customer-${uid()}`;
      await upcasting.append(stream, [newEvent('Renamed', { name: 'a' }), newEvent('Other', { name: 'b' })]);
      const [renamed, other] = await upcasting.readStream(stream);
      expect([renamed.schemaVersion, renamed.data]).toEqual([2, { name: 'a', upcast: true }]);
      expect([other.schemaVersion, other.data]).toEqual([1, { name: 'b' }]);
    } finally {
      await upcasting.close();
    }
  });

  it('uses $all commit positions: each event of a multi-event append has its own position, and the append reports the last', async () => {
    const stream = `deal-${uid()}`;
    const result = await store.append(stream, [newEvent('A'), newEvent('B'), newEvent('C')]);
    const raw = EventStoreDBClient.connectionString(server.url);
    const positions: Array<[bigint, bigint]> = [];
    for await (const resolved of raw.readAll({ fromPosition: START, direction: FORWARDS })) {
      if (resolved.event?.streamId === stream) positions.push([resolved.event.position.commit, resolved.event.position.prepare]);
    }
    await raw.dispose();
    const read = await store.readStream(stream);
    expect(read.map((e) => e.globalPosition)).toEqual(positions.map(([commit]) => Number(commit)));
    expect(new Set(positions.map(([commit]) => commit)).size).toBe(3);
    expect(result.position).toBe(read[2].globalPosition);
  });

  it('a position that is no record boundary fails with UnknownPositionError, from readAll and from a subscription alike', async () => {
    const { position } = await store.append(`deal-${uid()}`, [newEvent('A'), newEvent('B')]);
    const invented = position - 1; // inside the last event's log record
    const refused = await store.readAll({ fromPosition: invented, maxCount: 1 }).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(refused).toBeInstanceOf(UnknownPositionError);
    expect((refused as UnknownPositionError).position).toBe(invented);
    const subscription = store.subscribeToAll({ fromPosition: invented });
    const failed = await subscription[Symbol.asyncIterator]()
      .next()
      .then(
        () => undefined,
        (error: unknown) => error,
      );
    await subscription.close();
    expect(failed).toBeInstanceOf(UnknownPositionError);
  });

  it("positions stay unique on servers that report the append's first position as every event's prepare position (20.10–22.10)", async () => {
    const legacy = await startEventStoreDbTestServer({ legacyPreparePositions: true });
    const legacyStore = new EventStoreDbEventStore({ connectionString: legacy.url });
    try {
      const stream = `deal-${uid()}`;
      await legacyStore.append(stream, [newEvent('A'), newEvent('B'), newEvent('C')]);
      const read = await legacyStore.readStream(stream);
      expect(new Set(read.map((e) => e.globalPosition)).size).toBe(3);
      // Paging one event at a time walks A, B, C: no event is re-read or skipped.
      const paged: string[] = [];
      let from = 0;
      for (
        let page = await legacyStore.readAll({ fromPosition: from, maxCount: 1 });
        page.events.length > 0;
        page = await legacyStore.readAll({ fromPosition: from, maxCount: 1 })
      ) {
        paged.push(...page.events.map((e) => e.type));
        from = page.checkpoint;
      }
      expect(paged).toEqual(['A', 'B', 'C']);
    } finally {
      await legacyStore.close();
      await legacy.stop();
    }
  });

  it('headPosition skips system events written after the last user event', async () => {
    const { position } = await store.append(`deal-${uid()}`, [newEvent()]);
    await settle();
    const system = server.appendSystemEvent('$stats-127.0.0.1:2113', '$statsCollected');
    expect(system.logPosition).toBeGreaterThan(position);
    expect(await store.headPosition()).toBe(position);
  });

  it('a dropped connection mid-subscription resumes after the last delivered event: no loss, no duplicate', async () => {
    const category = `drop${uid()}`;
    const start = await store.headPosition();
    const subscription = store.subscribeToAll({ fromPosition: start, filter: { categories: [category] }, maxBatch: 7 });
    const iterator = subscription[Symbol.asyncIterator]();
    const appended: string[] = [];
    const connectionsBefore = server.connectionCount();

    // 3 writers, 40 appends each of 1–3 events; every 50 events appended, every connection is cut.
    // An append cut in flight is retried with the same ids and expected revision (idempotent).
    const subscriptionsBefore = server.subscriptionStarts().length;
    let drops = 0;
    async function writer(streamId: string) {
      let revision = -1;
      for (let i = 0; i < 40; i++) {
        const events: NewEvent[] = Array.from({ length: 1 + (i % 3) }, (_, j) => newEvent('Tick', { i, j }));
        for (let attempt = 0; ; attempt++) {
          try {
            const result = await store.append(streamId, events, { expectedRevision: revision < 0 ? 'no-stream' : revision });
            revision = result.nextExpectedRevision;
            break;
          } catch (error) {
            if (attempt > 50 || error instanceof WrongExpectedRevisionError) throw error;
            await new Promise((resolve) => setTimeout(resolve, 5));
          }
        }
        appended.push(...events.map((e) => e.eventId));
        if (appended.length >= 50 * (drops + 1)) {
          drops += 1;
          server.dropConnections();
        }
      }
    }
    const writers = Promise.all([1, 2, 3].map((n) => writer(`${category}-${n}`)));
    const perWriter = Array.from({ length: 40 }, (_, i) => 1 + (i % 3)).reduce((a, b) => a + b, 0);
    const pages = await collect(iterator, (p) => eventsOf(p).length >= 3 * perWriter);
    await writers;
    await subscription.close();

    const delivered = eventsOf(pages).map((e) => e.eventId);
    expect(delivered).toHaveLength(3 * perWriter);
    expect(new Set(delivered).size).toBe(3 * perWriter);
    // Order across streams is $all order; what the writers saw may interleave differently, so compare per stream.
    for (const n of [1, 2, 3]) {
      const ofStream = (events: RecordedEvent[]) => events.filter((e) => e.streamId === `${category}-${n}`);
      expect(ofStream(eventsOf(pages)).map((e) => e.streamRevision)).toEqual(Array.from({ length: perWriter }, (_, i) => i));
    }
    expect([...delivered].sort()).toEqual([...appended].sort());
    const positions = eventsOf(pages).map((e) => e.globalPosition);
    expect(positions).toEqual([...positions].sort((a, b) => a - b));
    expect(drops).toBe(4);
    expect(server.connectionCount() - connectionsBefore).toBeGreaterThanOrEqual(4);
    // Resubscribed after each cut, each time further on (after what it had handled), never from the start again.
    const starts = server.subscriptionStarts().slice(subscriptionsBefore);
    expect(starts.length).toBeGreaterThanOrEqual(1 + 4);
    expect(starts[0]).toBe(start);
    expect(starts.slice(1).every((resumedAt) => resumedAt > start)).toBe(true);
    expect(starts).toEqual([...starts].sort((a, b) => a - b));
  });

  it('a consumer slower than the feed gets large pages, not one per 16 events the subscription buffers', async () => {
    const category = `slow${uid()}`;
    const start = await store.headPosition();
    for (let i = 0; i < 12; i++)
      await store.append(
        `${category}-${i}`,
        Array.from({ length: 50 }, () => newEvent('S')),
      );
    const subscription = store.subscribeToAll({ fromPosition: start, filter: { categories: [category] }, maxBatch: 1000 });
    const iterator = subscription[Symbol.asyncIterator]();
    const pages: FeedPage[] = [];
    // Each page takes the consumer 30 ms, as a projector's commit does: the feed waits in the buffer meanwhile.
    while (eventsOf(pages).length < 600) {
      pages.push(...(await collect(iterator, (p) => p.length === 1)));
      await new Promise((resolve) => setTimeout(resolve, 30));
    }
    expect(eventsOf(pages)).toHaveLength(600);
    // Pages of 16 would be 38 of them.
    expect(pages.length).toBeLessThanOrEqual(6);
    // A quiet live feed is handed over at once: one event, one page, without waiting for more.
    const t = Date.now();
    await store.append(`${category}-live`, [newEvent('L')]);
    const live = await collect(iterator, (p) => eventsOf(p).length >= 1);
    expect(eventsOf(live).map((e) => e.type)).toEqual(['L']);
    expect(Date.now() - t).toBeLessThan(1000);
    await subscription.close();
  });

  it('filtered subscription checkpoints advance past filtered-out events, and resuming from one loses nothing', async () => {
    const wanted = `want${uid()}`;
    const other = `other${uid()}`;
    const start = await store.headPosition();
    const subscription = store.subscribeToAll({ fromPosition: start, filter: { categories: [wanted] } });
    const iterator = subscription[Symbol.asyncIterator]();

    await store.append(`${wanted}-1`, [newEvent('W1')]);
    const first = await collect(iterator, (p) => eventsOf(p).length >= 1);
    const afterFirst = first.at(-1)!.checkpoint;
    // Only other categories now: the checkpoint must still move, with empty pages.
    let lastOther = 0;
    for (let i = 0; i < 20; i++) lastOther = (await store.append(`${other}-${i % 4}`, [newEvent('O'), newEvent('O')])).position;
    const quiet = await collect(
      iterator,
      (p) => p.length > 0 && p.at(-1)!.checkpoint > afterFirst && p.every((page) => page.events.length === 0),
    );
    const checkpoint = quiet.at(-1)!.checkpoint;
    expect(eventsOf(quiet)).toEqual([]);
    expect(checkpoint).toBeGreaterThan(afterFirst);
    expect(checkpoint).toBeLessThanOrEqual(lastOther);
    await subscription.close();

    // Resume from the checkpoint: the next wanted event arrives, nothing before it is replayed.
    await store.append(`${wanted}-1`, [newEvent('W2')]);
    const resumed = store.subscribeToAll({ fromPosition: checkpoint, filter: { categories: [wanted] } });
    const again = await collect(resumed[Symbol.asyncIterator](), (p) => eventsOf(p).length >= 1);
    expect(eventsOf(again).map((e) => e.type)).toEqual(['W2']);
    await resumed.close();
  });

  it('never hands out a raw server checkpoint: one at the log end, where the next event lands, would skip that event', async () => {
    // EventStoreDB's catch-up checkpoint is max(last event sent, page start); when the last page was
    // full, the next page starts at the log's end and so does the checkpoint (kurrent-io/KurrentDB#4970).
    const wanted = `edge${uid()}`;
    await settle();
    const start = await store.headPosition();
    const raw = EventStoreDBClient.connectionString(server.url);
    const after: bigint[] = [];
    for await (const r of raw.readAll({ fromPosition: { commit: BigInt(start), prepare: BigInt(start) } }))
      after.push(r.event!.position.commit);
    // The catch-up considers the event at `start` too; pad with system events so the pages of 32 end exactly at the log's end.
    let lastEvent = Number(after.at(-1));
    for (let n = after.length; n % 32 !== 0; n++)
      lastEvent = server.appendSystemEvent('$stats-127.0.0.1:2113', '$statsCollected').logPosition;

    const rawCheckpoints: bigint[] = [];
    const rawSubscription = raw.subscribeToAll({
      fromPosition: { commit: BigInt(start), prepare: BigInt(start) },
      filter: streamNameFilter({
        prefixes: [`${wanted}-`],
        checkpointInterval: 1,
        checkpointReached: (_, p) => void rawCheckpoints.push(p.commit),
      }),
    });
    await new Promise((resolve) => rawSubscription.once('caughtUp', resolve));
    await rawSubscription.unsubscribe();

    const subscription = store.subscribeToAll({ fromPosition: start, filter: { categories: [wanted] } });
    const pages = await collect(subscription[Symbol.asyncIterator](), (p) => p.at(-1)?.checkpoint === lastEvent);
    await subscription.close();
    const checkpoint = pages.at(-1)!.checkpoint;

    const next = await store.append(`${wanted}-1`, [newEvent('Next')]);
    await raw.dispose();
    expect(rawCheckpoints.at(-1)).toBe(BigInt(next.position)); // the server's last checkpoint is where 'Next' was written
    expect(pages.every((p) => p.checkpoint < next.position)).toBe(true);

    const resumed = store.subscribeToAll({ fromPosition: checkpoint, filter: { categories: [wanted] } });
    const again = await collect(resumed[Symbol.asyncIterator](), (p) => eventsOf(p).length >= 1);
    expect(eventsOf(again).map((e) => e.type)).toEqual(['Next']);
    await resumed.close();
  });

  it('after close, operations fail with EventStoreClosedError and open subscriptions end', async () => {
    const closing = new EventStoreDbEventStore({ connectionString: server.url });
    const subscription = closing.subscribeToAll({ fromPosition: await closing.headPosition() });
    const iterator = subscription[Symbol.asyncIterator]();
    const pending = iterator.next();
    await closing.close();
    expect((await pending).done).toBe(true);
    await expect(closing.readStream('deal-1')).rejects.toThrow('the event store is closed');
  });
});
