import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FailureRequestRefused } from '@chronicle/cluster';
import type { EventStore, RecordedEvent } from '@chronicle/event-store';
import { EmbeddedReadStore } from '@chronicle/read-store';
import { openEventStore } from '../../../test/support/event-store-under-test';
import type { Projection } from './projection';
import { ProjectionFailureEvent, projectionRole, Projector } from './projector';
import { ReadModels } from './read-models';
import { GatedStore } from './testing/gated-store';

// One projection throwing on one event: it stops there alone (the others go on past it), shows the
// failure, retries with a backoff, and an operator can retry it or skip the event, from any process.

type Count = { _id: string; n: number };

/** Counts events per stream. */
const counter = (name: string): Projection => ({
  name,
  version: 1,
  collections: ['counts'],
  async apply(event, ctx) {
    const doc = (await ctx.get<Count>('counts', event.streamId)) ?? { _id: event.streamId, n: 0 };
    ctx.put('counts', { ...doc, n: doc.n + 1 });
  },
});

/**
 * Counts like `counter`, but throws on poisoned events while `fails(event, attempt)` says so
 * (`attempt` counts from 1 per event). It writes before it throws, so a failed attempt that left
 * anything behind would show in the counts.
 */
function fragile(fails: (event: RecordedEvent, attempt: number) => boolean, version = 1): Projection {
  const attempts = new Map<string, number>();
  const base = counter('fragile');
  return {
    ...base,
    version,
    async apply(event, ctx) {
      await base.apply(event, ctx);
      if (!(event.data as { poison?: boolean }).poison) return;
      const attempt = (attempts.get(event.eventId) ?? 0) + 1;
      attempts.set(event.eventId, attempt);
      if (fails(event, attempt)) throw new Error(`cannot project ${event.eventId}: the amount is missing`);
    },
  };
}

const event = (data: Record<string, unknown> = {}) => ({
  eventId: randomUUID(),
  type: 'Happened',
  data,
  metadata: { occurredAt: new Date().toISOString(), actor: 'a', correlationId: 'c', causationId: 'c' },
});

