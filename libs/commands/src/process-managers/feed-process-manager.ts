import { Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { DomainError } from '@chronicle/domain';
import type { EventStore, RecordedEvent, Subscription } from '@chronicle/event-store';
import type { CheckpointStore } from '@chronicle/shared';

/**
 * A process manager fed by the event store's global feed (never the in-memory EventBus), with its
 * own checkpoint, saved after a page's reactions succeeded. A reaction's commands carry ids
 * derived from the triggering event, so reacting again after a crash (or a re-run from 0)
 * appends nothing new.
 *
 * A stateful one (`folds`) rebuilds its state at start by handling the history up to its
 * checkpoint with `live = false` (state only, no commands), then carries on live: its decisions
 * depend on the history in feed order only, never on which HTTP request won a race.
 */
export abstract class FeedProcessManager implements OnApplicationBootstrap, OnModuleDestroy {
  abstract readonly checkpointName: string;
  abstract readonly eventTypes: readonly string[];
  protected readonly folds: boolean = false;
  protected readonly logger: Logger;
  private subscription?: Subscription;
  private running?: Promise<void>;
  private position = 0;
  private stopped = false;

  protected constructor(
    protected readonly store: EventStore,
    protected readonly checkpoints: CheckpointStore,
    private readonly enabled: boolean,
  ) {
    this.logger = new Logger(this.constructor.name);
  }

  /** Whether this manager has anything to do under the configuration. */
  protected active(): boolean {
    return true;
  }

  protected abstract handle(event: RecordedEvent, live: boolean): Promise<void>;

  async onApplicationBootstrap(): Promise<void> {
    if (this.enabled && this.active()) this.running = this.run();
  }

  async onModuleDestroy(): Promise<void> {
    this.stopped = true;
    await this.subscription?.close();
    await this.running;
  }

  /** Position of the last event handled. */
  get checkpoint(): number {
    return this.position;
  }

  get isRunning(): boolean {
    return this.running !== undefined && !this.stopped;
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

  /** Forgets the folded state (stateful managers), before a restart from the checkpoint. */
  protected reset(): void {}

  /**
   * Runs until stopped. A failure that is not a domain refusal (the store went away, a timeout)
   * does not stop it for good: it starts again from its checkpoint a second later, its state
   * folded anew, and the reactions already made are recognised by their ids.
   */
  private async run(): Promise<void> {
    while (!this.stopped) {
      try {
        await this.runFromCheckpoint();
        return;
      } catch (error) {
        if (this.stopped) return;
        this.logger.error(`stopped at position ${this.position}, restarting: ${(error as Error).message}`);
        await this.subscription?.close().catch(() => undefined);
        this.reset();
        await new Promise((resolve) => setTimeout(resolve, 1000).unref());
      }
    }
  }

  private async runFromCheckpoint(): Promise<void> {
    const saved = await this.checkpoints.loadCheckpoint(this.checkpointName);
    if (this.folds && saved > 0) await this.rebuild(saved);
    this.position = saved;
    this.subscription = this.store.subscribeToAll({ fromPosition: saved, filter: { types: [...this.eventTypes] }, maxBatch: 100 });
    for await (const page of this.subscription) {
      for (const event of page.events) await this.react(event);
      await this.checkpoints.saveCheckpoint(this.checkpointName, page.checkpoint);
      this.position = page.checkpoint;
    }
  }

  /** State from the history up to the checkpoint, without reacting again. */
  private async rebuild(until: number): Promise<void> {
    let from = 0;
    while (from < until && !this.stopped) {
      const page = await this.store.readAll({ fromPosition: from, maxCount: 1000, filter: { types: [...this.eventTypes] } });
      for (const event of page.events) if (event.globalPosition <= until) await this.handle(event, false);
      if (page.checkpoint <= from || page.isEnd) break;
      from = page.checkpoint;
    }
  }

  private async react(event: RecordedEvent): Promise<void> {
    try {
      await this.handle(event, true);
    } catch (error) {
      // A rule the reaction cannot satisfy will not change on retry: log it and move on.
      if (!(error instanceof DomainError)) throw error;
      this.logger.warn(`reaction to ${event.type} ${event.eventId} refused: ${error.message}`);
    }
  }
}
