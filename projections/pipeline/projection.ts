import type { RecordedEvent } from '@chronicle/event-store';
import type { ProjectionContext } from '@chronicle/projector';
import { defineProjection, ProjectedEvent } from '../common/define-projection';
import { DAY_MS } from '../common/numbers';
import { dayOf } from '../common/periods';
import { addRow, Row } from '../common/rows';

/**
 * Open deals by stage at any past instant, as deltas in business time. Every deal event is
 * turned into changes of the open pipeline — per stage: [deals, value, Σ whole days of stage
 * entry, Σ milliseconds-in-day of stage entry] — which are added to the documents of its UTC
 * month (`months`) and day (`days`) and kept per event (`moments`, indexed on `t`). The pipeline
 * at `asOf` is the sum of the months before asOf's month, the days of that month before asOf's
 * day and the moments of asOf's day up to asOf: one document per month of history, at most 30
 * days and the deal events of a single day, whatever the number of deals.
 *
 * Stage entry times are summed as two integers (days, milliseconds within the day) so that the
 * total age Σ(asOf − entered) is exact; a deal's events are ordered in business time, so the
 * events at or before an instant are a prefix of its stream and their deltas add up to its
 * state at that instant.
 */
export const PIPELINE_PROJECTION = 'pipeline';

/** Per stage: deals, value, Σ floor(entered / day), Σ (entered mod day). */
export type StageRow = [stage: string, deals: number, value: number, enteredDays: number, enteredMs: number];

/** The open part of a deal, while it is open (deleted once won or lost). */
export interface PipelineDealDocument {
  _id: string;
  stage: string;
  amount: number;
  /** When the deal entered its stage (epoch ms). */
  entered: number;
  /** Its current stay in the stage (`stints` document id). */
  stint?: string;
  /** Archived (issue 16): out of the open pipeline until restored; the document keeps its stage and amount. */
  archived?: boolean;
  [key: string]: unknown;
}

/**
 * One stay of a deal in a stage, `_id` = `<dealId>|<position of the event that entered it>`;
 * `left` = when it left (changed stage, won, lost), null while it is there. Counts the stalled
 * deals at any instant: in a stage with a limit, entered before asOf − limit, not left by asOf.
 */
export interface PipelineStintDocument {
  _id: string;
  stage: string;
  entered: number;
  left: number | null;
  [key: string]: unknown;
}

/** The deltas of one UTC day, `_id` = YYYY-MM-DD; of one UTC month (`months`), `_id` = YYYY-MM. */
export interface PipelineDayDocument {
  _id: string;
  s: StageRow[];
  [key: string]: unknown;
}

/** The deltas of one deal event, `_id` = its global position; `t` = occurredAt (epoch ms). */
export interface PipelineMomentDocument {
  _id: string;
  t: number;
  s: StageRow[];
  [key: string]: unknown;
}

const entry = (ms: number): [number, number] => {
  const d = Math.floor(ms / DAY_MS);
  return [d, ms - d * DAY_MS];
};

/** The stage deltas of one event. */
class Deltas {
  readonly rows: Row[] = [];
  enter(stage: string, amount: number, at: number): void {
    addRow(this.rows, stage, [1, amount, ...entry(at)]);
  }
  leave(stage: string, amount: number, at: number): void {
    addRow(this.rows, stage, [1, amount, ...entry(at)], -1);
  }
  revalue(stage: string, from: number, to: number): void {
    addRow(this.rows, stage, [0, to - from, 0, 0]);
  }
}

async function record(ctx: ProjectionContext, event: RecordedEvent, at: number, deltas: Deltas): Promise<void> {
  if (deltas.rows.length === 0) return;
  const dayId = dayOf(at);
  for (const [collection, id] of [
    ['days', dayId],
    ['months', dayId.slice(0, 7)],
  ]) {
    const sums = (await ctx.get<PipelineDayDocument>(collection, id)) ?? { _id: id, s: [] };
    for (const [stage, ...values] of deltas.rows) addRow(sums.s, stage, values);
    ctx.put(collection, sums);
  }
  ctx.put<PipelineMomentDocument>('moments', { _id: String(event.globalPosition), t: at, s: deltas.rows as StageRow[] });
}

async function leave(ctx: ProjectionContext, deal: PipelineDealDocument, at: number): Promise<void> {
  if (!deal.stint) return;
  const stint = await ctx.get<PipelineStintDocument>('stints', deal.stint);
  if (stint) ctx.put<PipelineStintDocument>('stints', { ...stint, left: at });
}

