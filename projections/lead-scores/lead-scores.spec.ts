import { project, Projected, ScenarioEvent } from '../testing/harness';
import { reportParams } from '../testing/report-params';
import { leadScoresProjection } from './projection';
import { leadScoresReport } from './query';

const lead = (id: string, type: string, occurredAt: string, data: Record<string, unknown> = {}): ScenarioEvent => ({
  streamId: `lead-${id}`,
  type,
  occurredAt,
  data: { leadId: id, ...data },
});
const captured = (id: string, at: string) => lead(id, 'LeadCaptured', at, { name: id, source: 'web' });
const scored = (id: string, at: string, score: number) => lead(id, 'LeadScored', at, { score, reasons: [] });
const converted = (id: string, at: string) => lead(id, 'LeadConverted', at, { customerId: `c-${id}`, source: 'web' });

// Default bands: cold ≥ 0, warm ≥ 30, hot ≥ 60.
const scenario: ScenarioEvent[] = [
  captured('L1', '2024-02-01T10:00:00.000Z'),
  scored('L1', '2024-02-01T10:00:01.000Z', 20),
  converted('L1', '2024-02-10T00:00:00.000Z'),
  scored('L1', '2024-02-20T00:00:00.000Z', 65), // re-scored after converting: moves to hot, conversion with it
  captured('L2', '2024-02-29T23:59:59.999Z'), // last instant of the window
  scored('L2', '2024-03-05T00:00:00.000Z', 29.99), // cold (just below warm)
  captured('L3', '2024-02-15T00:00:00.000Z'), // never scored
  captured('L4', '2024-03-01T00:00:00.000Z'), // after the window
  scored('L4', '2024-03-01T00:00:01.000Z', 90),
  converted('L4', '2024-03-02T00:00:00.000Z'),
  captured('L5', '2024-01-31T23:59:59.999Z'), // before the window
  scored('L5', '2024-02-02T00:00:00.000Z', 30),
];

describe('lead-scores report (month counters by exact score)', () => {
  let p: Projected;
  beforeAll(async () => {
    p = await project(scenario, [leadScoresProjection]);
  });
  afterAll(() => p.close());

  it('counts the leads captured in the window by the band of their latest score, conversions moving with a re-score', async () => {
    const report = await leadScoresReport.run(
      reportParams({ from: '2024-02-01T00:00:00.000Z', to: '2024-03-01T00:00:00.000Z' }),
      p.context,
    );
    expect(report).toEqual({
      from: '2024-02-01T00:00:00.000Z',
      to: '2024-03-01T00:00:00.000Z',
      bands: [
        { band: 'cold', min: 0, leads: 1, converted: 0, conversionRate: 0 },
        { band: 'warm', min: 30, leads: 0, converted: 0, conversionRate: null },
        { band: 'hot', min: 60, leads: 1, converted: 1, conversionRate: 1 },
        { band: 'unscored', min: null, leads: 1, converted: 0, conversionRate: 0 },
      ],
      total: { leads: 3, converted: 1, conversionRate: 0.3333 },
    });
  });

  it('an empty window has zero leads and null rates', async () => {
    const report = await leadScoresReport.run(
      reportParams({ from: '2023-01-01T00:00:00.000Z', to: '2023-02-01T00:00:00.000Z' }),
      p.context,
    );
    expect(report.total).toEqual({ leads: 0, converted: 0, conversionRate: null });
    expect(report.bands.every((b) => b.leads === 0 && b.conversionRate === null)).toBe(true);
  });
});
