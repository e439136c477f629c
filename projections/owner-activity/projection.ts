import { InteractionTypes } from '@chronicle/domain';
import type { DealOpened, DealWon, InteractionLogged, TaskCreated, TaskCompleted } from '@chronicle/domain';
import type { RecordedEvent } from '@chronicle/event-store';
import type { Projection, ProjectionContext } from '@chronicle/projector';
import { countDay, MonthDocument, readMonths } from '../common/buckets';
import type { ReadModelAccess } from '../common/report';

/**
 * What each owner did, per UTC day: deals opened, won and lost (by the deal's
 * owner), revenue won, interactions by type and tasks created and completed. Shared by the
 * `sales-performance` and `activity` reports, which read the same counters.
 *
 * Whose interaction: the event's `actor`, i.e. the user who logged it. Activity measures what a
 * person did; the customer's owner may be someone else, may change later, and looking it up
 * would cost a read per interaction. Deals and tasks belong to their `ownerId`; `deals` and
 * `tasks` remember it for the open ones, since DealWon, DealLost and TaskCompleted do not carry it.
 */
export const OWNER_ACTIVITY_PROJECTION = 'owner-activity';
/** A day's counters; zeros are left out, which keeps the documents (and the queries reading them) small. */
export interface OwnerActivityCounters {
  dealsOpened?: number;
  dealsWon?: number;
  dealsLost?: number;
  revenueWon?: number;
  /**
   * Interactions by type, as counts in `InteractionTypes` order (a day's entry stays a few bytes;
   * new types must be appended to that list). A type outside the list goes to `otherInteractions`.
   */
  interactions?: number[];
  otherInteractions?: Record<string, number>;
  tasksCreated?: number;
  tasksCompleted?: number;
}
/** One document per month and owner, with counters per day. */
export type OwnerActivityMonth = MonthDocument<OwnerActivityCounters> & { ownerId: string };

const TYPE_INDEX = new Map<string, number>(InteractionTypes.map((t, i) => [t, i]));

/** Interactions by type name from day counters (or sums of them). */
export function interactionsByType(c: OwnerActivityCounters): Record<string, number> {
  const byType: Record<string, number> = { ...c.otherInteractions };
  c.interactions?.forEach((n, i) => void (n && (byType[InteractionTypes[i]] = n)));
  return byType;
}

type Counter = Exclude<keyof OwnerActivityCounters, 'interactions' | 'otherInteractions'>;
const inc = (c: OwnerActivityCounters, field: Counter, by = 1): void => void (c[field] = (c[field] ?? 0) + by);

type Owned = { _id: string; ownerId: string };

const emptyDay = (): OwnerActivityCounters => ({});

function count(ctx: ProjectionContext, occurredAt: string, ownerId: string, change: (c: OwnerActivityCounters) => void): Promise<void> {
  return countDay<OwnerActivityCounters>(ctx, 'months', occurredAt, ownerId, (month, _id) => ({ _id, month, ownerId, days: {} }) as OwnerActivityMonth, emptyDay, change);
}

export const ownerActivityProjection: Projection = {
  name: OWNER_ACTIVITY_PROJECTION,
  version: 1,
  collections: ['deals', 'tasks', 'months'],
  indexes: { months: ['month'] },
  eventTypes: ['DealOpened', 'DealWon', 'DealLost', 'InteractionLogged', 'TaskCreated', 'TaskCompleted'],

  async apply(event: RecordedEvent, ctx: ProjectionContext) {
    switch (event.type) {
      case 'InteractionLogged': {
        const type = (event.data as InteractionLogged['data']).type;
        const index = TYPE_INDEX.get(type);
        return count(ctx, event.occurredAt, event.actor, (b) => {
          if (index === undefined) {
            const other = (b.otherInteractions ??= {});
            other[type] = (other[type] ?? 0) + 1;
            return;
          }
          const counts = (b.interactions ??= []);
          while (counts.length <= index) counts.push(0);
          counts[index] += 1;
        });
      }
      case 'DealOpened': {
        const d = (event as RecordedEvent<DealOpened['data']>).data;
        ctx.put<Owned>('deals', { _id: d.dealId, ownerId: d.ownerId });
        return count(ctx, event.occurredAt, d.ownerId, (b) => inc(b, 'dealsOpened'));
      }
      case 'DealWon':
      case 'DealLost': {
        const d = (event as RecordedEvent<DealWon['data']>).data;
        const deal = await ctx.get<Owned>('deals', d.dealId);
        if (!deal) return;
        ctx.delete('deals', d.dealId); // closed for good
        if (event.type === 'DealLost') return count(ctx, event.occurredAt, deal.ownerId, (b) => inc(b, 'dealsLost'));
        return count(ctx, event.occurredAt, deal.ownerId, (b) => {
          inc(b, 'dealsWon');
          inc(b, 'revenueWon', d.amount);
        });
      }
      case 'TaskCreated': {
        const d = (event as RecordedEvent<TaskCreated['data']>).data;
        ctx.put<Owned>('tasks', { _id: d.taskId, ownerId: d.ownerId });
        return count(ctx, event.occurredAt, d.ownerId, (b) => inc(b, 'tasksCreated'));
      }
      case 'TaskCompleted': {
        const taskId = (event.data as TaskCompleted['data']).taskId;
        const task = await ctx.get<Owned>('tasks', taskId);
        if (!task) return;
        ctx.delete('tasks', taskId);
        return count(ctx, event.occurredAt, task.ownerId, (b) => inc(b, 'tasksCompleted'));
      }
    }
  },
};

/** The owner-activity month documents overlapping [startMs, endMs). */
export async function readOwnerActivity(access: ReadModelAccess, startMs: number, endMs: number): Promise<OwnerActivityMonth[]> {
  return readMonths(await access.collection<OwnerActivityMonth>(OWNER_ACTIVITY_PROJECTION, 'months'), startMs, endMs);
}
