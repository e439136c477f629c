import fc from 'fast-check';
import { defaultPipeline, InvalidInput, Pipeline } from '@chronicle/domain';
import { appendAndProject } from '../testing/append';
import { project, Projected, ScenarioEvent } from '../testing/harness';
import { historyArbitrary } from '../testing/random-history';
import { reportParams } from '../testing/report-params';
import { forecastProjection } from './projection';
import { forecastReport } from './query';
import { forecastReference } from './reference';

const deal = (id: string, type: string, occurredAt: string, data: Record<string, unknown> = {}): ScenarioEvent => ({
  streamId: `deal-${id}`,
  type,
  occurredAt,
  data: { dealId: id, ...data },
});
const opened = (id: string, occurredAt: string, stage: string, amount: number, expectedCloseDate?: string) =>
  deal(id, 'DealOpened', occurredAt, {
    customerId: 'C1',
    title: id,
    ownerId: 'u1',
    source: 'web',
    stage,
    amount,
    ...(expectedCloseDate ? { expectedCloseDate } : {}),
  });

const scenario: ScenarioEvent[] = [
  opened('D1', '2024-01-01T00:00:00.000Z', 'qualification', 1000, '2024-03-15'),
  deal('D1', 'DealStageChanged', '2024-01-10T00:00:00.000Z', { from: 'qualification', to: 'proposal' }),
  opened('D2', '2024-01-02T00:00:00.000Z', 'proposal', 2000, '2024-03-31'),
  deal('D2', 'DealAmountChanged', '2024-01-11T00:00:00.000Z', { from: 2000, to: 2500 }),
  opened('D3', '2024-01-03T00:00:00.000Z', 'negotiation', 500, '2024-04-01'),
  opened('D4', '2024-01-04T00:00:00.000Z', 'qualification', 300),
  opened('D5', '2024-01-05T00:00:00.000Z', 'qualification', 700),
  deal('D5', 'DealExpectedCloseDateChanged', '2024-01-12T00:00:00.000Z', { to: '2024-04-20' }),
  opened('D6', '2024-01-06T00:00:00.000Z', 'needs-analysis', 400, '2024-03-01'),
  deal('D6', 'DealWon', '2024-01-20T00:00:00.000Z', { customerId: 'C1', amount: 400, stage: 'needs-analysis' }),
  opened('D7', '2024-01-07T00:00:00.000Z', 'proposal', 900, '2024-02-01'),
  deal('D7', 'DealLost', '2024-01-21T00:00:00.000Z', { customerId: 'C1', amount: 900, stage: 'proposal', reason: 'price' }),
];

describe('forecast report', () => {
  let p: Projected;
  beforeAll(async () => {
    p = await project(scenario, [forecastProjection]);
  });
  afterAll(() => p.close());

  it('open deals by expected-close month with stage-weighted value; no date → none (last, always listed)', async () => {
    const report = await forecastReport.run(reportParams(), p.context);
    expect(report).toEqual({
      asOf: expect.any(String),
      months: [
        { month: '2024-03', deals: 2, value: 3500, weightedValue: 1750 }, // D1 1000 × 0.5 + D2 2500 × 0.5
        { month: '2024-04', deals: 2, value: 1200, weightedValue: 470 }, // D3 500 × 0.8 + D5 700 × 0.1
        { month: 'none', deals: 1, value: 300, weightedValue: 30 },
      ],
      totals: { deals: 5, value: 5000, weightedValue: 2250 },
    });
    expect(Math.abs(Date.parse(report.asOf) - Date.now())).toBeLessThan(5000);
  });

  it('weighs with the pipeline configuration of the query (no rebuild when it changes)', async () => {
    const pipeline: Pipeline = { stages: defaultPipeline.stages.map((s) => ({ ...s, probability: s.name === 'proposal' ? 1 : 0 })) };
    const report = await forecastReport.run(reportParams(), { ...p.context, pipeline });
    expect(report.months.map((m) => m.weightedValue)).toEqual([3500, 0, 0]);
  });

  it('follows closes and moves; an emptied month disappears; none stays with zeros', async () => {
    await appendAndProject(p, [
      deal('D3', 'DealWon', '2024-02-01T00:00:00.000Z', { customerId: 'C1', amount: 500, stage: 'negotiation' }),
      deal('D5', 'DealLost', '2024-02-01T00:00:00.000Z', { customerId: 'C1', amount: 700, stage: 'qualification', reason: 'timing' }),
      deal('D4', 'DealExpectedCloseDateChanged', '2024-02-02T00:00:00.000Z', { to: '2024-03-05T10:00:00Z' }),
    ]);
    expect(await forecastReport.run(reportParams(), p.context)).toEqual({
      asOf: expect.any(String),
      months: [
        { month: '2024-03', deals: 3, value: 3800, weightedValue: 1780 },
        { month: 'none', deals: 0, value: 0, weightedValue: 0 },
      ],
      totals: { deals: 3, value: 3800, weightedValue: 1780 },
    });
  });

  it('refuses an asOf in the past rather than answering for now', async () => {
    await expect(forecastReport.run(reportParams({ asOf: '2024-01-15T00:00:00.000Z' }), p.context)).rejects.toBeInstanceOf(InvalidInput);
  });
});

