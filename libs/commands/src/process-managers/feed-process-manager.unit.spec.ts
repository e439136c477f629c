import { randomUUID } from 'node:crypto';
import { SqliteEventStore } from '@chronicle/event-store';
import type { EventStore, RecordedEvent } from '@chronicle/event-store';
import { CheckpointRecord, FailureRequest, Fence, SqliteStateStore } from '@chronicle/cluster';
import { FeedProcessManager, ProcessManagerState } from './feed-process-manager';

/** Counts LeadCaptured events; the first attempt at the 3rd one fails like a lost connection would. */
class Counting extends FeedProcessManager {
  readonly checkpointName = 'process-manager:test';
  readonly eventTypes = ['LeadCaptured'];
  protected override readonly folds = true;
  seen: string[] = [];
  folded = 0;
  failures = 0;

  constructor(store: EventStore, checkpoints: ProcessManagerState) {
    super(store, checkpoints, true);
  }

  protected override reset(): void {
    this.seen = [];
  }

  protected async handle(event: RecordedEvent, live: boolean): Promise<void> {
    if (!live) {
      this.folded++;
      return;
    }
    if (this.seen.length === 2 && this.failures === 0) {
      this.failures++;
      throw new Error('connection reset');
    }
    this.seen.push((event.data as { leadId: string }).leadId);
  }
}

const capture = (store: EventStore, leadId: string) =>
  store.append(`lead-${leadId}`, [
    {
      eventId: randomUUID(),
      type: 'LeadCaptured',
      data: { leadId },
      metadata: { occurredAt: new Date().toISOString(), actor: 't', correlationId: 'c', causationId: 'c' },
    },
  ]);

describe('feed process manager', () => {
  it('restarts from its checkpoint after a failure that is not a domain refusal, instead of stopping for good', async () => {
    const store = new SqliteEventStore({ filename: ':memory:', pollIntervalMs: 20 });
    const checkpoints = new SqliteStateStore(':memory:');
    for (const id of ['a', 'b', 'c', 'd']) await capture(store, id);
    const pm = new Counting(store, checkpoints);
    await pm.onModuleInit();
    await pm.caughtUp(5000);
    // It went on from the checkpoint saved just before the failed event: a and b were folded again
    // (state only, no second reaction), c was reacted to again.
    expect(pm.failures).toBe(1);
    expect([pm.folded, pm.seen]).toEqual([2, ['c', 'd']]);
    await capture(store, 'e');
    await pm.caughtUp(5000);
    expect(pm.seen).toEqual(['c', 'd', 'e']);
    await pm.onModuleDestroy();

    // A new instance folds the history up to the saved checkpoint without reacting, then goes on live.
    await capture(store, 'f');
    const next = new Counting(store, checkpoints);
    await next.onModuleInit();
    await next.caughtUp(5000);
    expect([next.folded, next.seen]).toEqual([5, ['f']]);
    await next.onModuleDestroy();
    await store.close();
    await checkpoints.close();
  });

  it('under a lease: once the lease lapses it reacts no more, and a newer holder fences its checkpoint', async () => {
    const store = new SqliteEventStore({ filename: ':memory:', pollIntervalMs: 20 });
    const checkpoints = new SqliteStateStore(':memory:');
    const lease = (token: number) => {
      const fence = { role: 'process-manager:test', token, valid: () => fence.isValid, isValid: true };
      return fence satisfies Fence;
    };
    for (const id of ['a', 'b']) await capture(store, id);
    const first = new Counting(store, checkpoints);
    first.failures = 1; // no simulated failure here
    const firstLease = lease(1);
    await first.runner.start(firstLease);
    await first.caughtUp(5000);
    expect(first.seen).toEqual(['a', 'b']);

    // Its lease lapses (a long pause, say) and another process takes the role over with token 2.
    firstLease.isValid = false;
    const second = new Counting(store, checkpoints);
    second.failures = 1;
    await second.runner.start(lease(2));
    await capture(store, 'c');
    await second.caughtUp(5000);
    expect(second.seen).toEqual(['c']); // folded a and b from the checkpoint the first one saved
    await new Promise((r) => setTimeout(r, 100));
    expect(first.seen).toEqual(['a', 'b']); // no reaction without a valid lease
    expect(first.isRunning).toBe(false);

    // A holder that still believes its lease valid: its save is refused by the fence, and it stops.
    const stale = new Counting(store, checkpoints);
    stale.failures = 1;
    await expect(stale.runner.start(lease(1))).rejects.toThrow(/fenced/);
    expect(await checkpoints.checkpoints()).toEqual([
      expect.objectContaining({ name: 'process-manager:test', token: 2, position: await store.headPosition() }),
    ]);

    await second.onModuleDestroy();
    await first.onModuleDestroy();
    await store.close();
    await checkpoints.close();
  });
});

/** Reacts to LeadCaptured, and throws on the lead named 'bad' while `broken`: a reaction whose command keeps failing. */
class Poisoned extends FeedProcessManager {
  readonly eventTypes = ['LeadCaptured'];
  protected override readonly failureRetry;
  protected override readonly requestPollMs = 20;
  seen: string[] = [];
  broken = true;

  constructor(
    store: EventStore,
    checkpoints: ProcessManagerState,
    readonly checkpointName: string,
    retry: { initialMs: number; maxMs: number },
  ) {
    super(store, checkpoints, true);
    this.failureRetry = retry;
  }

