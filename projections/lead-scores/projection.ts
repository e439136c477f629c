import type { ProjectionContext } from '@chronicle/projector';
import { countDay, MonthDocument, readMonths } from '../common/buckets';
import { defineProjection } from '../common/define-projection';
import type { ReadModelAccess } from '../common/report';

/**
 * Leads by capture day and latest score, for the lead-scores report: per UTC month one document
 * with, per day, `{ leads, converted }` per score (`unscored` before the first). The bands come
 * from SCORING_FILE at query time, so the counters keep the exact score, not a band. A re-score
 * moves the lead (and its conversion) from its old score to the new one; `leads` remembers each
 * lead's capture day, score and conversion for that.
 */
export const LEAD_SCORES_PROJECTION = 'lead-scores';

export const UNSCORED = 'unscored';
export type ScoreCounters = Record<string, { leads: number; converted: number }>;
export type ScoreMonth = MonthDocument<ScoreCounters>;
type LeadScoreDocument = { _id: string; capturedAt: string; score: string; converted: boolean };

const init = (month: string, _id: string) => ({ _id, month, days: {} }) as ScoreMonth;

/** Adds `by` to the lead's score line on its capture day. */
function add(ctx: ProjectionContext, lead: LeadScoreDocument, by: { leads: number; converted: number }): Promise<void> {
  return countDay<ScoreCounters>(
    ctx,
    'months',
    lead.capturedAt,
    'all',
    init,
    () => ({}),
    (day) => {
      const line = (day[lead.score] ??= { leads: 0, converted: 0 });
      line.leads += by.leads;
      line.converted += by.converted;
      if (line.leads === 0 && line.converted === 0) delete day[lead.score];
    },
  );
}

export const leadScoresProjection = defineProjection({
  name: LEAD_SCORES_PROJECTION,
  version: 1,
  collections: ['leads', 'months'],
  indexes: { months: ['month'] },
  on: {
    LeadCaptured(event, ctx) {
      const lead: LeadScoreDocument = { _id: event.data.leadId, capturedAt: event.occurredAt, score: UNSCORED, converted: false };
      ctx.put('leads', lead);
      return add(ctx, lead, { leads: 1, converted: 0 });
    },
    async LeadScored(event, ctx) {
      const d = event.data;
      const lead = await ctx.get<LeadScoreDocument>('leads', d.leadId);
      const score = String(d.score);
      if (!lead || lead.score === score) return;
      const converted = lead.converted ? 1 : 0;
      await add(ctx, lead, { leads: -1, converted: -converted });
      const moved = { ...lead, score };
      ctx.put('leads', moved);
      return add(ctx, moved, { leads: 1, converted });
    },
    async LeadConverted(event, ctx) {
      const lead = await ctx.get<LeadScoreDocument>('leads', event.data.leadId);
      if (!lead || lead.converted) return;
      ctx.put('leads', { ...lead, converted: true });
      return add(ctx, lead, { leads: 0, converted: 1 });
    },
  },
});

/** The month documents overlapping [startMs, endMs). */
export async function readLeadScores(access: ReadModelAccess, startMs: number, endMs: number): Promise<ScoreMonth[]> {
  return readMonths(await access.collection<ScoreMonth>(LEAD_SCORES_PROJECTION, 'months'), startMs, endMs);
}
