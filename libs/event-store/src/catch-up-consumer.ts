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
  | 'stop'
  /** Resubscribe from the checkpoint after this delay instead of the backoff (a failure the caller counts itself). */
  | { retryAfterMs: number };

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
  /**
   * A consumer of the whole feed (no filter) that has handled no page for `afterMs` while the
   * store's head is past its last page logs a warning naming what it waits for, and reads the feed
   * again from its checkpoint: a subscription that stopped delivering must not go unnoticed.
   */
  stallAfterMs?: number;
  log?(level: ConsumerLogLevel, message: string): void;
}

/** What the loop is doing (shown in a stall warning). */
/** How long a subscription may take to close before the loop goes on without it. */
const CLOSE_TIMEOUT_MS = 5000;

export type ConsumerPhase = 'stopped' | 'reading the checkpoint' | 'waiting for a page' | 'handling a page' | 'backing off';

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
  /** Ends the wait for the next page (a restart or a stop), whatever the subscription does. */
  private interrupt?: () => void;
  private current: ConsumerState = 'stopped';
  private failuresInARow = 0;
  private failures = 0;
  private backoff = 0;
  private lastError?: { message: string; at: string };
  private phase: ConsumerPhase = 'stopped';
  private phaseSince = Date.now();
  /** The checkpoint of the last page handled (or the position subscribed from). */
  private reached = 0;
  private lastProgress = Date.now();
  private watchdog?: NodeJS.Timeout;

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
    this.lastProgress = Date.now();
    const stallAfterMs = this.options.stallAfterMs;
    if (stallAfterMs) {
      this.watchdog = setInterval(() => void this.checkStall(stallAfterMs).catch(() => undefined), Math.max(100, stallAfterMs / 4));
      this.watchdog.unref();
    }
    this.loop = this.run().finally(() => {
      clearInterval(this.watchdog);
      this.watchdog = undefined;
      this.loop = undefined;
      this.current = 'stopped';
      this.enter('stopped');
    });
  }

  /** Stops after the page under way; resolves once the loop has ended. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.wake?.();
    this.interrupt?.();
    await this.closeSubscription();
    await this.loop;
  }

  /** Ends a wait between attempts at once (an operator asked for a retry): resubscribes from `checkpoint()` now. */
  retryNow(): void {
    if (this.phase === 'backing off') this.wake?.();
  }

  /** Resubscribes from `checkpoint()` (e.g. a projection joined behind the others), without a failure. */
  restart(): void {
    if (!this.loop) return;
    this.restarting = true;
    this.interrupt?.();
    void this.closeSubscription();
  }

  /** A restart was asked for and the feed is not read again yet: a page delivered now is from before it. */
  get restartPending(): boolean {
    return this.restarting;
  }

  /** What the loop is doing, and since when. */
  get activity(): { phase: ConsumerPhase; since: number } {
    return { phase: this.phase, since: this.phaseSince };
  }

  private enter(phase: ConsumerPhase): void {
    this.phase = phase;
    this.phaseSince = Date.now();
  }

  private async checkStall(afterMs: number): Promise<void> {
    if (this.stopping || this.restarting || this.phase === 'backing off' || Date.now() - this.lastProgress < afterMs) return;
    const head = await this.options.store.headPosition();
    if (head <= this.reached || Date.now() - this.lastProgress < afterMs || this.stopping) return;
    const seconds = Math.round((Date.now() - this.lastProgress) / 1000);
    const phaseSeconds = Math.round((Date.now() - this.phaseSince) / 1000);
    this.options.log?.(
      'warn',
      `${this.options.name}: no page handled for ${seconds} s while the feed's head (${head}) is past position ${this.reached}; ${this.phase} for ${phaseSeconds} s; reading the feed again from the checkpoint`,
    );
    this.lastProgress = Date.now(); // once per period, not at every tick
    this.restart();
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
        this.enter('reading the checkpoint');
        const from = await this.options.checkpoint();
        this.reached = from;
        if (this.stopping) break;
        this.subscription = this.options.store.subscribeToAll({
          fromPosition: from,
          filter: this.options.filter,
          maxBatch: this.options.batchSize ?? 1000,
        });
        if (this.restarting) await this.closeSubscription(); // asked for while subscribing
        this.current = 'running';
        if (this.failuresInARow > 0)
          this.options.log?.('info', `${this.options.name}: resumed from position ${from} after ${this.failuresInARow} failed attempt(s)`);
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
        this.enter('backing off');
        this.lastError = { message: (error as Error).message, at: new Date().toISOString() };
        this.emit('failed', error);
        const delay = typeof action === 'object' ? Math.max(0, action.retryAfterMs) : this.backoff;
        // The first failure, then about once a minute while they last.
        const message = `${this.options.name}: ${(error as Error).message}; retrying from the checkpoint in ${Math.round(delay)} ms`;
        this.options.log?.(this.failuresInARow % 12 === 1 ? 'warn' : 'debug', message);
        if (typeof action === 'object') await this.sleep(delay);
        else {
          await this.sleep(this.backoff * (0.8 + Math.random() * 0.4));
          this.backoff = Math.min(this.backoff * 2, retry.maxMs);
        }
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
    next.catch(() => undefined); // raced below; abandoned on an interruption
    // A subscription that neither delivers nor ends when closed must not hold the loop.
    const interrupted = new Promise<undefined>((resolve) => (this.interrupt = () => resolve(undefined)));
    for (;;) {
      this.enter('waiting for a page');
      const item = await Promise.race([next, interrupted]);
      if (!item || this.stopping || this.restarting) return;
      this.enter('handling a page');
      if (prepare) {
        // The following page is read and prepared while this one is handled. setImmediate lets the
        // handler's first synchronous steps (writing a request to a socket) go first.
        next = new Promise<void>((resolve) => setImmediate(resolve)).then(read);
        next.catch(() => undefined); // awaited on the next turn; abandoned if this page fails
      }
      await handle(item.unit, item.page);
      this.reached = Math.max(this.reached, item.page.checkpoint);
      this.lastProgress = Date.now();
      this.failuresInARow = 0;
      this.backoff = this.options.retry?.initialMs ?? 250;
      this.emit('page', item.page);
      if (!prepare) {
        next = read();
        next.catch(() => undefined);
      }
    }
  }

  private async closeSubscription(): Promise<void> {
    const subscription = this.subscription;
    this.subscription = undefined;
    if (!subscription) return;
    let timer: NodeJS.Timeout | undefined;
    const closed = subscription.close().then(
      () => true,
      () => true,
    );
    const late = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), CLOSE_TIMEOUT_MS).unref()));
    if (!(await Promise.race([closed, late])))
      this.options.log?.('warn', `${this.options.name}: the feed subscription did not close within ${CLOSE_TIMEOUT_MS} ms; left behind`);
    clearTimeout(timer);
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
