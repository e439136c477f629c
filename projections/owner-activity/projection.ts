import { InteractionTypes } from '@chronicle/domain';
import type { ProjectionContext } from '@chronicle/projector';
import { countDay, dayStart, daysWithin, monthDay, MonthDocument, monthKey, readMonths } from '../common/buckets';
import { defineProjection, ProjectedEvent } from '../common/define-projection';
import { next } from '../common/periods';
import type { ReadModelAccess } from '../common/report';

/**
 * What each owner did, per UTC day: deals opened, won and lost (by the deal's
 * owner), revenue won, interactions by type and tasks created and completed. Shared by the
 * `sales-performance` and `activity` reports, which read the same counters.
 *
 * Whose interaction: the event's `actor`, i.e. the user who logged it. Activity measures what a
 * person did; the customer's owner may be someone else, may change later, and looking it up
 * would cost a read per interaction. Deals and tasks belong to their `ownerId`; `deals` and
 * `tasks` remember it, since DealWon, DealLost and TaskCompleted do not carry it (a task's is its
 * owner at completion: TaskReassigned moves it; a cancelled task is not counted). A deal counts by
 * its last close: `deals` keeps the close counted, which DealReopened withdraws.
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
/**
 * The same month's counters summed (`totals`, same `_id`): a window of whole months reads these
 * small documents instead of every day (sales-performance over two years: 24 per owner, not 730).
 */
export type OwnerActivityTotal = { _id: string; month: string; ownerId: string; total: OwnerActivityCounters };

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
/** The close counted for a deal: [closedAt, won, amount]. */
type CountedClose = [at: string, won: boolean, amount: number];
type OwnedDeal = Owned & { close?: CountedClose };

const emptyDay = (): OwnerActivityCounters => ({});

async function count(
  ctx: ProjectionContext,
  occurredAt: string,
  ownerId: string,
  change: (c: OwnerActivityCounters) => void,
): Promise<void> {
  await countDay<OwnerActivityCounters>(
    ctx,
    'months',
    occurredAt,
    ownerId,
    (month, _id) => ({ _id, month, ownerId, days: {} }),
    emptyDay,
    change,
  );
  const { month } = monthDay(occurredAt);
  const _id = `${month}|${ownerId}`;
  const totals = (await ctx.get<OwnerActivityTotal>('totals', _id)) ?? { _id, month, ownerId, total: {} };
  change(totals.total);
  ctx.put('totals', totals);
}

/** Adds (sign 1) or withdraws (sign −1) a close; zeros are left out. */
function countClose(ctx: ProjectionContext, ownerId: string, [at, won, amount]: CountedClose, sign: 1 | -1): Promise<void> {
  return count(ctx, at, ownerId, (b) => {
    const field = won ? 'dealsWon' : 'dealsLost';
    inc(b, field, sign);
    if (won) inc(b, 'revenueWon', sign * amount);
    if (!b[field]) {
      delete b[field];
      // No win left that day: no revenue either (not a float residue of the withdrawn amount).
      if (won) delete b.revenueWon;
    }
  });
}

/** A deal closed: counted for its owner (remembered from DealOpened), and the close remembered. */
async function closed(event: ProjectedEvent<'DealWon' | 'DealLost'>, ctx: ProjectionContext): Promise<void> {
  const d = event.data;
  const deal = await ctx.get<OwnedDeal>('deals', d.dealId);
  if (!deal) return;
  const close: CountedClose = [event.occurredAt, event.type === 'DealWon', event.type === 'DealWon' ? d.amount : 0];
  ctx.put<OwnedDeal>('deals', { ...deal, close }); // kept: a DealReopened withdraws it
  return countClose(ctx, deal.ownerId, close, 1);
}

