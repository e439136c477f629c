import type { RecordedEvent } from '@chronicle/event-store';
import type { ProjectionContext } from '@chronicle/projector';
import { defineProjection, ProjectedEvent } from '../common/define-projection';
import { dayOf } from '../common/periods';
import { addRow, Row } from '../common/rows';

/**
 * Sales-cycle facts per UTC day (`days`, `_id` = YYYY-MM-DD): the deals won that day as
 * entries [wonAt, cycle ms, source, owner] (medians and percentiles need every value), and the
 * stage exits summed by stage. Single stage exits are also kept (`exits`, indexed on `t`), for
 * the partial days at the ends of a range. A report over [from, to) reads the day documents
 * overlapping it (about one per day, whatever the number of deals) and the single exits of at
 * most two partial days. `deals` holds what an open deal's next exit needs, and once it is closed
 * the win entry counted (a deal counts by its last close: DealReopened takes the entry back out).
 * The exit a close made stands: that stay ended then, and the reopen begins a new one.
 */
export const SALES_CYCLE_PROJECTION = 'sales-cycle';

export interface CycleDealDocument {
  _id: string;
  opened: number;
  stage: string;
  /** When the deal entered its stage (epoch ms). */
  entered: number;
  source: string;
  owner: string;
  /** Won or lost (no stay until reopened); `won` is the entry its win added. */
  closed?: true;
  won?: WonEntry;
  [key: string]: unknown;
}

/** A won deal: [wonAt (epoch ms), wonAt − openedAt (ms), source, owner]. */
export type WonEntry = [t: number, ms: number, source: string, owner: string];

/** A stage exit: `t` = when, `ms` = time spent in the stage left. `_id` = the event's global position. */
export interface StageExitDocument {
  _id: string;
  t: number;
  stage: string;
  ms: number;
  [key: string]: unknown;
}

/** One UTC day: the exits by stage (rows [stage, exits, Σ ms]) and the deals won. */
export interface CycleDayDocument {
  _id: string;
  e: Row[];
  w: WonEntry[];
  [key: string]: unknown;
}

const day = async (ctx: ProjectionContext, at: number): Promise<CycleDayDocument> => {
  const id = dayOf(at);
  return (await ctx.get<CycleDayDocument>('days', id)) ?? { _id: id, e: [], w: [] };
};

async function exit(ctx: ProjectionContext, event: RecordedEvent, deal: CycleDealDocument, at: number): Promise<void> {
  const ms = at - deal.entered;
  ctx.put<StageExitDocument>('exits', { _id: String(event.globalPosition), t: at, stage: deal.stage, ms });
  const doc = await day(ctx, at);
  addRow(doc.e, deal.stage, [1, ms]);
  ctx.put('days', doc);
}

/** A deal leaves its stage: to another one, or closed (won or lost), when it is gone. */
async function leave(event: ProjectedEvent<'DealStageChanged' | 'DealWon' | 'DealLost'>, ctx: ProjectionContext): Promise<void> {
  const at = Date.parse(event.occurredAt);
  const { dealId } = event.data;
  const deal = await ctx.get<CycleDealDocument>('deals', dealId);
  if (!deal || deal.closed) return; // closed already, or never opened
  await exit(ctx, event, deal, at);
  if (event.type === 'DealStageChanged') {
    const { to } = event.data;
    ctx.put<CycleDealDocument>('deals', { ...deal, stage: to, entered: at });
    return;
  }
  if (event.type === 'DealWon') {
    const won: WonEntry = [at, at - deal.opened, deal.source, deal.owner];
    const doc = await day(ctx, at);
    doc.w.push(won);
    ctx.put('days', doc);
    ctx.put<CycleDealDocument>('deals', { ...deal, closed: true, won });
    return;
  }
  ctx.put<CycleDealDocument>('deals', { ...deal, closed: true });
}

/** Reopened: its win (if it was won) is withdrawn from the day it was counted in; a new stay begins in `stage`. */
async function reopened(event: ProjectedEvent<'DealReopened'>, ctx: ProjectionContext): Promise<void> {
  const { dealId, stage } = event.data;
  const deal = await ctx.get<CycleDealDocument>('deals', dealId);
  if (!deal?.closed) return; // never opened, or not closed (not in a valid history)
  const { closed: _closed, won, ...open } = deal;
  if (won) {
    const doc = await day(ctx, won[0]);
    const i = doc.w.findIndex((w) => w.every((v, k) => v === won[k]));
    if (i >= 0) doc.w.splice(i, 1);
    ctx.put('days', doc);
  }
  ctx.put<CycleDealDocument>('deals', { ...open, stage, entered: Date.parse(event.occurredAt) });
}

export const salesCycleProjection = defineProjection({
  name: SALES_CYCLE_PROJECTION,
  // 2: DealReopened withdraws the win it undoes; closed deals stay in `deals`.
  version: 2,
  collections: ['deals', 'exits', 'days'],
  indexes: { exits: ['t'] },
  on: {
    DealOpened(event, ctx) {
      const at = Date.parse(event.occurredAt);
      const d = event.data;
      ctx.put<CycleDealDocument>('deals', { _id: d.dealId, opened: at, stage: d.stage, entered: at, source: d.source, owner: d.ownerId });
    },
    DealStageChanged: leave,
    DealWon: leave,
    DealLost: leave,
    DealReopened: reopened,
  },
});
