import { Logger, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import {
  DEFAULT_FAILURE_RETRY,
  EventFailure,
  FailureRetryPolicy,
  Fence,
  FencedError,
  isFencedError,
  nextFailure,
  RoleCoordinator,
  RoleRunner,
  SkippedEvent,
  skipOf,
  soloFence,
} from '@chronicle/cluster';
import type { CheckpointStore, FailureRequestStore } from '@chronicle/cluster';
import { DomainError } from '@chronicle/domain';
import { CatchUpConsumer, EventStore, RecordedEvent } from '@chronicle/event-store';

/** Roles of the process managers share the projector processes' group. */
export const PROCESS_MANAGER_GROUP = 'projector';

/** Where a process manager keeps its checkpoint, its failure and skipped events, and finds operators' requests. */
export type ProcessManagerState = CheckpointStore & FailureRequestStore;

/** The manager is stopped on an event: the consumer waits until its next attempt (or an operator's request). */
class StoppedOnEventError extends Error {
  constructor(readonly failure: EventFailure) {
    super(
      `stopped on ${failure.eventType} ${failure.eventId} at position ${failure.position} (attempt ${failure.attempts}): ${failure.error}`,
    );
    this.name = 'StoppedOnEventError';
  }
}

/**
 * A process manager fed by the event store's global feed (never the in-memory EventBus), with its
 * own checkpoint, saved after a page's reactions succeeded. A reaction's commands carry ids
 * derived from the triggering event, so reacting again after a crash (or a re-run from 0)
 * appends nothing new.
 *
 * In a cluster it is a role (its checkpoint name): one process at a time works it, under a lease
 * whose token fences the checkpoint (claimed before it is read, refused once another holder
 * claimed it), and a reaction is only made while the lease is valid. Its commands' event ids
 * would make even a paused former holder's late reaction a no-op.
 *
 * A stateful one (`folds`) rebuilds its state at start by handling the history up to its
 * checkpoint with `live = false` (state only, no commands), then carries on live: its decisions
 * depend on the history in feed order only, never on which HTTP request won a race.
 *
 * A reaction that fails (other than a domain refusal) stops this manager alone on that event: the
 * failure is saved with the checkpoint (just before the event), and the event is tried again after
 * a backoff (1 s doubling to 5 min), or at once when an operator asks for a retry, or passed over
 * when an operator skips it; the skip is saved with who and why (docs/projections.md).
 */
export abstract class FeedProcessManager implements OnModuleInit, OnModuleDestroy {
  abstract readonly checkpointName: string;
  abstract readonly eventTypes: readonly string[];
  protected readonly folds: boolean = false;
  protected readonly logger: Logger;
  private consumer?: CatchUpConsumer;
  private fence?: Fence;
  private position = 0;
  /** The event it is stopped on, as saved with its checkpoint. */
  private failure?: EventFailure;
  private skipped: SkippedEvent[] = [];
  private skippedIds = new Set<string>();
  private requestTimer?: NodeJS.Timeout;
  /** Backoff between attempts at a failing event. */
  protected readonly failureRetry: FailureRetryPolicy = DEFAULT_FAILURE_RETRY;
  /** How often, while stopped on an event, operators' requests are looked for. */
  protected readonly requestPollMs: number = 1000;

  protected constructor(
    protected readonly store: EventStore,
    protected readonly checkpoints: ProcessManagerState,
    private readonly enabled: boolean,
    /** Absent: works alone (tests), without a lease. */
    private readonly coordinator?: RoleCoordinator | null,
  ) {
    this.logger = new Logger(this.constructor.name);
  }

  /** Whether this manager has anything to do under the configuration. */
  protected active(): boolean {
    return true;
  }

  protected abstract handle(event: RecordedEvent, live: boolean): Promise<void>;

  /** Whether it acts on this event (else it is handled with `live = false`: state only, no commands). */
  protected reactsTo(_event: RecordedEvent): boolean {
    return true;
  }

  /** Its role, as the RoleCoordinator starts and stops it. */
  readonly runner: RoleRunner = { start: (lease) => this.startWorking(lease), stop: () => this.stopWorking() };

  // Registered while modules initialise; the coordinator takes the role once the app has bootstrapped.
  async onModuleInit(): Promise<void> {
    if (!this.enabled || !this.active()) return;
    if (this.coordinator) this.coordinator.register(this.checkpointName, PROCESS_MANAGER_GROUP, this.runner);
    else await this.startWorking(soloFence(this.checkpointName));
  }

  async onModuleDestroy(): Promise<void> {
    await this.stopWorking();
  }

  /** Position of the last event handled. */
  get checkpoint(): number {
    return this.position;
  }

  get isRunning(): boolean {
    return this.consumer?.running === true;
  }

  /** Whether the feed holds an event of its types after its checkpoint (a filtered read, so it holds on every store). */
  async pending(): Promise<boolean> {
    const page = await this.store.readAll({ fromPosition: this.position, maxCount: 1, filter: { types: [...this.eventTypes] } });
    return page.events.length > 0;
  }

  /** Resolves once no event of its types is left after its checkpoint (tests, CLI). */
  async caughtUp(timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (!(await this.pending())) return;
      if (Date.now() > deadline) throw new Error(`${this.checkpointName} at ${this.position}, head ${await this.store.headPosition()}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  /** The lease it works under, while it works (stateful managers check it before acting on their own). */
  protected get lease(): Fence | undefined {
    return this.fence;
  }

  /** Forgets the folded state (stateful managers), before a restart from the checkpoint. */
  protected reset(): void {}

  /** The event it is stopped on, if any (as this process last saw it). */
  get stoppedOn(): EventFailure | undefined {
    return this.failure;
  }

  /** Starts working under `fence`: claims the checkpoint, then consumes the feed from it. */
  protected async startWorking(fence: Fence): Promise<void> {
    await this.stopWorking();
    this.fence = fence;
    await this.checkpoints.claim(this.checkpointName, fence);
    const consumer = new CatchUpConsumer({
      name: this.checkpointName,
      store: this.store,
      filter: { types: [...this.eventTypes] },
      batchSize: 100,
      // Read at every (re)start: the state is folded anew up to it, reactions already made are recognised by their ids.
      checkpoint: async () => {
        let saved = await this.checkpoints.claim(this.checkpointName, fence);
        // Its failure and skipped events as the last holder saved them: this process honours them.
        const record = (await this.checkpoints.checkpoints()).find((c) => c.name === this.checkpointName);
        this.failure = record?.failure;
        this.setSkipped(record?.skipped ?? []);
        const { position, attempt } = await this.takeRequests(saved, fence);
        saved = position;
        if (this.failure && !attempt && Date.parse(this.failure.nextRetryAt) > Date.now()) throw new StoppedOnEventError(this.failure);
        this.reset();
        if (this.folds && saved > 0) await this.rebuild(saved);
        this.position = saved;
        return saved;
      },
      handle: async (page) => {
        let handled = this.position;
        for (const event of page.events) {
          if (!this.skippedIds.has(event.eventId)) await this.reactOrStop(event, fence, handled);
          handled = event.globalPosition;
        }
        // Past the event it was stopped on: no longer failed.
        const recovered = this.failure !== undefined && page.checkpoint >= this.failure.position;
        if (recovered)
          this.logger.log(`handled ${this.failure!.eventType} ${this.failure!.eventId} after ${this.failure!.attempts} failed attempt(s)`);
        await this.checkpoints.save(this.checkpointName, page.checkpoint, fence, recovered ? { skipped: this.skipped } : undefined);
        if (recovered) this.failure = undefined;
        this.position = page.checkpoint;
      },
      onFailure: (error) => {
        if (error instanceof StoppedOnEventError) return { retryAfterMs: Date.parse(error.failure.nextRetryAt) - Date.now() };
        if (!isFencedError(error)) return 'retry';
        this.coordinator?.lost(this.checkpointName, (error as Error).message);
        return 'stop';
      },
      retry: { initialMs: 1000, maxMs: 5000 },
      log: (level, message) =>
        level === 'debug'
          ? this.logger.debug(message)
          : level === 'info'
            ? this.logger.log(message)
            : level === 'warn'
              ? this.logger.warn(message)
              : this.logger.error(message),
    });
    this.consumer = consumer;
    // While it is stopped on an event, an operator's request ends the wait for the next attempt.
    this.requestTimer = setInterval(() => {
      if (!this.failure || this.consumer !== consumer) return;
      void this.checkpoints.requests(this.checkpointName).then(
        (requests) => requests.length > 0 && consumer.retryNow(),
        () => undefined,
      );
    }, this.requestPollMs);
    this.requestTimer.unref();
    consumer.start();
  }

  /** Stops working (the role left this process, or shutdown). */
  protected async stopWorking(): Promise<void> {
    const consumer = this.consumer;
    this.consumer = undefined;
    this.fence = undefined;
    clearInterval(this.requestTimer);
    await consumer?.stop();
  }

  private setSkipped(skipped: SkippedEvent[]): void {
    this.skipped = skipped;
    this.skippedIds = new Set(skipped.map((s) => s.eventId));
  }

  /**
   * Operators' requests, taken at a (re)start: a retry attempts the event now; a skip of the event
   * it is stopped on saves the checkpoint past it with the skip (who, why), in one save. A request
   * that no longer applies (the event went through meanwhile, or it failed on another) is dropped.
   */
  private async takeRequests(position: number, fence: Fence): Promise<{ position: number; attempt: boolean }> {
    let attempt = false;
    for (const request of await this.checkpoints.requests(this.checkpointName)) {
      const failure = this.failure;
      if (!failure || (request.action === 'skip' && request.eventId !== failure.eventId)) {
        this.logger.warn(
          `${request.action} requested by ${request.requestedBy} dropped: ${failure ? `stopped on ${failure.eventId}, not on ${request.eventId}` : 'not stopped on any event'}`,
        );
      } else if (request.action === 'retry') {
        this.logger.log(`retry of ${failure.eventType} ${failure.eventId} requested by ${request.requestedBy}`);
        attempt = true;
      } else {
        const skipped = [...this.skipped, skipOf(failure, request)];
        position = Math.max(position, failure.position);
        await this.checkpoints.save(this.checkpointName, position, fence, { skipped });
        this.setSkipped(skipped);
        this.failure = undefined;
        this.logger.warn(
          `skipped ${failure.eventType} ${failure.eventId} at position ${failure.position}, as ${request.requestedBy} asked: ${request.reason}`,
        );
      }
      await this.checkpoints.removeRequest(request);
    }
    return { position, attempt };
  }

  /** State from the history up to the checkpoint, without reacting again (skipped events left out). */
  private async rebuild(until: number): Promise<void> {
    let from = 0;
    while (from < until && this.consumer) {
      const page = await this.store.readAll({ fromPosition: from, maxCount: 1000, filter: { types: [...this.eventTypes] } });
      for (const event of page.events)
        if (event.globalPosition <= until && !this.skippedIds.has(event.eventId)) await this.handle(event, false);
      if (page.checkpoint <= from || page.isEnd) break;
      from = page.checkpoint;
    }
  }

  /**
   * Reacts; on a failure (not a domain refusal, not the lease) saves the failure with the checkpoint
   * of the last event handled before it, and stops on it (StoppedOnEventError).
   */
  private async reactOrStop(event: RecordedEvent, fence: Fence, handled: number): Promise<void> {
    try {
      await this.react(event, fence);
    } catch (error) {
      if (isFencedError(error)) throw error;
      const failure = nextFailure(this.failure, event, error, this.failureRetry);
      await this.checkpoints.save(this.checkpointName, handled, fence, { failure, skipped: this.skipped });
      this.failure = failure;
      this.position = handled;
      this.logger.error(
        `reaction to ${event.type} ${event.eventId} at position ${event.globalPosition} failed (attempt ${failure.attempts}): ${failure.error}; ` +
          `next attempt at ${failure.nextRetryAt} (or POST /projections/${this.checkpointName}/retry, /skip)`,
      );
      throw new StoppedOnEventError(failure);
    }
  }

  private async react(event: RecordedEvent, fence: Fence): Promise<void> {
    // Another process may hold the role once the lease lapsed: act no more.
    if (!fence.valid()) throw new FencedError([fence.role], 'its lease lapsed');
    try {
      await this.handle(event, this.reactsTo(event));
    } catch (error) {
      // A rule the reaction cannot satisfy will not change on retry: log it and move on.
      if (!(error instanceof DomainError)) throw error;
      this.logger.warn(`reaction to ${event.type} ${event.eventId} refused: ${error.message}`);
    }
  }
}
