import type { ProjectionContext } from '@chronicle/projector';
import { defineProjection, ProjectedEvent } from '../common/define-projection';
import { DAY_MS } from '../common/numbers';
import { dayOf, truncate } from '../common/periods';
import { addRow, Row } from '../common/rows';
import { NO_OWNER } from '../deal-outcomes/projection';

/**
 * The open pipeline per owner and stage at every UTC midnight, as deltas. The pipeline projection
 * keeps the open deals per stage only (its day and moment documents carry no deal or owner), so
 * the as-of pipeline of one owner needs a projection of its own; this one keeps only what the
 * forecast-accuracy report reads: [deals, value] per (owner, stage).
 *
 * Every period starts at a UTC midnight, so only the pipeline at midnights is needed: the change
 * made by an event at `t` is in the pipeline at every midnight ≥ t, and is added to the document of
 * the first of them (`days`, `_id` = its YYYY-MM-DD; an event at exactly midnight goes to that
 * same day). The pipeline at midnight M is then the sum of the documents up to M's: one document per
 * day of history, whatever the number of deals, and no per-event documents.
 *
 * The owner is the one of DealOpened (`unassigned` when empty), as deal-outcomes counts revenue;
 * a later DealOwnerAssigned does not move the deal.
 */
export const FORECAST_ACCURACY_PROJECTION = 'forecast-accuracy';

/** A deal's owner, stage and amount; `closed` once won or lost (kept for its owner, should it be reopened); `archived` while an open deal is. */
export interface AccuracyDealDocument {
  _id: string;
  owner: string;
  stage: string;
  amount: number;
  closed?: boolean;
  archived?: boolean;
  [key: string]: unknown;
}

/** The changes first in the pipeline at the midnight starting `_id` (YYYY-MM-DD): rows [ownerStageKey, deals, value]. */
export interface AccuracyDayDocument {
  _id: string;
  s: Row[];
  [key: string]: unknown;
}

/** The row key of an (owner, stage) pair: both are user data, JSON keeps any character unambiguous. */
export const ownerStageKey = (owner: string, stage: string): string => JSON.stringify([owner, stage]);
export const parseOwnerStageKey = (key: string): [owner: string, stage: string] => JSON.parse(key) as [string, string];

/** The first UTC midnight at or after `ms`. */
const midnightFrom = (ms: number): number => {
  const day = truncate(ms, 'day');
  return day === ms ? ms : day + DAY_MS;
};

async function record(ctx: ProjectionContext, occurredAt: string, rows: Row[]): Promise<void> {
  if (rows.length === 0) return;
  const id = dayOf(midnightFrom(Date.parse(occurredAt)));
  const day = (await ctx.get<AccuracyDayDocument>('days', id)) ?? { _id: id, s: [] };
  for (const [key, ...values] of rows) addRow(day.s, key, values);
  ctx.put('days', day);
}

/** Any deal event but DealOpened: it changes the deal while it is open (else it is ignored). */
async function change(
  event: ProjectedEvent<'DealStageChanged' | 'DealAmountChanged' | 'DealWon' | 'DealLost'>,
  ctx: ProjectionContext,
): Promise<void> {
  const deal = await ctx.get<AccuracyDealDocument>('deals', event.data.dealId);
  if (!deal || deal.closed) return; // closed already or never opened
  const rows: Row[] = [];
  const before = ownerStageKey(deal.owner, deal.stage);
  switch (event.type) {
    case 'DealStageChanged': {
      addRow(rows, before, [1, deal.amount], -1);
      addRow(rows, ownerStageKey(deal.owner, event.data.to), [1, deal.amount]);
      ctx.put<AccuracyDealDocument>('deals', { ...deal, stage: event.data.to });
      break;
    }
    case 'DealAmountChanged': {
      addRow(rows, before, [0, event.data.to - deal.amount]);
      ctx.put<AccuracyDealDocument>('deals', { ...deal, amount: event.data.to });
      break;
    }
    case 'DealWon':
    case 'DealLost': {
      addRow(rows, before, [1, deal.amount], -1);
      ctx.put<AccuracyDealDocument>('deals', { ...deal, closed: true });
      break;
    }
  }
  return record(ctx, event.occurredAt, rows);
}

/**
 * A reopened deal is open again from the reopen, in the event's stage and amount, under the owner it
 * was opened for (not the event's current owner). Its close's withdrawal from the revenue won is
 * deal-outcomes' part; the pipeline at midnights before the reopen stays as it stood.
 */
async function reopen(event: ProjectedEvent<'DealReopened'>, ctx: ProjectionContext): Promise<void> {
  const { dealId, stage, amount } = event.data;
  const deal = await ctx.get<AccuracyDealDocument>('deals', dealId);
  if (!deal?.closed) return; // open already, or never opened
  ctx.put<AccuracyDealDocument>('deals', { _id: deal._id, owner: deal.owner, stage, amount });
  return record(ctx, event.occurredAt, [[ownerStageKey(deal.owner, stage), 1, amount]]);
}

/**
 * An open deal archived leaves the pipeline from the archive, and comes back at its restore, as in
 * the pipeline report (the forecast is its weighted value at each start). An archived deal accepts
 * no other change, so only the two move it; a closed one is out of the pipeline already.
 */
async function archive(event: ProjectedEvent<'DealArchived' | 'DealRestored'>, ctx: ProjectionContext): Promise<void> {
  const deal = await ctx.get<AccuracyDealDocument>('deals', event.data.dealId);
  const archived = event.type === 'DealArchived';
  if (!deal || deal.closed || Boolean(deal.archived) === archived) return;
  ctx.put<AccuracyDealDocument>('deals', { ...deal, archived });
  return record(ctx, event.occurredAt, [[ownerStageKey(deal.owner, deal.stage), archived ? -1 : 1, archived ? -deal.amount : deal.amount]]);
}

export const forecastAccuracyProjection = defineProjection({
  name: FORECAST_ACCURACY_PROJECTION,
  // 2: closed deals are kept (closed); a reopened one is open again (DealReopened).
  // 3: an archived open deal leaves the pipeline until restored (DealArchived, DealRestored).
  version: 3,
  collections: ['deals', 'days'],
  on: {
    DealOpened(event, ctx) {
      const d = event.data;
      const deal: AccuracyDealDocument = { _id: d.dealId, owner: d.ownerId || NO_OWNER, stage: d.stage, amount: d.amount };
      ctx.put('deals', deal);
      return record(ctx, event.occurredAt, [[ownerStageKey(deal.owner, deal.stage), 1, deal.amount]]);
    },
    DealStageChanged: change,
    DealAmountChanged: change,
    DealWon: change,
    DealLost: change,
    DealReopened: reopen,
    DealArchived: archive,
    DealRestored: archive,
  },
});
