import { defaultScoringModel, scoreBand } from '@chronicle/domain';
import { rate, ratio } from '../common/numbers';
import { daysWithin, dayWindow } from '../common/buckets';
import type { ReportDefinition } from '../common/report';
import { LEAD_SCORES_PROJECTION, readLeadScores, UNSCORED } from './projection';
import { tableRow } from '../common/table';

export interface ScoreBandLine {
  band: string;
  /** Lowest score of the band (null: the leads never scored). */
  min: number | null;
  leads: number;
  converted: number;
  /** converted / leads; null without leads. */
  conversionRate: number | null;
}

export interface LeadScoresReport {
  from: string;
  to: string;
  bands: ScoreBandLine[];
  total: { leads: number; converted: number; conversionRate: number | null };
}

/**
 * GET /reports/lead-scores?from&to — the scoring model judged against what converted: the leads
 * captured in the window (whole UTC days), by the band of their latest score (SCORING_FILE bands,
 * in order; `unscored` last), and how many of each band converted so far.
 */
export const leadScoresReport = {
  name: 'lead-scores',
  description: 'Leads captured in the window by score band (latest score): how many converted and the conversion rate per band',
  projections: [LEAD_SCORES_PROJECTION],
  tables: {
    bands: (r: LeadScoresReport) => r.bands.map((b) => tableRow(b)),
    total: (r: LeadScoresReport) => [tableRow({ from: r.from, to: r.to }, r.total)],
  },
  async run(params, context): Promise<LeadScoresReport> {
    const window = dayWindow(params);
    const model = context.scoring ?? defaultScoringModel;
    const months = await readLeadScores(context.readModels, window.startMs, window.endMs);
    const lines: ScoreBandLine[] = [
      ...model.bands.map((b) => ({ band: b.name, min: b.min, leads: 0, converted: 0, conversionRate: null })),
      { band: 'unscored', min: null, leads: 0, converted: 0, conversionRate: null },
    ];
    const byName = new Map(lines.map((l) => [l.band, l]));
    let leads = 0;
    for (const month of months) {
      for (const [, day] of daysWithin(month, window.startMs, window.endMs)) {
        for (const [score, counts] of Object.entries(day)) {
          const line = byName.get(score === UNSCORED ? 'unscored' : scoreBand(model, Number(score)))!;
          line.leads += counts.leads;
          line.converted += counts.converted;
          leads += counts.leads;
        }
      }
    }
    for (const line of lines) line.conversionRate = rate(ratio(line.converted, line.leads));
    const converted = lines.reduce((n, l) => n + l.converted, 0);
    return { from: window.from, to: window.to, bands: lines, total: { leads, converted, conversionRate: rate(ratio(converted, leads)) } };
  },
} satisfies ReportDefinition;
