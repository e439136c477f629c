import type { Pipeline } from '@chronicle/domain';
import { DAY_MS, days, money } from '../common/numbers';
import { dayOf, truncate } from '../common/periods';
import type { ReportContext, ReportDefinition, ReportParams } from '../common/report';
import { sumRows } from '../common/rows';
import { PIPELINE_PROJECTION, PipelineDayDocument, PipelineMomentDocument, PipelineStintDocument } from './projection';
import { tableRow } from '../common/table';

export interface PipelineStageLine {
  stage: string;
  deals: number;
  value: number;
  weightedValue: number;
  /** Mean of (asOf − time the deal entered its current stage), in days; null when the stage has no deals. */
  avgAgeDays: number | null;
  /** Open deals in the stage longer than its `stallAfterDays` (only when some stage has a limit). */
  stalled?: number;
}

export interface PipelineReport {
  asOf: string;
  stages: PipelineStageLine[];
  totals: { deals: number; value: number; weightedValue: number; stalled?: number };
}

/** Per stage: deals, value, and Σ(asOf − entered) in milliseconds (exact integer). */
interface OpenStage {
  deals: number;
  value: number;
  ageMs: number;
}

/**
 * The response from the open deals per stage at asOf. Stages come in pipeline order, every
 * configured stage listed; a stage that is no longer configured but still holds open deals
 * (the pipeline configuration changed) follows, by name, with probability 0.
 */
function pipelineResponse(asOf: string, pipeline: Pipeline, open: Map<string, OpenStage>): PipelineReport {
  const configured = pipeline.stages.map((s) => s.name);
  const extra = [...open.entries()]
    .filter(([stage, s]) => !configured.includes(stage) && s.deals > 0)
    .map(([stage]) => stage)
    .sort();
  const totals = { deals: 0, value: 0, weightedValue: 0 };
  const stages = [...configured, ...extra].map((stage) => {
    const s = open.get(stage);
    const probability = pipeline.stages.find((p) => p.name === stage)?.probability ?? 0;
    const deals = s?.deals ?? 0;
    // No deals: exactly zero, whatever residue float sums of +amount/−amount left.
    const value = deals > 0 ? s!.value : 0;
    const weighted = value * probability;
    totals.deals += deals;
    totals.value += value;
    totals.weightedValue += weighted;
    return {
      stage,
      deals,
      value: money(value),
      weightedValue: money(weighted),
      avgAgeDays: deals > 0 ? days(s!.ageMs / deals / DAY_MS) : null,
    };
  });
  return { asOf, stages, totals: { deals: totals.deals, value: money(totals.value), weightedValue: money(totals.weightedValue) } };
}

/**
 * GET /reports/pipeline?asOf= — open deals at asOf (opened at or before asOf, not won or lost at
 * or before it), with the stage and amount they had at asOf. weightedValue = Σ amount × the
 * stage's probability (pipeline configuration at query time); avgAgeDays = mean of (asOf − time
 * the deal entered its current stage), null for a stage without deals. Totals are over the listed
 * stages. Reads: the month documents before asOf's month, the day documents of that month before
 * asOf's day, and the events of asOf's day up to asOf.
 */
export async function buildPipelineReport(params: Pick<ReportParams, 'asOf'>, context: ReportContext): Promise<PipelineReport> {
  const asOfMs = Date.parse(params.asOf);
  const asOf = new Date(asOfMs).toISOString();
  const dayStart = truncate(asOfMs, 'day');
  const [monthsCollection, daysCollection, momentsCollection] = await Promise.all([
    context.readModels.collection<PipelineDayDocument>(PIPELINE_PROJECTION, 'months'),
    context.readModels.collection<PipelineDayDocument>(PIPELINE_PROJECTION, 'days'),
    context.readModels.collection<PipelineMomentDocument>(PIPELINE_PROJECTION, 'moments'),
  ]);
  const day = dayOf(dayStart);
  const month = day.slice(0, 7);
  const [monthDocs, dayDocs, momentDocs] = await Promise.all([
    // In _id order: the same float sums on every store.
    monthsCollection.find({ _id: { $lt: month } }, { sort: { _id: 1 } }),
    daysCollection.find({ _id: { $gte: `${month}-01`, $lt: day } }, { sort: { _id: 1 } }),
    momentsCollection.find({ t: { $gte: dayStart, $lte: asOfMs } }, { sort: { t: 1 } }),
  ]);
  const sums = new Map<string, number[]>();
  for (const doc of monthDocs) sumRows(sums, doc.s);
  for (const doc of dayDocs) sumRows(sums, doc.s);
  for (const doc of momentDocs) sumRows(sums, doc.s);
  const asOfDay = Math.floor(asOfMs / DAY_MS);
  const asOfRest = asOfMs - asOfDay * DAY_MS;
  const open = new Map<string, OpenStage>();
  for (const [stage, [deals, value, enteredDays, enteredMs]] of sums) {
    // Σ(asOf − entered) = (n·asOfDay − Σdays)·DAY + (n·asOfRest − Σms): integers all along.
    open.set(stage, { deals, value, ageMs: (deals * asOfDay - enteredDays) * DAY_MS + (deals * asOfRest - enteredMs) });
  }
  const response = pipelineResponse(asOf, context.pipeline, open);
  if (context.pipeline.stages.some((s) => s.stallAfterDays !== undefined)) await addStalled(response, asOfMs, context);
  return response;
}

/**
 * `stalled` per stage and in the totals: deals open at asOf that entered their stage more than the
 * stage's `stallAfterDays` before asOf (0 for a stage without a limit). Listed only when the
 * pipeline configures a limit, so the default response keeps its shape.
 */
async function addStalled(response: PipelineReport, asOfMs: number, context: ReportContext): Promise<void> {
  const stints = await context.readModels.collection<PipelineStintDocument>(PIPELINE_PROJECTION, 'stints');
  let total = 0;
  for (const line of response.stages) {
    const days = context.pipeline.stages.find((s) => s.name === line.stage)?.stallAfterDays;
    line.stalled =
      days === undefined
        ? 0
        : await stints.count({
            stage: line.stage,
            entered: { $lt: asOfMs - days * DAY_MS },
            $or: [{ left: null }, { left: { $gt: asOfMs } }],
          });
    total += line.stalled;
  }
  response.totals.stalled = total;
}

export const pipelineReport: ReportDefinition = {
  name: 'pipeline',
  description:
    'Open deals by stage as of an instant (asOf, default now): count, value, weighted value (amount × stage probability) and average days in the current stage',
  projections: [PIPELINE_PROJECTION],
  tables: {
    stages: (r: PipelineReport) => r.stages.map((s) => tableRow(s)),
    totals: (r: PipelineReport) => [tableRow({ asOf: r.asOf }, r.totals)],
  },
  run: (params, context) => buildPipelineReport(params, context),
};
