import { randomUUID } from 'node:crypto';
import type { CheckpointStore, Fence, RoleRunner } from '@chronicle/cluster';
import { FencedError } from '@chronicle/cluster';
import type { EventFilter, EventStore, RecordedEvent } from '@chronicle/event-store';
import { toEnvelope } from '@chronicle/messaging';
import { post, PostResult } from './sender';
import { SIGNATURE_HEADER, signature } from './signature';
import type { WebhookUrlPolicy } from './url-policy';
import type { WebhookStore, WebhookSubscription } from './webhook-store';

/** The role that delivers every subscription: one holder in the cluster, the others stand by. */
export const WEBHOOKS_ROLE = 'webhooks';
/** Each subscription's position in the feed: a fenced checkpoint of the state store. */
export const webhookCheckpoint = (subscriptionId: string) => `webhook:${subscriptionId}`;

export type DeliveryLogLevel = 'debug' | 'info' | 'warn' | 'error';

export interface WebhookDeliveryOptions {
  policy: WebhookUrlPolicy;
  /** Attempts at a batch before it becomes a dead letter. */
  maxAttempts: number;
  /** The wait after a failed attempt doubles from this… */
  retryBaseMs: number;
  /** …up to this; each wait is drawn between half and all of it (jitter), so receivers are not hit in step. */
  retryMaxMs: number;
  timeoutMs: number;
  /** Events per POST, at most. */
  batchSize: number;
  /** How often the subscriptions are read again, and an idle one looks for new events (default 500 ms). */
  pollMs?: number;
  log?(level: DeliveryLogLevel, message: string): void;
  /** For the jitter (tests pass a fixed one). */
  random?: () => number;
}

/** The body of every delivery (docs/webhooks.md). */
export interface DeliveryBody {
  subscriptionId: string;
  /** The same on every attempt at this batch. */
  deliveryId: string;
  /** Envelopes (version 1, as on Kafka), in global order. */
  events: ReturnType<typeof toEnvelope>[];
}

/** What this process delivered, per subscription, since it took the role (for /metrics). */
export interface DeliveryCounters {
  delivered: number;
  failedAttempts: number;
  deadLetters: number;
}

const filterOf = (s: WebhookSubscription): EventFilter | undefined =>
  s.eventTypes || s.categories
    ? { ...(s.eventTypes && { types: s.eventTypes }), ...(s.categories && { categories: s.categories }) }
    : undefined;

/**
 * Delivers every webhook subscription, as the `webhooks` role of the background consumers. Each
 * subscription has a loop of its own: it reads the feed after its checkpoint, POSTs a batch until
 * the receiver answers 2xx (retrying with exponential backoff and jitter, up to `maxAttempts`,
 * after which the batch goes to the subscription's dead letters), then saves the checkpoint, fenced
 * by the role's lease. So delivery is at least once and in global order (hence in order per stream);
 * a slow or failing receiver holds back its own subscription only. A crash between a receiver's 2xx
 * and the checkpoint means that batch is delivered again by the next holder.
 */
export class WebhookDelivery {
  readonly runner: RoleRunner = { start: (lease) => this.start(lease), stop: () => this.stop() };
  /** Called when another process has taken the role (a fenced save): the caller gives the role up. */
  onLost?: (reason: string) => void;
  readonly counters = new Map<string, DeliveryCounters>();
  private readonly loops = new Map<string, SubscriptionLoop>();
  private fence?: Fence;
  private timer?: NodeJS.Timeout;
  private syncing?: Promise<void>;
  private readonly pollMs: number;

  constructor(
    private readonly events: EventStore,
    private readonly checkpoints: CheckpointStore,
    private readonly store: WebhookStore,
    private readonly options: WebhookDeliveryOptions,
  ) {
    this.pollMs = options.pollMs ?? 500;
  }

  get running(): boolean {
    return this.fence !== undefined;
  }