async function until<T>(what: string, check: () => Promise<T | undefined | false>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`not reached in ${timeoutMs} ms: ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** A long first backoff: the projection attempts the event again only when asked. */
const NO_RETRY_BY_ITSELF = { initialMs: 600_000, maxMs: 600_000 };

describe('a projection that throws on one event', () => {
  let dir: string;
  let events: EventStore;
  let closeEvents: () => Promise<void>;
  let reads: EmbeddedReadStore;
  const projectors: Projector[] = [];

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'chronicle-projector-failure-'));
    ({ store: events, close: closeEvents } = await openEventStore(dir, { pollIntervalMs: 20 }));
    reads = new EmbeddedReadStore(join(dir, 'reads.db'));
  });
  afterEach(async () => {
    for (const p of projectors.splice(0)) await p.stop();
    await closeEvents();
    await reads.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const started = async (projector: Projector) => {
    projectors.push(projector);
    await projector.start();
    return projector;
  };
  /** ReadModels as another process sees them (no projector of its own: everything from the store). */
  const elsewhere = (names: string[]) => new ReadModels(reads, events, names, undefined, 0);
  const info = async (models: ReadModels, name: string) => (await models.info()).find((p) => p.name === name)!;
  const countOf = async (models: ReadModels, projection: string, stream: string) =>
    (await (await models.collection<Count>(projection, 'counts')).findById(stream))?.n;

  /** 10 events over streams s-0..s-2, the 4th poisoned; returns the poisoned event as stored. */
  async function history(): Promise<RecordedEvent> {
    for (let i = 0; i < 10; i++) await events.append(`s-${i % 3}`, [event(i === 3 ? { poison: true } : {})]);
    const all = (await events.readAll({ fromPosition: 0, maxCount: 100 })).events;
    return all[3];
  }

  it('stops alone: the others go past the event; it shows the event, the error and the attempts, tried again 1×, 2×, 4× … the first delay, up to the cap', async () => {
    const poison = await history();
    const projector = await started(
      new Projector(events, reads, [counter('counter'), fragile(() => true), counter('other')], {
        batchSize: 4,
        failureRetry: { initialMs: 40, maxMs: 160 },
      }),
    );
    const failures: ProjectionFailureEvent[] = [];
    projector.on('failed', (f: ProjectionFailureEvent) => failures.push(f));
    const models = elsewhere(['counter', 'fragile', 'other']);

    // The others are at the head, past the poisoned event; read-your-writes does not wait for the failed one.
    const { position } = await events.append('s-0', [event()]);
    await new ReadModels(reads, events, ['counter', 'fragile', 'other'], projector).waitFor(position, 10_000);
    await models.waitFor(position, 10_000);
    expect(await info(models, 'counter')).toMatchObject({ status: 'live', checkpoint: position, lag: 0 });
    expect(await info(models, 'other')).toMatchObject({ status: 'live', checkpoint: position });
    expect(await countOf(models, 'counter', 's-0')).toBe(5);

    await until('5 failed attempts', async () => failures.length >= 5);
    const failed = await info(models, 'fragile');
    expect(failed).toMatchObject({
      status: 'failed',
      failure: {
        eventId: poison.eventId,
        eventType: 'Happened',
        position: poison.globalPosition,
        error: `cannot project ${poison.eventId}: the amount is missing`,
        attempts: expect.any(Number),
      },
    });
    // Its checkpoint stops before the event, and nothing of the failed page is in its collection.
    expect(failed.checkpoint).toBeLessThan(poison.globalPosition);
    const before = (await events.readAll({ fromPosition: 0, maxCount: 100 })).events.filter(
      (e) => e.streamId === poison.streamId && e.globalPosition <= failed.checkpoint,
    );
    expect(await countOf(models, 'fragile', poison.streamId)).toBe(before.length || undefined);

    // Each attempt was made once its time had come, and the delays double up to the cap.
    const delays = failures.slice(0, 5).map(({ failure }) => Date.parse(failure.nextRetryAt) - Date.parse(failure.lastFailedAt));
    expect(delays).toEqual([40, 80, 160, 160, 160]);
    expect(failures.slice(0, 5).map(({ failure }) => failure.attempts)).toEqual([1, 2, 3, 4, 5]);
    for (let i = 1; i < 5; i++)
      expect(Date.parse(failures[i].failure.lastFailedAt)).toBeGreaterThanOrEqual(Date.parse(failures[i - 1].failure.nextRetryAt) - 5);
    expect(new Set(failures.map(({ failure }) => failure.firstFailedAt)).size).toBe(1);
    expect(failures.every((f) => f.projection === 'fragile' && f.role === 'live' && f.failure.eventId === poison.eventId)).toBe(true);
  });

  it('a passing error recovers by itself: the event is applied once, and the failure is gone', async () => {
    const poison = await history();
    const projector = await started(
      new Projector(events, reads, [counter('counter'), fragile((_, attempt) => attempt <= 2)], {
        batchSize: 4,
        failureRetry: { initialMs: 20, maxMs: 100 },
      }),
    );
    const recovered = new Promise<ProjectionFailureEvent>((resolve) => projector.on('recovered', resolve));
    const models = elsewhere(['counter', 'fragile']);
    expect((await recovered).failure).toMatchObject({ eventId: poison.eventId, attempts: 2 });
    const head = await events.headPosition();
    await until('fragile at the head', async () => (await info(models, 'fragile')).checkpoint === head);
    const live = await info(models, 'fragile');
    expect(live.status).toBe('live');
    expect(live.failure).toBeUndefined();
    for (const stream of ['s-0', 's-1', 's-2'])
      expect(await countOf(models, 'fragile', stream)).toBe(await countOf(models, 'counter', stream));
  });

  it('a lookup the store fails is no projection’s failure: the page is read again for all of them', async () => {
    for (let i = 0; i < 6; i++) await events.append(`s-${i % 2}`, [event()]);
    const first = await started(new Projector(events, reads, [counter('counter'), counter('other')], { batchSize: 4 }));
    const models = elsewhere(['counter', 'other']);
    await models.waitFor(await events.headPosition(), 10_000);
    await first.stop();
    // A restarted projector has nothing cached: the next event's document is looked up, and that fails once.
    const gated = new GatedStore(reads);
    gated.failLookups = 1;
    const { position } = await events.append('s-0', [event()]);
    const second = new Projector(events, gated, [counter('counter'), counter('other')], { batchSize: 4 });
    const failures: ProjectionFailureEvent[] = [];
    second.on('failed', (f: ProjectionFailureEvent) => failures.push(f));
    await started(second);
    await models.waitFor(position, 10_000);
    expect(gated.failLookups).toBe(0);
    expect(failures).toEqual([]);
    expect((await models.info()).map((p) => [p.name, p.status, p.failure])).toEqual([
      ['counter', 'live', undefined],
      ['other', 'live', undefined],
    ]);
    expect([await countOf(models, 'counter', 's-0'), await countOf(models, 'other', 's-0')]).toEqual([4, 4]);
  });

  it('a document put without an id fails its projection alone, not the commit of every projection', async () => {
    for (let i = 0; i < 4; i++) await events.append(`s-${i}`, [event()]);
    const careless: Projection = {
      name: 'careless',
      version: 1,
      collections: ['docs'],
      apply: (e, ctx) => ctx.put('docs', { _id: (e.data as { id?: string }).id as string }),
    };
    await started(new Projector(events, reads, [counter('counter'), careless], { failureRetry: NO_RETRY_BY_ITSELF }));
    const models = elsewhere(['counter', 'careless']);
    const failed = await until('careless failed', async () => (await info(models, 'careless')).failure);
    const [first] = (await events.readAll({ fromPosition: 0, maxCount: 1 })).events;
    expect(failed).toMatchObject({
      position: first.globalPosition,
      error: 'docs: a document id must be a non-empty string, not undefined',
    });
    const head = await events.headPosition();
    await models.waitFor(head, 10_000);
    expect(await info(models, 'counter')).toMatchObject({ status: 'live', checkpoint: head });
  });

  it('an operator’s skip, asked through another process, passes over that event only, with who and why; one naming another event is refused', async () => {
    const poison = await history();
    const projector = await started(
      new Projector(events, reads, [counter('counter'), fragile(() => true)], { batchSize: 4, failureRetry: NO_RETRY_BY_ITSELF }),
    );
    const models = elsewhere(['counter', 'fragile']);
    await until('fragile failed', async () => (await info(models, 'fragile')).failure);

    await expect(models.requestFailureAction('fragile', 'skip', 'ops-1', { eventId: randomUUID(), reason: 'typo' })).rejects.toThrow(
      FailureRequestRefused,
    );
    await expect(models.requestFailureAction('fragile', 'skip', 'ops-1', { eventId: 'other', reason: 'typo' })).rejects.toThrow(
      `projection:fragile is stopped on event ${poison.eventId} (Happened at position ${poison.globalPosition}), not on other: only the event it is stopped on may be skipped`,
    );
    await expect(models.requestFailureAction('counter', 'retry', 'ops-1')).rejects.toThrow(
      'projection:counter is not stopped on any event: there is nothing to retry',
    );

    await models.requestFailureAction('fragile', 'skip', 'ops-1', {
      eventId: poison.eventId,
      reason: 'amount missing at the source; corrected by a later event',
    });
    const head = await events.headPosition();
    const skippedInfo = await until('fragile live at the head', async () => {
      const i = await info(models, 'fragile');
      return i.status === 'live' && i.checkpoint === head && i;
    });
    expect(skippedInfo.failure).toBeUndefined();
    expect(skippedInfo.skipped).toEqual([
      {
        eventId: poison.eventId,
        eventType: 'Happened',
        position: poison.globalPosition,
        error: `cannot project ${poison.eventId}: the amount is missing`,
        reason: 'amount missing at the source; corrected by a later event',
        skippedBy: 'ops-1',
        skippedAt: expect.any(String),
        version: 1,
      },
    ]);
    // Every event but the skipped one is counted, once.
    expect(await countOf(models, 'fragile', poison.streamId)).toBe((await countOf(models, 'counter', poison.streamId))! - 1);
    expect((await reads.collection('_projections').find({ _id: { $regex: '~skip$' } })).length).toBe(0);

    // Another poisoned event stops it again: the skip was for that one event only.
    const { position } = await events.append('s-1', [event({ poison: true })]);
    const again = await until('failed again', async () => (await info(models, 'fragile')).failure);
    expect(again).toMatchObject({ position, attempts: 1 });

    // A new projector on the same stores (a restart) keeps the skip and the failure.
    await projector.stop();
    await started(
      new Projector(events, reads, [counter('counter'), fragile(() => true)], { batchSize: 4, failureRetry: NO_RETRY_BY_ITSELF }),
    );
    const restarted = await info(models, 'fragile');
    expect(restarted).toMatchObject({ status: 'failed', failure: { position, attempts: 1 }, skipped: [{ eventId: poison.eventId }] });
  });

  it('an operator’s retry attempts the event at once, without waiting for the backoff (after a fix, say)', async () => {
    const poison = await history();
    let fixed = false;
    const projector = await started(
      new Projector(events, reads, [counter('counter'), fragile(() => !fixed)], { batchSize: 4, failureRetry: NO_RETRY_BY_ITSELF }),
    );
    const models = new ReadModels(reads, events, ['counter', 'fragile'], projector, 0);
    await until('fragile failed', async () => (await info(models, 'fragile')).failure);
    fixed = true;
    await models.requestFailureAction('fragile', 'retry', 'ops-2');
    const head = await events.headPosition();
    await until('fragile live at the head', async () => {
      const i = await info(models, 'fragile');
      return i.status === 'live' && i.checkpoint === head;
    });
    expect(await countOf(models, 'fragile', poison.streamId)).toBe(await countOf(models, 'counter', poison.streamId));
    expect((await info(models, 'fragile')).skipped).toBeUndefined();
  });

  it('in a cluster the failure is shared: the next holder shows it and waits, and a skip asked through any process reaches it', async () => {
    const poison = await history();
    const options = { batchSize: 4, failureRetry: NO_RETRY_BY_ITSELF };
    const fence = (name: string, token: number) => ({ role: projectionRole(name), token, valid: () => true });
    const a = new Projector(events, reads, [counter('counter'), fragile(() => true)], options);
    const b = new Projector(events, reads, [counter('counter'), fragile(() => true)], options);
    projectors.push(a, b);
    await a.startCoordinated(() => undefined);
    await b.startCoordinated(() => undefined);
    const models = elsewhere(['counter', 'fragile']);
    await a.runner('counter').start(fence('counter', 1));
    await a.runner('fragile').start(fence('fragile', 1));
    const failure = await until('fragile failed', async () => (await info(models, 'fragile')).failure);

    // The role moves to B (A shut down, say): B shows the same failure and waits for its next attempt.
    await a.runner('fragile').stop();
    await b.runner('fragile').start(fence('fragile', 2));
    expect(b.works('fragile')).toBe(true);
    expect(await info(models, 'fragile')).toMatchObject({ status: 'failed', failure });

    // The skip is asked through a process that works nothing: B takes it (polled), and records it under its token.
    await models.requestFailureAction('fragile', 'skip', 'ops-3', { eventId: poison.eventId, reason: 'known bad import' });
    const head = await events.headPosition();
    await until('fragile live at the head', async () => {
      const i = await info(models, 'fragile');
      return i.status === 'live' && i.checkpoint === head;
    });
    const status = (await reads.collection('_projections').findById('fragile'))!;
    expect(status).toMatchObject({ token: 2, skipped: [{ eventId: poison.eventId, skippedBy: 'ops-3', reason: 'known bad import' }] });
    expect(status.failure).toBeUndefined();
  });

  it('a rebuild (a new version) that throws on an old event waits there while the old generation serves, and swaps in once the event is skipped', async () => {
    const poison = await history();
    const v1 = await started(new Projector(events, reads, [fragile(() => false)], { batchSize: 4 }));
    const models = elsewhere(['fragile']);
    await models.waitFor(await events.headPosition(), 10_000);
    await v1.stop();

    const v2 = await started(new Projector(events, reads, [fragile(() => true, 2)], { batchSize: 4, failureRetry: NO_RETRY_BY_ITSELF }));
    const building = await until('the rebuild failed', async () => {
      const i = await info(models, 'fragile');
      return i.rebuild?.failure && i;
    });
    // Generation 1 serves meanwhile and is still live itself.
    expect(building).toMatchObject({
      status: 'failed',
      generation: 1,
      rebuild: { generation: 2, version: 2, failure: { eventId: poison.eventId, attempts: 1 } },
    });
    expect(building.failure).toBeUndefined();
    const swapped = new Promise<void>((resolve) => v2.on('rebuild', (p) => p.done && resolve()));
    await models.requestFailureAction('fragile', 'skip', 'ops-4', { eventId: poison.eventId, reason: 'v2 cannot read v1 imports' });
    await swapped;
    const live = await info(models, 'fragile');
    expect(live).toMatchObject({
      status: 'live',
      generation: 2,
      version: 2,
      skipped: [{ eventId: poison.eventId, version: 2, skippedBy: 'ops-4' }],
    });
    expect(live.rebuild).toBeUndefined();
  });
});
