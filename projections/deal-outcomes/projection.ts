import type { ProjectionContext } from '@chronicle/projector';
import { countDay, MonthDocument, readMonths } from '../common/buckets';
import { defineProjection, ProjectedEvent } from '../common/define-projection';
import { money } from '../common/numbers';
import type { ReadModelAccess } from '../common/report';

/**
 * Deals won and lost per UTC day, by deal source and by owner: one document per month and key in
 * `sources` and in `owners` (owner-activity's layout), so a query reads only the months overlapping
 * its range. Every closed deal is counted once in each collection, so either one also gives the
 * overall figures.
 *
 * Source and owner are the ones of DealOpened (remembered in `deals`, since DealWon and DealLost
 * carry neither): the owner a deal was opened for, as sales-performance counts it, so the two
 * reports agree on an owner's won, lost and revenue. A later DealOwnerAssigned does not move it.
 * Missing values: source `unknown`, owner `unassigned`.
 *
 * A deal counts by its last close: `deals` keeps the close it counted, and DealReopened takes that
 * close back out of the day and groups it was counted in.
 */
export const DEAL_OUTCOMES_PROJECTION = 'deal-outcomes';
export const DEAL_OUTCOME_GROUPS = ['source', 'owner'] as const;
export type DealOutcomeGroupBy = (typeof DEAL_OUTCOME_GROUPS)[number];
export const NO_SOURCE = 'unknown';
export const NO_OWNER = 'unassigned';

/** A day's counters; zeros are left out, which keeps the documents small. */
export interface DealOutcomeCounters {
  won?: number;
  lost?: number;
  /** Σ amount of the deals won, in whole cents: integer sums are exact in any order. */
  revenueCents?: number;
}
export type DealOutcomeMonth = MonthDocument<DealOutcomeCounters> & { key: string };

/** The close counted for a deal: [closedAt, won, cents]. */
type CountedClose = [at: string, won: boolean, cents: number];
type DealDocument = { _id: string; source: string; owner: string; close?: CountedClose };

/** `sources` or `owners`: the collection of a grouping. */
export const collectionOf = (groupBy: DealOutcomeGroupBy): string => (groupBy === 'source' ? 'sources' : 'owners');

/** An amount in whole cents, rounded as money() rounds (half away from zero, 1.005 → 101). */
export const toCents = (amount: number): number => Math.round(money(amount) * 100);

async function count(
  ctx: ProjectionContext,
  collection: string,
  occurredAt: string,
  key: string,
  change: (c: DealOutcomeCounters) => void,
) {
  await countDay<DealOutcomeCounters>(
    ctx,
    collection,
    occurredAt,
    key,
    (month, _id) => ({ _id, month, key, days: {} }),
    () => ({}),
    change,
  );
}

/** Zeros are left out, also once a close is withdrawn. */
function add(c: DealOutcomeCounters, field: keyof DealOutcomeCounters, by: number): void {
  const sum = (c[field] ?? 0) + by;
  if (sum) c[field] = sum;
  else delete c[field];
}

/** Adds (sign 1) or withdraws (sign −1) a close in both groupings. */
async function countClose(ctx: ProjectionContext, deal: Omit<DealDocument, '_id'>, [at, won, cents]: CountedClose, sign: 1 | -1) {
  const change = (c: DealOutcomeCounters) => {
    add(c, won ? 'won' : 'lost', sign);
    if (won) add(c, 'revenueCents', sign * cents);
  };
  await count(ctx, 'sources', at, deal.source, change);
  await count(ctx, 'owners', at, deal.owner, change);
}

async function closed(event: ProjectedEvent<'DealWon' | 'DealLost'>, ctx: ProjectionContext): Promise<void> {
  const d = event.data;
  // A close without an opening (not in a valid history) still counts, under unknown / unassigned,
  // so the totals hold every close.
  const deal = (await ctx.get<DealDocument>('deals', d.dealId)) ?? { _id: d.dealId, source: NO_SOURCE, owner: NO_OWNER };
  const close: CountedClose = [event.occurredAt, event.type === 'DealWon', event.type === 'DealWon' ? toCents(d.amount) : 0];
  // Kept after the close: a DealReopened withdraws exactly what was counted.
  ctx.put<DealDocument>('deals', { ...deal, close });
  await countClose(ctx, deal, close, 1);
}

export const dealOutcomesProjection = defineProjection({
  name: DEAL_OUTCOMES_PROJECTION,
  // 2: DealReopened withdraws the close it undoes; closed deals stay in `deals`.
  version: 2,
  collections: ['deals', 'sources', 'owners'],
  indexes: { sources: ['month'], owners: ['month'] },
  on: {
    DealOpened({ data: d }, ctx) {
      ctx.put<DealDocument>('deals', { _id: d.dealId, source: d.source || NO_SOURCE, owner: d.ownerId || NO_OWNER });
    },
    // DealWon carries the amount as won (after any DealAmountChanged): no need to follow changes.
    DealWon: closed,
    DealLost: closed,
    async DealReopened({ data: d }, ctx) {
      const deal = await ctx.get<DealDocument>('deals', d.dealId);
      if (!deal?.close) return; // no close counted (not in a valid history): nothing to withdraw
      const { close, ...open } = deal;
      ctx.put<DealDocument>('deals', open);
      await countClose(ctx, open, close, -1);
    },
  },
});

/** The month documents of a grouping overlapping [startMs, endMs). */
export async function readDealOutcomes(
  access: ReadModelAccess,
  groupBy: DealOutcomeGroupBy,
  startMs: number,
  endMs: number,
): Promise<DealOutcomeMonth[]> {
  return readMonths(await access.collection<DealOutcomeMonth>(DEAL_OUTCOMES_PROJECTION, collectionOf(groupBy)), startMs, endMs);
}