  protected async handle(event: RecordedEvent): Promise<void> {
    const { leadId } = event.data as { leadId: string };
    if (leadId === 'bad' && this.broken) throw new Error('the assignment service answered 500');
    this.seen.push(leadId);
  }
}

describe('feed process manager stopped on an event', () => {
  let store: SqliteEventStore;
  let state: SqliteStateStore;
  const managers: FeedProcessManager[] = [];
  beforeEach(() => {
    store = new SqliteEventStore({ filename: ':memory:', pollIntervalMs: 20 });
    state = new SqliteStateStore(':memory:');
  });
  afterEach(async () => {
    for (const m of managers.splice(0)) await m.onModuleDestroy();
    await store.close();
    await state.close();
  });

  const recordOf = async (name: string): Promise<CheckpointRecord | undefined> => (await state.checkpoints()).find((c) => c.name === name);
  async function until<T>(what: string, check: () => Promise<T | undefined | false>, timeoutMs = 20_000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const value = await check();
      if (value) return value;
      if (Date.now() > deadline) throw new Error(`not reached in ${timeoutMs} ms: ${what}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  }
  const request = (role: string, action: FailureRequest['action'], extra: Partial<FailureRequest> = {}): FailureRequest => ({
    id: randomUUID(),
    role,
    action,
    requestedBy: 'ops',
    requestedAt: new Date().toISOString(),
    ...extra,
  });

  it('stops alone on the event, saved with its checkpoint just before it; tries again with a growing delay; a skip passes over that event only, with who and why', async () => {
    for (const id of ['a', 'b', 'bad', 'c']) await capture(store, id);
    const [, b, bad] = (await store.readAll({ fromPosition: 0, maxCount: 10 })).events;
    const poisoned = new Poisoned(store, state, 'process-manager:poisoned', { initialMs: 30, maxMs: 120 });
    const other = new Counting(store, state);
    other.failures = 1; // no simulated failure in this one
    managers.push(poisoned, other);
    await poisoned.onModuleInit();
    await other.onModuleInit();

    // The other manager is not held up.
    await other.caughtUp(10_000);
    expect(other.seen).toEqual(['a', 'b', 'bad', 'c']);

    const failed = await until('four attempts', async () => {
      const r = await recordOf('process-manager:poisoned');
      return r?.failure && r.failure.attempts >= 4 && r;
    });
    expect(failed).toMatchObject({
      position: b.globalPosition,
      failure: {
        eventId: bad.eventId,
        eventType: 'LeadCaptured',
        position: bad.globalPosition,
        error: 'the assignment service answered 500',
      },
    });
    expect(Date.parse(failed.failure!.nextRetryAt) - Date.parse(failed.failure!.lastFailedAt)).toBe(120); // 30, 60, 120, then the cap
    expect(poisoned.seen.filter((id) => id === 'c')).toEqual([]);
    expect(poisoned.stoppedOn?.eventId).toBe(bad.eventId);

    // A skip of another event is dropped; one of the event it is stopped on is taken.
    await state.leaveRequest(request('process-manager:poisoned', 'skip', { eventId: 'not-that-one', reason: 'typo' }));
    await until('the stale skip dropped', async () => (await state.requests('process-manager:poisoned')).length === 0);
    expect((await recordOf('process-manager:poisoned'))?.failure?.eventId).toBe(bad.eventId);
    await state.leaveRequest(
      request('process-manager:poisoned', 'skip', { eventId: bad.eventId, reason: 'lead deleted upstream', requestedBy: 'ops-1' }),
    );
    await poisoned.caughtUp(10_000);
    expect(poisoned.seen.filter((id) => id !== 'a' && id !== 'b')).toEqual(['c']);
    const after = (await recordOf('process-manager:poisoned'))!;
    expect(after.failure).toBeUndefined();
    expect(after.position).toBe(await store.headPosition());
    expect(after.skipped).toEqual([
      {
        eventId: bad.eventId,
        eventType: 'LeadCaptured',
        position: bad.globalPosition,
        error: 'the assignment service answered 500',
        reason: 'lead deleted upstream',
        skippedBy: 'ops-1',
        skippedAt: expect.any(String),
      },
    ]);
    expect(poisoned.stoppedOn).toBeUndefined();
  });

  it('the next holder of its role honours the failure (it waits) and attempts the event at once on an operator’s retry', async () => {
    for (const id of ['a', 'bad', 'c']) await capture(store, id);
    const role = 'process-manager:poisoned';
    const noRetry = { initialMs: 600_000, maxMs: 600_000 };
    const lease = (token: number): Fence => ({ role, token, valid: () => true });
    const first = new Poisoned(store, state, role, noRetry);
    managers.push(first);
    await first.runner.start(lease(1));
    const failure = await until('failed', async () => (await recordOf(role))?.failure);
    await first.runner.stop();

    const second = new Poisoned(store, state, role, noRetry);
    managers.push(second);
    await second.runner.start(lease(2));
    await until('the failure taken over', async () => second.stoppedOn);
    expect(second.stoppedOn).toEqual(failure); // waiting: no new attempt, none counted
    expect(second.seen).toEqual([]);

    second.broken = false; // fixed (the service is back)
    await state.leaveRequest(request(role, 'retry'));
    await second.caughtUp(10_000);
    expect(second.seen).toEqual(['bad', 'c']);
    expect(await recordOf(role)).toMatchObject({ token: 2, position: await store.headPosition() });
    expect((await recordOf(role))?.failure).toBeUndefined();
  });
});
