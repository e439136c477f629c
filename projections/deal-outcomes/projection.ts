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
 * Source and owner are the ones of DealOpened (remembered in `deals` while the deal is open, since
 * DealWon and DealLost carry neither): the owner a deal was opened for, as sales-performance counts
 * it, so the two reports agree on an owner's won, lost and revenue. A later DealOwnerAssigned does
 * not move it. Missing values: source `unknown`, owner `unassigned`.
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

type OpenDeal = { _id: string; source: string; owner: string };

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

async function closed(event: ProjectedEvent<'DealWon' | 'DealLost'>, ctx: ProjectionContext): Promise<void> {
  const d = event.data;
  const deal = await ctx.get<OpenDeal>('deals', d.dealId);
  // Closed for good (the decider refuses a second close). A close without an opening (not in a
  // valid history) still counts, under unknown / unassigned, so the totals hold every close.
  if (deal) ctx.delete('deals', d.dealId);
  const cents = event.type === 'DealWon' ? toCents(d.amount) : 0;
  const change = (c: DealOutcomeCounters) => {
    if (event.type === 'DealLost') c.lost = (c.lost ?? 0) + 1;
    else {
      c.won = (c.won ?? 0) + 1;
      if (cents) c.revenueCents = (c.revenueCents ?? 0) + cents;
    }
  };
  await count(ctx, 'sources', event.occurredAt, deal?.source ?? NO_SOURCE, change);
  await count(ctx, 'owners', event.occurredAt, deal?.owner ?? NO_OWNER, change);
}

export const dealOutcomesProjection = defineProjection({
  name: DEAL_OUTCOMES_PROJECTION,
  version: 1,
  collections: ['deals', 'sources', 'owners'],
  indexes: { sources: ['month'], owners: ['month'] },
  on: {
    DealOpened({ data: d }, ctx) {
      ctx.put<OpenDeal>('deals', { _id: d.dealId, source: d.source || NO_SOURCE, owner: d.ownerId || NO_OWNER });
    },
    // DealWon carries the amount as won (after any DealAmountChanged): no need to follow changes.
    DealWon: closed,
    DealLost: closed,
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
