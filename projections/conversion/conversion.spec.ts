import fc from 'fast-check';
import { project, Projected, ScenarioEvent } from '../testing/harness';
import { historyArbitrary } from '../testing/random-history';
import { reportParams, reportParamsArbitrary } from '../testing/report-params';
import { leadFunnelProjection } from '../lead-funnel/projection';
import { conversionReport } from './query';
import { conversionReference } from './reference';

const lead = (id: string, type: string, occurredAt: string, data: Record<string, unknown> = {}): ScenarioEvent => ({
  streamId: `lead-${id}`,
  type,
  occurredAt,
  data: { leadId: id, ...data },
});
const captured = (id: string, occurredAt: string, source: string, campaignId?: string) =>
  lead(id, 'LeadCaptured', occurredAt, { name: `Lead ${id}`, source, ...(campaignId ? { campaignId } : {}) });
const converted = (id: string, occurredAt: string, source: string) =>
  lead(id, 'LeadConverted', occurredAt, { customerId: `c-${id}`, source });

/** Six leads around month boundaries: L1 on January's last millisecond, L2 on February's first. */
const conversionScenario: ScenarioEvent[] = [
  captured('L1', '2024-01-31T23:59:59.999Z', 'web', 'K1'),
  captured('L2', '2024-02-01T00:00:00.000Z', 'web'),
  converted('L2', '2024-02-04T12:00:00.000Z', 'web'), // 3.5 days
  converted('L1', '2024-02-10T23:59:59.999Z', 'web'), // 10 days
  captured('L3', '2024-02-15T00:00:00.000Z', 'ads'),
  lead('L3', 'LeadQualified', '2024-02-16T00:00:00.000Z'),
  captured('L4', '2024-02-20T00:00:00.000Z', 'ads', 'K1'),
  captured('L5', '2024-03-01T00:00:00.000Z', 'web'),
  lead('L5', 'LeadQualified', '2024-03-02T00:00:00.000Z'),
  lead('L5', 'LeadDisqualified', '2024-03-03T00:00:00.000Z', { reason: 'no budget' }),
  converted('L4', '2024-03-05T08:00:00.000Z', 'ads'), // 14⅓ days (2024 is a leap year)
  captured('L6', '2024-04-01T00:00:00.000Z', 'referral'),
  converted('L6', '2024-04-02T00:00:00.000Z', 'referral'),
];

const none = { captured: 0, converted: 0, conversionRate: null, avgDaysToConvert: null };

