import { Injectable } from '@nestjs/common';
import {
  AggregateAlreadyExists,
  DealOpened,
  DealReopened,
  DealStageChanged,
  stalledDeals,
  stallLimitMs,
  streamIdOf,
} from '@chronicle/domain';
import type { Fence } from '@chronicle/cluster';
import type { RecordedEvent } from '@chronicle/event-store';
import { PersonalDataErasedError } from '@chronicle/personal-data';
import { deterministicUuid } from '@chronicle/infrastructure';
import { TaskMessage } from '../messages';
import { AutomationProcessManager, automates } from './automation-process-manager';
import { reactionContext } from './reaction-context';

interface OpenDeal {
  dealId: string;
  stage: string;
  enteredAt: number;
  ownerId: string;
  customerId: string;
  /** The event that put the deal in its stage: the stall task's id derives from it. */
  entryEventId: string;
  correlationId: string;
}

/**
 * Stalled deals (a stage's `stallAfterDays` in PIPELINE_FILE): folds the open deals from the feed
 * and, every STALL_CHECK_SECONDS once caught up, gives the owner of each deal that has been in its
 * stage longer than the limit one task per stay in a stage — its id derives from the event that
 * entered the stage, so a re-run (or the next check) creates nothing new.
 */
@Injectable()
export class StallProcessManager extends AutomationProcessManager {
  readonly checkpointName = 'process-manager:stall';
  readonly eventTypes = ['DealOpened', 'DealStageChanged', 'DealWon', 'DealLost', 'DealReopened', 'DealArchived', 'DealRestored'] as const;
  protected override readonly folds = true;
  private readonly open = new Map<string, OpenDeal>();
  /** Archived open deals (issue 16): never stalled; a restore puts one back in its stage as if it entered it then. */
  private readonly archived = new Map<string, OpenDeal>();
  private readonly notified = new Set<string>();
  private timer?: NodeJS.Timeout;

  protected override active(): boolean {
    return this.config.automation && this.config.pipeline.stages.some((s) => s.stallAfterDays !== undefined);
  }

  /** The sweep runs where the role is worked, and only there. */
  protected override async startWorking(fence: Fence): Promise<void> {
    await super.startWorking(fence);
    this.timer = setInterval(
      () => void this.sweep().catch((e) => this.logger.warn(`stall check failed: ${(e as Error).message}`)),
      this.config.stallCheckSeconds * 1000,
    );
    this.timer.unref();
  }

  protected override async stopWorking(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await super.stopWorking();
  }

  protected override reset(): void {
    this.open.clear();
    this.archived.clear();
  }

  protected async handle(event: RecordedEvent): Promise<void> {
    const at = Date.parse(event.occurredAt);
    const { dealId } = event.data as { dealId: string };
    // A stay in a stage that an import without automation began is history: no stall task for it.
    if (!automates(event)) this.notified.add(event.eventId);
    if (event.type === 'DealOpened' || event.type === 'DealReopened') {
      // Opened, or open again after a close: a stay in its stage from this event.
      const d = event.data as (DealOpened | DealReopened)['data'];
      this.open.set(dealId, {
        dealId,
        stage: d.stage,
        enteredAt: at,
        ownerId: d.ownerId,
        customerId: d.customerId,
        entryEventId: event.eventId,
        correlationId: event.correlationId,
      });
    } else if (event.type === 'DealStageChanged') {
      const deal = this.open.get(dealId);
      const { to } = event.data as DealStageChanged['data'];
      if (deal)
        this.open.set(dealId, { ...deal, stage: to, enteredAt: at, entryEventId: event.eventId, correlationId: event.correlationId });
    } else if (event.type === 'DealArchived') {
      const deal = this.open.get(dealId);
      if (deal) this.archived.set(dealId, deal);
      this.open.delete(dealId);
    } else if (event.type === 'DealRestored') {
      const deal = this.archived.get(dealId);
      this.archived.delete(dealId);
      // A new stay in its stage, from the restore (as the pipeline report counts it): the stall clock restarts.
      if (deal) this.open.set(dealId, { ...deal, enteredAt: at, entryEventId: event.eventId, correlationId: event.correlationId });
    } else {
      this.open.delete(dealId);
    }
  }

  /** Creates the tasks of the deals stalled at `now`; returns how many it created. */
  async sweep(now = Date.now()): Promise<number> {
    if (!this.lease?.valid()) return 0; // another process may work the role now
    if (await this.pending()) return 0; // not caught up: the state may be stale
    let created = 0;
    for (const deal of stalledDeals(this.config.pipeline, this.open.values(), now)) {
      if (this.notified.has(deal.entryEventId)) continue;
      const days = stallLimitMs(this.config.pipeline, deal.stage)! / 86_400_000;
      const taskId = deterministicUuid(`task|stall|${deal.entryEventId}`);
      // Created by an earlier run (before a restart or on the role's previous holder): a re-sent
      // reaction would answer as the first one did, and count as created here.
      if ((await this.store.streamRevision(streamIdOf('task', taskId))) >= 0) {
        this.notified.add(deal.entryEventId);
        continue;
      }
      const data = {
        taskId,
        ownerId: deal.ownerId,
        subject: `Deal stalled in ${deal.stage} for more than ${days} days`,
        dueAt: new Date(now).toISOString(),
        dealId: deal.dealId,
        customerId: deal.customerId,
        reason: `stalled: in ${deal.stage} since ${new Date(deal.enteredAt).toISOString()}, limit ${days} days`,
      };
      const create = (task: typeof data | Omit<typeof data, 'customerId'>) =>
        this.commandBus.execute(
          new TaskMessage(
            { type: 'CreateTask', data: task, occurredAt: new Date(now).toISOString() },
            reactionContext(deal.entryEventId, deal.correlationId, 'stall'),
          ),
        );
      try {
        await create(data);
        created++;
      } catch (error) {
        if (error instanceof PersonalDataErasedError) {
          // A task about the customer would be sealed with their key, which is gone: the reminder is about the deal alone.
          const { customerId: _, ...aboutTheDeal } = data;
          await create(aboutTheDeal);
          created++;
        } else if (!(error instanceof AggregateAlreadyExists)) throw error;
      }
      this.notified.add(deal.entryEventId);
    }
    return created;
  }
}