export const ownerActivityProjection = defineProjection({
  name: OWNER_ACTIVITY_PROJECTION,
  // 2: month totals (`totals`). 3: a reassigned task is completed for its new owner; a cancelled one is forgotten.
  // 4: DealReopened withdraws the close it undoes; closed deals stay in `deals`.
  version: 4,
  collections: ['deals', 'tasks', 'months', 'totals'],
  indexes: { months: ['month'], totals: ['month'] },
  on: {
    InteractionLogged(event, ctx) {
      const type = event.data.type;
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
    },
    DealOpened(event, ctx) {
      const d = event.data;
      ctx.put<Owned>('deals', { _id: d.dealId, ownerId: d.ownerId });
      return count(ctx, event.occurredAt, d.ownerId, (b) => inc(b, 'dealsOpened'));
    },
    DealWon: closed,
    DealLost: closed,
    async DealReopened(event, ctx) {
      const deal = await ctx.get<OwnedDeal>('deals', event.data.dealId);
      if (!deal?.close) return; // no close counted: nothing to withdraw
      const { close, ...open } = deal;
      ctx.put<OwnedDeal>('deals', open);
      // For the owner it was counted for (at opening), not the event's current owner.
      return countClose(ctx, open.ownerId, close, -1);
    },
    TaskCreated(event, ctx) {
      const d = event.data;
      ctx.put<Owned>('tasks', { _id: d.taskId, ownerId: d.ownerId });
      return count(ctx, event.occurredAt, d.ownerId, (b) => inc(b, 'tasksCreated'));
    },
    async TaskCompleted(event, ctx) {
      const taskId = event.data.taskId;
      const task = await ctx.get<Owned>('tasks', taskId);
      if (!task) return;
      ctx.delete('tasks', taskId);
      return count(ctx, event.occurredAt, task.ownerId, (b) => inc(b, 'tasksCompleted'));
    },
    async TaskReassigned(event, ctx) {
      // Completed later, the task counts for its owner then; its creation stays with the owner who had it.
      const task = await ctx.get<Owned>('tasks', event.data.taskId);
      if (task) ctx.put<Owned>('tasks', { ...task, ownerId: event.data.ownerId });
    },
    TaskCancelled(event, ctx) {
      ctx.delete('tasks', event.data.taskId); // closed for good, counted nowhere
    },
  },
});

/** The owner-activity month documents overlapping [startMs, endMs). */
export async function readOwnerActivity(access: ReadModelAccess, startMs: number, endMs: number): Promise<OwnerActivityMonth[]> {
  return readMonths(await access.collection<OwnerActivityMonth>(OWNER_ACTIVITY_PROJECTION, 'months'), startMs, endMs);
}

/**
 * Each owner's counters in [startMs, endMs) (whole UTC days), as (ownerId, start of the counted
 * span, counters) to be summed: a month's total (its span starting at the month) where the window
 * covers the whole month and `whole` accepts it, its days otherwise. A report with periods passes
 * `whole` = "the month lies in one period", so that every span falls in a single period.
 */
export async function ownerActivitySums(
  access: ReadModelAccess,
  startMs: number,
  endMs: number,
  whole: (monthStartMs: number, monthEndMs: number) => boolean = () => true,
): Promise<Array<[string, number, OwnerActivityCounters]>> {
  if (endMs <= startMs) return [];
  const totalled: string[] = [];
  const edges: string[] = [];
  for (let m = dayStart(monthKey(startMs), '01'); m < endMs; m = next(m, 'month')) {
    const month = monthKey(m);
    const end = next(m, 'month');
    (m >= startMs && end <= endMs && whole(m, end) ? totalled : edges).push(month);
  }
  const sums: Array<[string, number, OwnerActivityCounters]> = [];
  if (totalled.length > 0) {
    const totals = await access.collection<OwnerActivityTotal>(OWNER_ACTIVITY_PROJECTION, 'totals');
    // Whole months are contiguous (only the first and last can be partial): one index range.
    const months = new Set(totalled);
    for (const doc of await totals.find({ month: { $gte: totalled[0], $lte: totalled[totalled.length - 1] } }))
      if (months.has(doc.month)) sums.push([doc.ownerId, dayStart(doc.month, '01'), doc.total]);
  }
  if (edges.length > 0) {
    const months = await access.collection<OwnerActivityMonth>(OWNER_ACTIVITY_PROJECTION, 'months');
    // Beside whole months, the first and the last; without any (a day or week series), every month
    // of the window, read as one index range.
    const docs =
      totalled.length > 0
        ? (await Promise.all(edges.map((month) => months.find({ month })))).flat()
        : await readMonths(months, startMs, endMs);
    for (const doc of docs) for (const [dayMs, day] of daysWithin(doc, startMs, endMs)) sums.push([doc.ownerId, dayMs, day]);
  }
  return sums;
}