/** Any deal event but DealOpened: it changes the deal while it is open (else it is ignored). */
async function change(
  event: ProjectedEvent<'DealStageChanged' | 'DealAmountChanged' | 'DealWon' | 'DealLost'>,
  ctx: ProjectionContext,
): Promise<void> {
  const at = Date.parse(event.occurredAt);
  const deltas = new Deltas();
  const { dealId } = event.data;
  const deal = await ctx.get<PipelineDealDocument>('deals', dealId);
  if (!deal) return; // closed already (a closed deal accepts no change) or never opened
  if (deal.archived) return; // an archived deal accepts no change but its restore
  switch (event.type) {
    case 'DealStageChanged': {
      const { to } = event.data;
      deltas.leave(deal.stage, deal.amount, deal.entered);
      deltas.enter(to, deal.amount, at);
      await leave(ctx, deal, at);
      const stint = `${dealId}|${event.globalPosition}`;
      ctx.put<PipelineDealDocument>('deals', { ...deal, stage: to, entered: at, stint });
      ctx.put<PipelineStintDocument>('stints', { _id: stint, stage: to, entered: at, left: null });
      break;
    }
    case 'DealAmountChanged': {
      const { to } = event.data;
      deltas.revalue(deal.stage, deal.amount, to);
      ctx.put<PipelineDealDocument>('deals', { ...deal, amount: to });
      break;
    }
    case 'DealWon':
    case 'DealLost': {
      deltas.leave(deal.stage, deal.amount, deal.entered);
      await leave(ctx, deal, at);
      ctx.delete('deals', dealId);
      break;
    }
  }
  return record(ctx, event, at, deltas);
}

/**
 * Archiving an open deal takes it out of the open pipeline from the archive's business time, as
 * closing it would (its stay in the stage ends); restoring it puts it back from the restore's,
 * as if it entered its stage then (a new stay: its age in the stage and its stall clock restart).
 * A closed deal is not in the open pipeline: archiving or restoring it changes nothing here.
 */
async function archive(event: ProjectedEvent<'DealArchived' | 'DealRestored'>, ctx: ProjectionContext): Promise<void> {
  const at = Date.parse(event.occurredAt);
  const { dealId } = event.data;
  const deal = await ctx.get<PipelineDealDocument>('deals', dealId);
  if (!deal) return; // closed, or never opened
  const deltas = new Deltas();
  if (event.type === 'DealArchived') {
    if (deal.archived) return;
    deltas.leave(deal.stage, deal.amount, deal.entered);
    await leave(ctx, deal, at);
    ctx.put<PipelineDealDocument>('deals', { ...deal, archived: true, stint: undefined });
  } else {
    if (!deal.archived) return;
    const stint = `${dealId}|${event.globalPosition}`;
    deltas.enter(deal.stage, deal.amount, at);
    ctx.put<PipelineDealDocument>('deals', { _id: deal._id, stage: deal.stage, amount: deal.amount, entered: at, stint });
    ctx.put<PipelineStintDocument>('stints', { _id: stint, stage: deal.stage, entered: at, left: null });
  }
  return record(ctx, event, at, deltas);
}

/**
 * A reopened deal is open again from the reopen's business time, in the event's stage and with its
 * amount: a new stay, as after a restore. Its close left the pipeline at the close and the time
 * between stays in no stage, so views as of an instant before the reopen are unchanged.
 */
async function reopen(event: ProjectedEvent<'DealReopened'>, ctx: ProjectionContext): Promise<void> {
  const at = Date.parse(event.occurredAt);
  const { dealId, stage, amount } = event.data;
  if (await ctx.get<PipelineDealDocument>('deals', dealId)) return; // open already: nothing to reopen
  const deltas = new Deltas();
  const stint = `${dealId}|${event.globalPosition}`;
  deltas.enter(stage, amount, at);
  ctx.put<PipelineDealDocument>('deals', { _id: dealId, stage, amount, entered: at, stint });
  ctx.put<PipelineStintDocument>('stints', { _id: stint, stage, entered: at, left: null });
  return record(ctx, event, at, deltas);
}

export const pipelineProjection = defineProjection({
  name: PIPELINE_PROJECTION,
  // 3: archived open deals leave the open pipeline until restored (DealArchived, DealRestored).
  // 4: a reopened deal is open again from the reopen (DealReopened).
  // 5: month sums (`months`), so that a report reads one document per month of history, not per day.
  version: 5,
  collections: ['deals', 'days', 'months', 'moments', 'stints'],
  indexes: { moments: ['t'], stints: ['stage', 'entered'] },
  on: {
    DealOpened(event, ctx) {
      const at = Date.parse(event.occurredAt);
      const deltas = new Deltas();
      const d = event.data;
      const stint = `${d.dealId}|${event.globalPosition}`;
      ctx.put<PipelineDealDocument>('deals', { _id: d.dealId, stage: d.stage, amount: d.amount, entered: at, stint });
      ctx.put<PipelineStintDocument>('stints', { _id: stint, stage: d.stage, entered: at, left: null });
      deltas.enter(d.stage, d.amount, at);
      return record(ctx, event, at, deltas);
    },
    DealStageChanged: change,
    DealAmountChanged: change,
    DealWon: change,
    DealLost: change,
    DealArchived: archive,
    DealRestored: archive,
    DealReopened: reopen,
  },
});
