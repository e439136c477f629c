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
