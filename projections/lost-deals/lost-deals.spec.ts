import fc from 'fast-check';
import { defaultPipeline } from '@chronicle/domain';
import { project, Projected, ScenarioEvent } from '../testing/harness';
import { historyArbitrary } from '../testing/random-history';
import { reportParams, reportParamsArbitrary } from '../testing/report-params';
import { lostDealsProjection } from './projection';
import { lostDealsReport } from './query';
import { lostDealsReference } from './reference';

const lost = (id: string, occurredAt: string, stage: string, amount: number, reason: string): ScenarioEvent => ({
  streamId: `deal-${id}`,
  type: 'DealLost',
  occurredAt,
  data: { dealId: id, customerId: 'C1', amount, stage, reason },
});

const scenario: ScenarioEvent[] = [
  lost('D5', '2024-01-31T23:59:59.999Z', 'proposal', 1000, 'price'),
  lost('D1', '2024-02-01T00:00:00.000Z', 'qualification', 100, 'price'),
  lost('D2', '2024-02-10T00:00:00.000Z', 'proposal', 200.5, 'price'),
  lost('D6', '2024-02-15T00:00:00.000Z', 'discovery', 50, 'price'), // a stage since removed from the pipeline
  lost('D3', '2024-02-29T23:59:59.999Z', 'proposal', 300, 'competitor|cheaper'),
  lost('D4', '2024-03-01T00:00:00.000Z', 'negotiation', 700, 'timing'),
];

describe('lost-deals report', () => {
  let p: Projected;
  beforeAll(async () => {
    p = await project(scenario, [lostDealsProjection]);
  });
  afterAll(() => p.close());

  it('by reason (most first) and by the stage lost from (pipeline order, zeros included, then others)', async () => {
    expect(
      await lostDealsReport.run(reportParams({ from: '2024-02-01T00:00:00.000Z', to: '2024-03-01T00:00:00.000Z' }), p.context),
    ).toEqual({
      from: '2024-02-01T00:00:00.000Z',
      to: '2024-03-01T00:00:00.000Z',
      totals: { deals: 4, value: 650.5 },
      byReason: [
        { reason: 'price', deals: 3, value: 350.5 },
        { reason: 'competitor|cheaper', deals: 1, value: 300 },
      ],
      byStage: [
        { stage: 'qualification', deals: 1, value: 100 },
        { stage: 'needs-analysis', deals: 0, value: 0 },
        { stage: 'proposal', deals: 2, value: 500.5 },
        { stage: 'negotiation', deals: 0, value: 0 },
        { stage: 'discovery', deals: 1, value: 50 },
      ],
    });
  });

  it('adds a whole month and edge days; an empty window lists the stages with zeros', async () => {
    const wide = await lostDealsReport.run(reportParams({ from: '2024-01-31T08:00:00.000Z', to: '2024-03-01T00:00:00.001Z' }), p.context);
    expect([wide.from, wide.to, wide.totals]).toEqual([
      '2024-01-31T00:00:00.000Z',
      '2024-03-02T00:00:00.000Z',
      { deals: 6, value: 2350.5 },
    ]);
    expect(wide.byReason).toEqual([
      { reason: 'price', deals: 4, value: 1350.5 },
      { reason: 'competitor|cheaper', deals: 1, value: 300 },
      { reason: 'timing', deals: 1, value: 700 },
    ]);
    const empty = await lostDealsReport.run(reportParams({ from: '2024-05-01T00:00:00.000Z', to: '2024-06-01T00:00:00.000Z' }), p.context);
    expect(empty).toEqual({
      from: '2024-05-01T00:00:00.000Z',
      to: '2024-06-01T00:00:00.000Z',
      totals: { deals: 0, value: 0 },
      byReason: [],
      byStage: defaultPipeline.stages.map((s) => ({ stage: s.name, deals: 0, value: 0 })),
    });
  });
});

const reopened = (id: string, occurredAt: string, outcome: 'won' | 'lost', closedAt: string, amount: number, closedStage: string) => ({
  streamId: `deal-${id}`,
  type: 'DealReopened',
  occurredAt,
  data: {
    dealId: id,
    customerId: 'C1',
    ownerId: 'u1',
    amount,
    stage: closedStage,
    outcome,
    closedAt,
    closedStage,
    ...(outcome === 'lost' ? { lostReason: 'price' } : {}),
  },
});
const wonAt = (id: string, occurredAt: string): ScenarioEvent => ({
  streamId: `deal-${id}`,
  type: 'DealWon',
  occurredAt,
  data: { dealId: id, customerId: 'C1', amount: 300, stage: 'proposal' },
});

/**
 * L1 lost in February, reopened in March, lost again on March's last instant (another stage and
 * reason); L2 lost on February's last instant, reopened at March's first, won in April; L3 lost in
 * February (stays); W1 won, reopened and won again (no loss: no change).
 */
