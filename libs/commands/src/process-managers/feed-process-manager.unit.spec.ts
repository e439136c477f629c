import { randomUUID } from 'node:crypto';
import { SqliteEventStore } from '@chronicle/event-store';
import type { EventStore, RecordedEvent } from '@chronicle/event-store';
import { CheckpointStore, Fence, SqliteStateStore } from '@chronicle/cluster';
import { FeedProcessManager } from './feed-process-manager';

/** Counts LeadCaptured events; the first attempt at the 3rd one fails like a lost connection would. */
class Counting extends FeedProcessManager {
  readonly checkpointName = 'process-manager:test';
  readonly eventTypes = ['LeadCaptured'];
  protected override readonly folds = true;
  seen: string[] = [];
  folded = 0;
  failures = 0;

  constructor(store: EventStore, checkpoints: CheckpointStore) {
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
    { eventId: randomUUID(), type: 'LeadCaptured', data: { leadId }, metadata: { occurredAt: new Date().toISOString(), actor: 't', correlationId: 'c', causationId: 'c' } },
  ]);

describe('feed process manager', () => {
  it('restarts from its checkpoint after a failure that is not a domain refusal, instead of stopping for good', async () => {
    const store = new SqliteEventStore({ filename: ':memory:', pollIntervalMs: 20 });
    const checkpoints = new SqliteStateStore(':memory:');
    for (const id of ['a', 'b', 'c', 'd']) await capture(store, id);
    const pm = new Counting(store, checkpoints);
    await pm.onModuleInit();
    await pm.caughtUp(5000);
    // The failed page was handled again from the checkpoint (0: it was the first page).
    expect(pm.failures).toBe(1);
    expect(pm.seen).toEqual(['a', 'b', 'c', 'd']);
    await capture(store, 'e');
    await pm.caughtUp(5000);
    expect(pm.seen).toEqual(['a', 'b', 'c', 'd', 'e']);
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
    expect(await checkpoints.checkpoints()).toEqual([expect.objectContaining({ name: 'process-manager:test', token: 2, position: await store.headPosition() })]);

    await second.onModuleDestroy();
    await first.onModuleDestroy();
    await store.close();
    await checkpoints.close();
  });
});
