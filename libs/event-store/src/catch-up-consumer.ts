import { EventEmitter } from 'node:events';
import type { EventFilter, EventStore, FeedPage, Subscription } from './event-store';

export type ConsumerLogLevel = 'debug' | 'info' | 'warn' | 'error';

/** What to do after `handle` (or reading the feed) failed. */
export type FailureAction =
  /** Resubscribe from the checkpoint after a backoff (a store or broker unreachable). */
  | 'retry'
  /** Resubscribe from the checkpoint at once (the consumer's own state changed, e.g. a role left). */
  | 'restart'
  /** Stop for good (the lease is lost: another process consumes now). */
  | 'stop';

export interface CatchUpConsumerOptions<Unit> {
  /** For log lines. */
  name: string;
  store: EventStore;
  filter?: EventFilter;
  /** Events per page (default 1,000). */
  batchSize?: number;
  /** The position to continue after, read at every (re)start: the stored checkpoint. */
  checkpoint(): Promise<number> | number;
  /**
   * Turns a page into what `handle` takes. When given, the next page is read and prepared while
   * `handle` works on this one (the relay serialises page N+1 while page N is on the wire).
   */
  prepare?(page: FeedPage): Unit;
  /** Handles one page and stores its effects with the checkpoint (fenced, where there is a lease). */
  handle(unit: Unit, page: FeedPage): Promise<void>;
  /** After a failure, before resubscribing: forget whatever was not stored. */
  reset?(error: unknown): void | Promise<void>;
  /** Default: 'retry'. */
  onFailure?(error: unknown): FailureAction;
  /** Backoff between retries: doubles from `initialMs` up to `maxMs`, with ±20 % jitter. */
  retry?: { initialMs: number; maxMs: number };
  log?(level: ConsumerLogLevel, message: string): void;
}

export type ConsumerState = 'stopped' | 'starting' | 'running' | 'retrying';

/**
 * The one catch-up loop of every consumer of the global feed (the projector, the process managers,
 * the relay): subscribe from the stored checkpoint, hand each page to `handle` in order, and on a
 * failure forget what was not stored, back off and resubscribe from the checkpoint — so an event is
 * handled again after a failure, never skipped. `stop()` ends it after the page under way.
 * Emits 'page' (FeedPage) after each handled page and 'failed' (error) after each failure.
 */
export class CatchUpConsumer<Unit = FeedPage> extends EventEmitter {
  private loop?: Promise<void>;
  private subscription?: Subscription;
  private stopping = false;
  private restarting = false;
  private wake?: () => void;
  private current: ConsumerState = 'stopped';
  private failuresInARow = 0;
  private failures = 0;
  private backoff = 0;
  private lastError?: { message: string; at: string };

  constructor(private readonly options: CatchUpConsumerOptions<Unit>) {
    super();
    this.setMaxListeners(0);
  }

  get state(): ConsumerState {
    return this.current;
  }

  /** Failures since construction, and the last one. */
  get failureCount(): number {
    return this.failures;
  }

  get lastFailure(): { message: string; at: string } | undefined {
    return this.lastError;
  }

  get running(): boolean {
    return this.loop !== undefined;
  }

  /** Starts consuming in the background. */
  start(): void {
    if (this.loop) return;
    this.stopping = false;
    this.current = 'starting';
    this.loop = this.run().finally(() => {
      this.loop = undefined;
      this.current = 'stopped';
    });
  }

  /** Stops after the page under way; resolves once the loop has ended. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.wake?.();
    await this.closeSubscription();
    await this.loop;
  }

  /** Resubscribes from `checkpoint()` (e.g. a projection joined behind the others), without a failure. */
  restart(): void {
    if (!this.loop) return;
    this.restarting = true;
    void this.closeSubscription();
  }

  /** Resolves once the loop ended (stopped, or a failure said 'stop'). */
  get done(): Promise<void> {
    return this.loop ?? Promise.resolve();
  }

  private async run(): Promise<void> {
    const retry = this.options.retry ?? { initialMs: 250, maxMs: 5000 };
    this.backoff = retry.initialMs;
    while (!this.stopping) {
      try {
        this.restarting = false;
        const from = await this.options.checkpoint();
        if (this.stopping) break;
        this.subscription = this.options.store.subscribeToAll({ fromPosition: from, filter: this.options.filter, maxBatch: this.options.batchSize ?? 1000 });
        if (this.restarting) await this.closeSubscription(); // asked for while subscribing
        this.current = 'running';
        if (this.failuresInARow > 0) this.options.log?.('info', `${this.options.name}: resumed from position ${from} after ${this.failuresInARow} failed attempt(s)`);
        await this.consume(this.subscription);
        if (this.stopping) break;
        if (this.restarting) continue;
        throw new Error('the feed subscription ended');
      } catch (error) {
        await this.closeSubscription();
        if (this.stopping) break;
        const action = this.options.onFailure?.(error) ?? 'retry';
        await this.options.reset?.(error);
        if (action === 'stop') break;
        if (action === 'restart' || this.restarting) continue;
        this.failuresInARow += 1;
        this.failures += 1;
        this.current = 'retrying';
        this.lastError = { message: (error as Error).message, at: new Date().toISOString() };
        this.emit('failed', error);
        // The first failure, then about once a minute while they last.
        const message = `${this.options.name}: ${(error as Error).message}; retrying from the checkpoint in ${this.backoff} ms`;
        this.options.log?.(this.failuresInARow % 12 === 1 ? 'warn' : 'debug', message);
        await this.sleep(this.backoff * (0.8 + Math.random() * 0.4));
        this.backoff = Math.min(this.backoff * 2, retry.maxMs);
        continue;
      }
    }
    await this.closeSubscription();
  }

  private async consume(subscription: Subscription): Promise<void> {
    const { prepare, handle } = this.options;
    const pages = subscription[Symbol.asyncIterator]();
    const read = async (): Promise<{ page: FeedPage; unit: Unit } | undefined> => {
      const next = await pages.next();
      if (next.done) return undefined;
      return { page: next.value, unit: prepare ? prepare(next.value) : (next.value as unknown as Unit) };
    };
    let next = read();
    for (;;) {
      const item = await next;
      if (!item || this.stopping || this.restarting) return;
      if (prepare) {
        // The following page is read and prepared while this one is handled. setImmediate lets the
        // handler's first synchronous steps (writing a request to a socket) go first.
        next = new Promise<void>((resolve) => setImmediate(resolve)).then(read);
        next.catch(() => undefined); // awaited on the next turn; abandoned if this page fails
      }
      await handle(item.unit, item.page);
      this.failuresInARow = 0;
      this.backoff = this.options.retry?.initialMs ?? 250;
      this.emit('page', item.page);
      if (!prepare) next = read();
    }
  }

  private async closeSubscription(): Promise<void> {
    const subscription = this.subscription;
    this.subscription = undefined;
    await subscription?.close().catch(() => undefined);
  }

  private sleep(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.wake = undefined;
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.wake = done;
    });
  }
}