const reopens: ScenarioEvent[] = [
  wonAt('W1', '2024-02-05T00:00:00.000Z'),
  lost('L1', '2024-02-10T00:00:00.000Z', 'proposal', 200, 'price'),
  lost('L3', '2024-02-15T00:00:00.000Z', 'proposal', 50, 'price'),
  lost('L2', '2024-02-29T23:59:59.999Z', 'qualification', 100, 'price'),
  // The first losses still counted until here.
  reopened('W1', '2024-02-20T00:00:00.000Z', 'won', '2024-02-05T00:00:00.000Z', 300, 'proposal'),
  reopened('L2', '2024-03-01T00:00:00.000Z', 'lost', '2024-02-29T23:59:59.999Z', 100, 'qualification'),
  reopened('L1', '2024-03-02T00:00:00.000Z', 'lost', '2024-02-10T00:00:00.000Z', 200, 'proposal'),
  wonAt('W1', '2024-03-03T00:00:00.000Z'),
  lost('L1', '2024-03-31T23:59:59.999Z', 'negotiation', 200, 'timing'),
  wonAt('L2', '2024-04-01T00:00:00.000Z'),
];
const stages = (counts: Record<string, [number, number]>) =>
  defaultPipeline.stages.map((s) => ({ stage: s.name, deals: counts[s.name]?.[0] ?? 0, value: counts[s.name]?.[1] ?? 0 }));

describe('lost-deals report: a deal counts by its last close (DealReopened)', () => {
  const FEB = { from: '2024-02-01T00:00:00.000Z', to: '2024-03-01T00:00:00.000Z' };
  const MAR = { from: '2024-03-01T00:00:00.000Z', to: '2024-04-01T00:00:00.000Z' };

  it('before the reopens, February holds the first losses', async () => {
    const p = await project(
      reopens.filter((e) => e.occurredAt < '2024-03-01'),
      [lostDealsProjection],
    );
    try {
      expect(await lostDealsReport.run(reportParams(FEB), p.context)).toEqual({
        ...FEB,
        totals: { deals: 3, value: 350 },
        byReason: [{ reason: 'price', deals: 3, value: 350 }],
        byStage: stages({ qualification: [1, 100], proposal: [2, 250] }),
      });
    } finally {
      await p.close();
    }
  });

  it('after them, February loses the withdrawn losses and March gains the new one, under its own stage and reason', async () => {
    const p = await project(reopens, [lostDealsProjection]);
    try {
      expect(await lostDealsReport.run(reportParams(FEB), p.context)).toEqual({
        ...FEB,
        totals: { deals: 1, value: 50 }, // L3 alone
        byReason: [{ reason: 'price', deals: 1, value: 50 }],
        byStage: stages({ proposal: [1, 50] }),
      });
      expect(await lostDealsReport.run(reportParams(MAR), p.context)).toEqual({
        ...MAR,
        totals: { deals: 1, value: 200 }, // L1 again, at 23:59:59.999
        byReason: [{ reason: 'timing', deals: 1, value: 200 }],
        byStage: stages({ negotiation: [1, 200] }),
      });
      // February 29 alone: L2's loss withdrawn, its reason leaves (no zero row).
      const leapDay = await lostDealsReport.run(
        reportParams({ from: '2024-02-29T00:00:00.000Z', to: '2024-03-01T00:00:00.000Z' }),
        p.context,
      );
      expect([leapDay.totals, leapDay.byReason]).toEqual([{ deals: 0, value: 0 }, []]);
    } finally {
      await p.close();
    }
  });
});

describe('lost-deals report = a fold of the raw events (property)', () => {
  it('matches for random histories and windows', async () => {
    let withLosses = 0;
    await fc.assert(
      fc.asyncProperty(
        historyArbitrary({ minSteps: 100, maxSteps: 300 }),
        fc.array(reportParamsArbitrary(), { minLength: 3, maxLength: 3 }),
        async (history, paramsList) => {
          const p = await project(history, [lostDealsProjection]);
          try {
            for (const params of paramsList) {
              const served = await lostDealsReport.run(params, p.context);
              expect(served).toEqual(lostDealsReference(p.events, params, defaultPipeline));
              if (served.byReason.length > 1) withLosses += 1;
            }
          } finally {
            await p.close();
          }
        },
      ),
      { numRuns: 25, seed: 61 },
    );
    expect(withLosses).toBeGreaterThan(5);
  });
});

describe('lost-deals report with reopened deals = a fold of the raw events (property)', () => {
  it('matches for random histories with reopens', async () => {
    const seen = { reopens: 0, losses: 0 };
    await fc.assert(
      fc.asyncProperty(
        historyArbitrary({ minSteps: 100, maxSteps: 250, reopens: true }),
        fc.array(reportParamsArbitrary(), { minLength: 3, maxLength: 3 }),
        async (history, paramsList) => {
          const p = await project(history, [lostDealsProjection]);
          try {
            if (p.events.some((e) => e.type === 'DealReopened' && (e.data as { outcome: string }).outcome === 'lost')) seen.reopens += 1;
            const times = p.events.map((e) => Date.parse(e.occurredAt));
            const whole = reportParams({
              from: new Date(Math.min(...times)).toISOString(),
              to: new Date(Math.max(...times) + 1).toISOString(),
            });
            for (const params of [...paramsList, whole]) {
              const served = await lostDealsReport.run(params, p.context);
              expect(served).toEqual(lostDealsReference(p.events, params, defaultPipeline));
              if (served.totals.deals > 0) seen.losses += 1;
            }
          } finally {
            await p.close();
          }
        },
      ),
      { numRuns: 15, seed: 1016 },
    );
    // Not vacuous: histories with reopened losses, reports with losses.
    expect(seen.reopens).toBeGreaterThan(10);
    expect(seen.losses).toBeGreaterThan(15);
  }, 120_000);
});