describe('forecast report with reopened deals', () => {
  const reopened = (id: string, occurredAt: string, data: Record<string, unknown>) =>
    deal(id, 'DealReopened', occurredAt, { customerId: 'C1', ownerId: 'u1', ...data });

  it('a reopened deal is back under its expected-close month, in the stage it reopened into; closed again, it leaves', async () => {
    const p = await project(
      [
        // R1: won from proposal, reopened into negotiation: back in 2024-05, 800 × 0.8.
        opened('R1', '2024-01-01T00:00:00.000Z', 'proposal', 800, '2024-05-10'),
        deal('R1', 'DealWon', '2024-02-01T00:00:00.000Z', { customerId: 'C1', amount: 800, stage: 'proposal' }),
        reopened('R1', '2024-03-01T00:00:00.000Z', {
          amount: 800,
          stage: 'negotiation',
          outcome: 'won',
          closedAt: '2024-02-01T00:00:00.000Z',
          closedStage: 'proposal',
        }),
        // R2: lost without a close date, reopened into qualification: back under none, 600 × 0.1.
        opened('R2', '2024-01-02T00:00:00.000Z', 'proposal', 600),
        deal('R2', 'DealLost', '2024-02-02T00:00:00.000Z', { customerId: 'C1', amount: 600, stage: 'proposal', reason: 'price' }),
        reopened('R2', '2024-03-02T00:00:00.000Z', {
          amount: 600,
          stage: 'qualification',
          outcome: 'lost',
          closedAt: '2024-02-02T00:00:00.000Z',
          closedStage: 'proposal',
          lostReason: 'price',
        }),
        // R3: won, reopened, then lost: out again.
        opened('R3', '2024-01-03T00:00:00.000Z', 'negotiation', 300, '2024-05-01'),
        deal('R3', 'DealWon', '2024-02-03T00:00:00.000Z', { customerId: 'C1', amount: 300, stage: 'negotiation' }),
        reopened('R3', '2024-03-03T00:00:00.000Z', {
          amount: 300,
          stage: 'negotiation',
          outcome: 'won',
          closedAt: '2024-02-03T00:00:00.000Z',
          closedStage: 'negotiation',
        }),
        deal('R3', 'DealLost', '2024-03-04T00:00:00.000Z', { customerId: 'C1', amount: 300, stage: 'negotiation', reason: 'timing' }),
      ],
      [forecastProjection],
    );
    try {
      const report = await forecastReport.run(reportParams(), p.context);
      expect(report).toEqual({
        asOf: expect.any(String),
        months: [
          { month: '2024-05', deals: 1, value: 800, weightedValue: 640 }, // R1 800 × 0.8
          { month: 'none', deals: 1, value: 600, weightedValue: 60 }, // R2 600 × 0.1
        ],
        totals: { deals: 2, value: 1400, weightedValue: 700 },
      });
      expect(report).toEqual(forecastReference(p.events, defaultPipeline, report.asOf));
      // A reopened deal moves like any open one: R1's close date to June.
      await appendAndProject(p, [deal('R1', 'DealExpectedCloseDateChanged', '2024-03-05T00:00:00.000Z', { to: '2024-06-01' })]);
      expect((await forecastReport.run(reportParams(), p.context)).months[0]).toEqual({
        month: '2024-06',
        deals: 1,
        value: 800,
        weightedValue: 640,
      });
    } finally {
      await p.close();
    }
  });

  it('property: matches the fold of the raw events for random histories with reopens', async () => {
    let withReopens = 0;
    await fc.assert(
      fc.asyncProperty(historyArbitrary({ minSteps: 100, maxSteps: 250, reopens: true }), async (history) => {
        const p = await project(history, [forecastProjection]);
        try {
          const served = await forecastReport.run(reportParams(), p.context);
          expect(served).toEqual(forecastReference(p.events, defaultPipeline, served.asOf));
          if (p.events.some((e) => e.type === 'DealReopened')) withReopens += 1;
        } finally {
          await p.close();
        }
      }),
      { numRuns: 15, seed: 1605 },
    );
    expect(withReopens).toBeGreaterThan(0);
  });
});

describe('forecast report = a fold of the raw events (property)', () => {
  it('matches for random histories', async () => {
    let withDeals = 0;
    await fc.assert(
      fc.asyncProperty(historyArbitrary({ minSteps: 100, maxSteps: 300 }), async (history) => {
        const p = await project(history, [forecastProjection]);
        try {
          const served = await forecastReport.run(reportParams(), p.context);
          expect(served).toEqual(forecastReference(p.events, defaultPipeline, served.asOf));
          if (served.totals.deals > 1) withDeals += 1;
        } finally {
          await p.close();
        }
      }),
      { numRuns: 25, seed: 47 },
    );
    expect(withDeals).toBeGreaterThan(10);
  });
});
