import { Logger, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { Fence, FencedError, isFencedError, RoleCoordinator, RoleRunner, soloFence } from '@chronicle/cluster';
import type { CheckpointStore } from '@chronicle/cluster';
import { DomainError } from '@chronicle/domain';
import { CatchUpConsumer, EventStore, RecordedEvent } from '@chronicle/event-store';

/** Roles of the process managers share the projector processes' group. */
export const PROCESS_MANAGER_GROUP = 'projector';

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
 */
export abstract class FeedProcessManager implements OnModuleInit, OnModuleDestroy {
  abstract readonly checkpointName: string;
  abstract readonly eventTypes: readonly string[];
  protected readonly folds: boolean = false;
  protected readonly logger: Logger;
  private consumer?: CatchUpConsumer;
  private fence?: Fence;
  private position = 0;

  protected constructor(
    protected readonly store: EventStore,
    protected readonly checkpoints: CheckpointStore,
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
        const saved = await this.checkpoints.claim(this.checkpointName, fence);
        this.reset();
        if (this.folds && saved > 0) await this.rebuild(saved);
        this.position = saved;
        return saved;
      },
      handle: async (page) => {
        for (const event of page.events) await this.react(event, fence);
        await this.checkpoints.save(this.checkpointName, page.checkpoint, fence);
        this.position = page.checkpoint;
      },
      onFailure: (error) => {
        if (!isFencedError(error)) return 'retry';
        this.coordinator?.lost(this.checkpointName, (error as Error).message);
        return 'stop';
      },
      retry: { initialMs: 1000, maxMs: 5000 },
      log: (level, message) => (level === 'debug' ? this.logger.debug(message) : level === 'info' ? this.logger.log(message) : level === 'warn' ? this.logger.warn(message) : this.logger.error(message)),
    });
    this.consumer = consumer;
    consumer.start();
  }

  /** Stops working (the role left this process, or shutdown). */
  protected async stopWorking(): Promise<void> {
    const consumer = this.consumer;
    this.consumer = undefined;
    this.fence = undefined;
    await consumer?.stop();
  }

  /** State from the history up to the checkpoint, without reacting again. */
  private async rebuild(until: number): Promise<void> {
    let from = 0;
    while (from < until && this.consumer) {
      const page = await this.store.readAll({ fromPosition: from, maxCount: 1000, filter: { types: [...this.eventTypes] } });
      for (const event of page.events) if (event.globalPosition <= until) await this.handle(event, false);
      if (page.checkpoint <= from || page.isEnd) break;
      from = page.checkpoint;
    }
  }

  private async react(event: RecordedEvent, fence: Fence): Promise<void> {
    // Another process may hold the role once the lease lapsed: act no more.
    if (!fence.valid()) throw new FencedError([fence.role], 'its lease lapsed');
    try {
      await this.handle(event, true);
    } catch (error) {
      // A rule the reaction cannot satisfy will not change on retry: log it and move on.
      if (!(error instanceof DomainError)) throw error;
      this.logger.warn(`reaction to ${event.type} ${event.eventId} refused: ${error.message}`);
    }
  }
}