  async start(fence: Fence): Promise<void> {
    if (this.fence) return;
    this.fence = fence;
    // Checkpoints of subscriptions deleted while no process held the role.
    const ids = new Set((await this.store.list()).map((s) => s.id));
    for (const c of await this.checkpoints.checkpoints())
      if (c.name.startsWith('webhook:') && !ids.has(c.name.slice('webhook:'.length))) await this.checkpoints.removeCheckpoint(c.name);
    await this.sync();
    this.timer = setInterval(() => void this.sync(), this.pollMs);
    this.log('info', `delivering ${this.loops.size} webhook subscription(s)${fence.token ? ` (lease token ${fence.token})` : ''}`);
  }

  async stop(): Promise<void> {
    if (!this.fence) return;
    clearInterval(this.timer);
    await this.syncing;
    await Promise.all([...this.loops.values()].map((loop) => loop.stop()));
    this.loops.clear();
    this.fence = undefined;
  }

  /** Starts a loop for each new subscription, hands changes to the others, and ends those deleted. */
  private sync(): Promise<void> {
    this.syncing ??= (async () => {
      try {
        const fence = this.fence;
        if (!fence) return;
        const subscriptions = await this.store.list();
        const ids = new Set(subscriptions.map((s) => s.id));
        for (const subscription of subscriptions) {
          const loop = this.loops.get(subscription.id);
          if (loop) loop.update(subscription);
          else this.loops.set(subscription.id, new SubscriptionLoop(subscription, fence, this));
        }
        for (const [id, loop] of this.loops) {
          if (ids.has(id)) continue;
          await loop.stop();
          this.loops.delete(id);
          this.counters.delete(id);
          await this.checkpoints.removeCheckpoint(webhookCheckpoint(id));
          this.log('info', `webhook ${id} deleted: its delivery stopped`);
        }
      } catch (error) {
        this.log('warn', `reading the webhook subscriptions failed (tried again in ${this.pollMs} ms): ${(error as Error).message}`);
      } finally {
        this.syncing = undefined;
      }
    })();
    return this.syncing;
  }

  /** @internal the loops' access to what they share. */
  get deps() {
    return { events: this.events, checkpoints: this.checkpoints, store: this.store, options: this.options, pollMs: this.pollMs };
  }

  /** @internal */
  countersOf(id: string): DeliveryCounters {
    let c = this.counters.get(id);
    if (!c) this.counters.set(id, (c = { delivered: 0, failedAttempts: 0, deadLetters: 0 }));
    return c;
  }

  /** @internal */
  lost(reason: string): void {
    this.log('warn', `the webhooks role was taken over: ${reason}`);
    this.onLost?.(reason);
  }

  /** @internal */
  log(level: DeliveryLogLevel, message: string): void {
    this.options.log?.(level, message);
  }
}

/** One subscription's delivery loop. */
class SubscriptionLoop {
  private stopped = false;
  private readonly abort = new AbortController();
  private wake?: () => void;
  private readonly done: Promise<void>;

  constructor(
    private subscription: WebhookSubscription,
    private readonly fence: Fence,
    private readonly owner: WebhookDelivery,
  ) {
    this.done = this.run();
  }

  update(subscription: WebhookSubscription): void {
    const before = this.subscription;
    this.subscription = subscription;
    if (before.status !== subscription.status || subscription.replay?.requestedAt !== before.replay?.requestedAt) this.wake?.();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.abort.abort();
    this.wake?.();
    await this.done;
  }

