import { parseIsoDateTime } from '@chronicle/domain';
import type { ProjectionContext } from '@chronicle/projector';
import { defineProjection, ProjectedEvent } from '../common/define-projection';

/**
 * The open deals now, summed per expected-close month and stage (`buckets`, a few dozen
 * documents): the forecast query reads them all and weighs each stage with the pipeline's
 * probability at query time, so a changed pipeline configuration needs no rebuild. `deals` keeps
 * where each open deal is counted, to move it when its stage, amount or close date changes; a
 * closed deal leaves its bucket and stays in `deals`, marked closed, till reopened.
 */
export const FORECAST_PROJECTION = 'forecast';
/** The bucket of open deals without an expected close date. */
export const NO_CLOSE_DATE = 'none';

/**
 * `archived` (issue 16): kept, but out of the buckets until restored. `closed`: won or lost, in no
 * bucket; kept for its expected-close month, which a reopen (not carrying it) puts it back under.
 */
type OpenDeal = { _id: string; month: string; stage: string; amount: number; archived?: boolean; closed?: boolean };
export type ForecastBucket = { _id: string; month: string; stage: string; deals: number; value: number };

/** The UTC month (YYYY-MM) of an expected close date, or `none`. */
export function closeMonth(date: string | undefined | null): string {
  const ms = date ? parseIsoDateTime(date) : Number.NaN;
  return Number.isNaN(ms) ? NO_CLOSE_DATE : new Date(ms).toISOString().slice(0, 7);
}

async function add(ctx: ProjectionContext, deal: OpenDeal, sign: 1 | -1): Promise<void> {
  const id = `${deal.month}|${deal.stage}`;
  const bucket = (await ctx.get<ForecastBucket>('buckets', id)) ?? { _id: id, month: deal.month, stage: deal.stage, deals: 0, value: 0 };
  bucket.deals += sign;
  bucket.value += sign * deal.amount;
  // An emptied bucket goes (with the floating-point residue of its additions and subtractions).
  if (bucket.deals === 0) ctx.delete('buckets', id);
  else ctx.put('buckets', bucket);
}

async function move(ctx: ProjectionContext, dealId: string, change: (deal: OpenDeal) => void): Promise<void> {
  const deal = await ctx.get<OpenDeal>('deals', dealId);
  if (!deal || deal.closed) return; // closed, or never opened
  if (!deal.archived) await add(ctx, deal, -1);
  const moved = { ...deal };
  change(moved);
  ctx.put('deals', moved);
  if (!moved.archived) await add(ctx, moved, 1);
}

/** A closed deal leaves its bucket, until reopened. */
async function close({ data: { dealId } }: ProjectedEvent<'DealWon' | 'DealLost'>, ctx: ProjectionContext): Promise<void> {
  const deal = await ctx.get<OpenDeal>('deals', dealId);
  if (!deal || deal.closed) return;
  if (!deal.archived) await add(ctx, deal, -1);
  const { archived: _, ...rest } = deal;
  ctx.put('deals', { ...rest, closed: true });
}

/** A reopened deal is open again in the event's stage and amount, under the close month it had. */
async function reopen({ data: d }: ProjectedEvent<'DealReopened'>, ctx: ProjectionContext): Promise<void> {
  const deal = await ctx.get<OpenDeal>('deals', d.dealId);
  if (!deal?.closed) return; // open already, or never opened
  const open: OpenDeal = { _id: deal._id, month: deal.month, stage: d.stage, amount: d.amount };
  ctx.put('deals', open);
  await add(ctx, open, 1);
}

/** An archived open deal leaves its bucket until restored (issue 16); a closed one is in none. */
async function archive({ type, data: { dealId } }: ProjectedEvent<'DealArchived' | 'DealRestored'>, ctx: ProjectionContext): Promise<void> {
  const deal = await ctx.get<OpenDeal>('deals', dealId);
  const archived = type === 'DealArchived';
  if (!deal || deal.closed || Boolean(deal.archived) === archived) return;
  await add(ctx, deal, archived ? -1 : 1);
  const { archived: _, ...rest } = deal;
  ctx.put('deals', archived ? { ...rest, archived } : rest);
}

export const forecastProjection = defineProjection({
  name: FORECAST_PROJECTION,
  // 2: archived open deals leave the forecast until restored (DealArchived, DealRestored).
  // 3: closed deals are kept (closed) and a reopened one is back in its bucket (DealReopened).
  version: 3,
  collections: ['deals', 'buckets'],
  on: {
    DealOpened({ data: d }, ctx) {
      const deal: OpenDeal = { _id: d.dealId, month: closeMonth(d.expectedCloseDate), stage: d.stage, amount: d.amount };
      ctx.put('deals', deal);
      return add(ctx, deal, 1);
    },
    DealStageChanged: ({ data: d }, ctx) => move(ctx, d.dealId, (deal) => void (deal.stage = d.to)),
    DealAmountChanged: ({ data: d }, ctx) => move(ctx, d.dealId, (deal) => void (deal.amount = d.to)),
    DealExpectedCloseDateChanged: ({ data: d }, ctx) => move(ctx, d.dealId, (deal) => void (deal.month = closeMonth(d.to))),
    DealWon: close,
    DealLost: close,
    DealArchived: archive,
    DealRestored: archive,
    DealReopened: reopen,
  },
});