describe('conversion report', () => {
  let p: Projected;
  beforeAll(async () => {
    p = await project(conversionScenario, [leadFunnelProjection]);
  });
  afterAll(() => p.close());

  it('counts each lead in the period of its capture, converted whenever it was (cohorts)', async () => {
    const report = await conversionReport.run(
      reportParams({ from: '2024-01-15T10:00:00.000Z', to: '2024-04-01T00:00:00.000Z', interval: 'month' }),
      p.context,
    );
    expect(report).toEqual({
      interval: 'month',
      periods: [
        {
          start: '2024-01-01T00:00:00.000Z',
          end: '2024-02-01T00:00:00.000Z',
          captured: 1,
          converted: 1,
          conversionRate: 1,
          avgDaysToConvert: 10,
        },
        {
          start: '2024-02-01T00:00:00.000Z',
          end: '2024-03-01T00:00:00.000Z',
          captured: 3,
          converted: 2,
          conversionRate: 0.6667,
          avgDaysToConvert: 8.92,
        },
        {
          start: '2024-03-01T00:00:00.000Z',
          end: '2024-04-01T00:00:00.000Z',
          captured: 1,
          converted: 0,
          conversionRate: 0,
          avgDaysToConvert: null,
        },
      ],
      total: { captured: 5, converted: 3, conversionRate: 0.6, avgDaysToConvert: 9.28 },
    });
  });

  it('groups by source: every source of the range in every period, zero denominators as null', async () => {
    const report = await conversionReport.run(
      reportParams({ from: '2024-01-01T00:00:00.000Z', to: '2024-04-01T00:00:00.000Z', interval: 'month', groupBy: 'source' }),
      p.context,
    );
    expect(report.periods.map((x) => x.bySource)).toEqual([
      [
        { source: 'ads', ...none },
        { source: 'web', captured: 1, converted: 1, conversionRate: 1, avgDaysToConvert: 10 },
      ],
      [
        { source: 'ads', captured: 2, converted: 1, conversionRate: 0.5, avgDaysToConvert: 14.33 },
        { source: 'web', captured: 1, converted: 1, conversionRate: 1, avgDaysToConvert: 3.5 },
      ],
      [
        { source: 'ads', ...none },
        { source: 'web', captured: 1, converted: 0, conversionRate: 0, avgDaysToConvert: null },
      ],
    ]);
    expect(report.total.bySource).toEqual([
      { source: 'ads', captured: 2, converted: 1, conversionRate: 0.5, avgDaysToConvert: 14.33 },
      { source: 'web', captured: 3, converted: 2, conversionRate: 0.6667, avgDaysToConvert: 6.75 },
    ]);
  });

  it('serves week, day and quarter periods; empty periods give null rates', async () => {
    const weeks = await conversionReport.run(
      reportParams({ from: '2024-01-31T00:00:00.000Z', to: '2024-02-12T00:00:00.000Z', interval: 'week' }),
      p.context,
    );
    expect(weeks.periods).toEqual([
      {
        start: '2024-01-29T00:00:00.000Z',
        end: '2024-02-05T00:00:00.000Z',
        captured: 2,
        converted: 2,
        conversionRate: 1,
        avgDaysToConvert: 6.75,
      },
      { start: '2024-02-05T00:00:00.000Z', end: '2024-02-12T00:00:00.000Z', ...none },
    ]);
    const days = await conversionReport.run(
      reportParams({ from: '2024-01-31T12:00:00.000Z', to: '2024-02-01T00:00:00.001Z', interval: 'day' }),
      p.context,
    );
    expect(days.periods.map((x) => [x.start, x.captured, x.avgDaysToConvert])).toEqual([
      ['2024-01-31T00:00:00.000Z', 1, 10],
      ['2024-02-01T00:00:00.000Z', 1, 3.5],
    ]);
    const quarters = await conversionReport.run(
      reportParams({ from: '2024-01-01T00:00:00.000Z', to: '2024-07-01T00:00:00.000Z', interval: 'quarter' }),
      p.context,
    );
    expect(quarters.periods.map((x) => [x.captured, x.converted, x.conversionRate])).toEqual([
      [5, 3, 0.6],
      [1, 1, 1],
    ]);
    const empty = await conversionReport.run(
      reportParams({ from: '2023-01-01T00:00:00.000Z', to: '2023-03-01T00:00:00.000Z', groupBy: 'source' }),
      p.context,
    );
    expect(empty.total).toEqual({ ...none, bySource: [] });
  });
});

describe('conversion report = a fold of the raw events (property)', () => {
  it('matches for random histories and windows', async () => {
    let withConversions = 0;
    await fc.assert(
      fc.asyncProperty(
        historyArbitrary({ minSteps: 100, maxSteps: 300 }),
        fc.array(reportParamsArbitrary([undefined, 'source']), { minLength: 3, maxLength: 3 }),
        async (scenario, paramsList) => {
          const p = await project(scenario, [leadFunnelProjection]);
          try {
            for (const params of paramsList) {
              const served = await conversionReport.run(params, p.context);
              expect(served).toEqual(conversionReference(p.events, params));
              if (served.total.converted > 0) withConversions += 1;
            }
          } finally {
            await p.close();
          }
        },
      ),
      { numRuns: 25, seed: 41 },
    );
    expect(withConversions).toBeGreaterThan(10); // the windows do catch conversions
  });
});