  /** Waits `ms`, or less when stopped or woken (a pause, a resume, a replay). */
  private sleep(ms: number): Promise<void> {
    if (this.stopped) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.wake = undefined;
        resolve();
      }, ms);
      this.wake = () => {
        clearTimeout(timer);
        this.wake = undefined;
        resolve();
      };
    });
  }

  private async run(): Promise<void> {
    let failures = 0;
    while (!this.stopped) {
      try {
        await this.work();
        return;
      } catch (error) {
        if (this.stopped) return;
        if (error instanceof FencedError) return this.owner.lost(error.message);
        failures++;
        const wait = Math.min(30_000, 1_000 * 2 ** Math.min(failures, 5));
        this.owner.log(
          'warn',
          `webhook ${this.subscription.id}: ${(error as Error).message} (its delivery resumes from the checkpoint in ${wait} ms)`,
        );
        await this.sleep(wait);
      }
    }
  }

  private async work(): Promise<void> {
    const { events, checkpoints, store, options, pollMs } = this.owner.deps;
    const id = this.subscription.id;
    const name = webhookCheckpoint(id);
    let position = await checkpoints.claim(name, this.fence);
    while (!this.stopped) {
      const subscription = this.subscription;
      if (subscription.replay) {
        const { fromPosition, requestedAt } = subscription.replay;
        position = fromPosition;
        await checkpoints.save(name, position, this.fence);
        await store.clearReplay(id, requestedAt);
        // A newer request, if any, comes with the next read of the subscriptions.
        this.subscription = { ...subscription, replay: undefined };
        this.owner.log('info', `webhook ${id}: replaying from position ${fromPosition}`);
        continue;
      }
      if (subscription.status === 'paused') {
        await this.sleep(pollMs);
        continue;
      }
      const page = await events.readAll({ fromPosition: position, maxCount: options.batchSize, filter: filterOf(subscription) });
      if (page.events.length === 0) {
        // Nothing for this subscription up to the head: remember how far the scan went.
        if (page.checkpoint > position) await checkpoints.save(name, (position = page.checkpoint), this.fence);
        await this.sleep(pollMs);
        continue;
      }
      const outcome = await this.deliver(page.events);
      if (outcome === 'stopped') return;
      if (outcome === 'interrupted') continue;
      await checkpoints.save(name, (position = page.checkpoint), this.fence);
    }
  }

  /** POSTs one batch until a 2xx or the last attempt (then a dead letter); 'interrupted' by a pause or a replay. */
  private async deliver(batch: RecordedEvent[]): Promise<'delivered' | 'dead-lettered' | 'interrupted' | 'stopped'> {
    const { store, options } = this.owner.deps;
    const id = this.subscription.id;
    const counters = this.owner.countersOf(id);
    const deliveryId = randomUUID();
    const envelopes = batch.map(toEnvelope);
    const body = JSON.stringify({ subscriptionId: id, deliveryId, events: envelopes } satisfies DeliveryBody);
    const range = `${batch[0].globalPosition}–${batch[batch.length - 1].globalPosition}`;
    for (let attempt = 1; ; attempt++) {
      const { url, secret } = this.subscription;
      const result: PostResult = await post(
        url,
        body,
        {
          [SIGNATURE_HEADER]: signature(secret, body, Math.floor(Date.now() / 1000)),
          'chronicle-delivery-id': deliveryId,
          'chronicle-delivery-attempt': String(attempt),
          'chronicle-subscription-id': id,
          'user-agent': 'Chronicle-Webhooks/1',
        },
        { timeoutMs: options.timeoutMs, policy: options.policy, signal: this.abort.signal },
      );
      if (this.stopped) return 'stopped';
      if (result.ok) {
        counters.delivered += batch.length;
        return 'delivered';
      }
      counters.failedAttempts++;
      this.owner.log('warn', `webhook ${id}: attempt ${attempt}/${options.maxAttempts} at positions ${range} failed: ${result.error}`);
      if (attempt >= options.maxAttempts) {
        await store.addDeadLetter({
          id: randomUUID(),
          subscriptionId: id,
          events: envelopes,
          fromPosition: batch[0].globalPosition,
          toPosition: batch[batch.length - 1].globalPosition,
          attempts: attempt,
          ...(result.status !== undefined && { lastStatus: result.status }),
          lastError: result.error ?? 'failed',
          failedAt: new Date().toISOString(),
        });
        counters.deadLetters++;
        this.owner.log('warn', `webhook ${id}: positions ${range} moved to the dead letters after ${attempt} attempts`);
        return 'dead-lettered';
      }
      const ceiling = Math.min(options.retryMaxMs, options.retryBaseMs * 2 ** (attempt - 1));
      await this.sleep(ceiling / 2 + (ceiling / 2) * (options.random ?? Math.random)());
      if (this.stopped) return 'stopped';
      if (this.subscription.status === 'paused' || this.subscription.replay) return 'interrupted';
    }
  }
}
