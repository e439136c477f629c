import fc from 'fast-check';
import { InteractionTypes } from '@chronicle/domain';
import { project, Projected, ScenarioEvent } from '../testing/harness';
import { historyArbitrary } from '../testing/random-history';
import { reportParams, reportParamsArbitrary } from '../testing/report-params';
import { ownerActivityProjection } from '../owner-activity/projection';
import { salesPerformanceReport } from './query';
import { salesPerformanceReference } from './reference';

const deal = (id: string, type: string, occurredAt: string, data: Record<string, unknown> = {}): ScenarioEvent => ({
  streamId: `deal-${id}`,
  type,
  occurredAt,
  data: { dealId: id, ...data },
});
const opened = (id: string, occurredAt: string, ownerId: string, amount: number) =>
  deal(id, 'DealOpened', occurredAt, { customerId: 'C1', title: id, ownerId, source: 'web', stage: 'qualification', amount });
const won = (id: string, occurredAt: string, amount: number) =>
  deal(id, 'DealWon', occurredAt, { customerId: 'C1', amount, stage: 'qualification' });
const lost = (id: string, occurredAt: string, amount: number) =>
  deal(id, 'DealLost', occurredAt, { customerId: 'C1', amount, stage: 'qualification', reason: 'price' });
let interactions = 0;
const interaction = (actor: string, occurredAt: string, type: string): ScenarioEvent => ({
  streamId: 'customer-C1',
  type: 'InteractionLogged',
  occurredAt,
  actor,
  data: { customerId: 'C1', interactionId: `i${++interactions}`, type, direction: 'outbound', subject: 'touch' },
});
const byType = (counts: Record<string, number> = {}) => ({ ...Object.fromEntries(InteractionTypes.map((t) => [t, 0])), ...counts });

const scenario: ScenarioEvent[] = [
  opened('D1', '2024-01-20T00:00:00.000Z', 'u1', 1000),
  won('D1', '2024-02-05T15:00:00.000Z', 1000),
  opened('D2', '2024-02-01T00:00:00.000Z', 'u1', 80),
  lost('D2', '2024-02-29T23:59:59.999Z', 80),
  opened('D3', '2024-02-10T00:00:00.000Z', 'u2', 500),
  won('D3', '2024-03-01T00:00:00.000Z', 500), // after the window
  opened('D4', '2024-02-11T00:00:00.000Z', 'u2', 250.255),
  won('D4', '2024-02-12T00:00:00.000Z', 250.255),
  interaction('u1', '2024-02-02T00:00:00.000Z', 'call'),
  interaction('u1', '2024-02-03T00:00:00.000Z', 'call'),
  interaction('u1', '2024-02-04T00:00:00.000Z', 'email'),
  interaction('u3', '2024-02-15T00:00:00.000Z', 'meeting'), // logged by u3 on u1's customer: counts for u3
  interaction('u1', '2024-03-01T00:00:00.000Z', 'note'), // after the window
  {
    streamId: 'task-T1',
    type: 'TaskCreated',
    occurredAt: '2024-02-03T00:00:00.000Z',
    data: { taskId: 'T1', ownerId: 'u4', subject: 'Call back', dueAt: '2024-02-05T00:00:00.000Z' },
  },
];

describe('sales-performance report', () => {
  let p: Projected;
  beforeAll(async () => {
    p = await project(scenario, [ownerActivityProjection]);
  });
  afterAll(() => p.close());

  it('per owner: deals opened, won, lost, win rate, revenue won, interactions by type', async () => {
    expect(
      await salesPerformanceReport.run(reportParams({ from: '2024-02-01T00:00:00.000Z', to: '2024-03-01T00:00:00.000Z' }), p.context),
    ).toEqual({
      from: '2024-02-01T00:00:00.000Z',
      to: '2024-03-01T00:00:00.000Z',
      owners: [
        {
          ownerId: 'u1',
          dealsOpened: 1,
          dealsWon: 1,
          dealsLost: 1,
          winRate: 0.5,
          revenueWon: 1000,
          interactions: 3,
          interactionsByType: byType({ call: 2, email: 1 }),
        },
        {
          ownerId: 'u2',
          dealsOpened: 2,
          dealsWon: 1,
          dealsLost: 0,
          winRate: 1,
          revenueWon: 250.26,
          interactions: 0,
          interactionsByType: byType(),
        },
        {
          ownerId: 'u3',
          dealsOpened: 0,
          dealsWon: 0,
          dealsLost: 0,
          winRate: null,
          revenueWon: 0,
          interactions: 1,
          interactionsByType: byType({ meeting: 1 }),
        },
      ],
      totals: {
        dealsOpened: 3,
        dealsWon: 2,
        dealsLost: 1,
        winRate: 0.6667,
        revenueWon: 1250.26,
        interactions: 4,
        interactionsByType: byType({ call: 2, email: 1, meeting: 1 }),
      },
    });
  });

  it('counts whole UTC days, across month boundaries, and is empty outside the history', async () => {
    const day = await salesPerformanceReport.run(
      reportParams({ from: '2024-02-05T16:00:00.000Z', to: '2024-02-05T16:00:01.000Z' }),
      p.context,
    );
    expect([day.from, day.to]).toEqual(['2024-02-05T00:00:00.000Z', '2024-02-06T00:00:00.000Z']);
    expect(day.owners.map((o) => [o.ownerId, o.dealsWon, o.revenueWon])).toEqual([['u1', 1, 1000]]);
    const long = await salesPerformanceReport.run(
      reportParams({ from: '2024-01-20T00:00:00.000Z', to: '2024-03-02T00:00:00.000Z' }),
      p.context,
    );
    expect(long.totals).toMatchObject({ dealsOpened: 4, dealsWon: 3, dealsLost: 1, winRate: 0.75, revenueWon: 1750.26, interactions: 5 });
    const empty = await salesPerformanceReport.run(
      reportParams({ from: '2023-01-01T00:00:00.000Z', to: '2023-06-01T00:00:00.000Z' }),
      p.context,
    );
    expect(empty).toEqual({
      from: '2023-01-01T00:00:00.000Z',
      to: '2023-06-01T00:00:00.000Z',
      owners: [],
      totals: { dealsOpened: 0, dealsWon: 0, dealsLost: 0, winRate: null, revenueWon: 0, interactions: 0, interactionsByType: byType() },
    });
  });
});

describe('sales-performance report = a fold of the raw events (property)', () => {
  it('matches for random histories and windows', async () => {
    let withClosedDeals = 0;
    await fc.assert(
      fc.asyncProperty(
        historyArbitrary({ minSteps: 100, maxSteps: 300 }),
        fc.array(reportParamsArbitrary(), { minLength: 3, maxLength: 3 }),
        async (history, paramsList) => {
          const p = await project(history, [ownerActivityProjection]);
          try {
            for (const params of paramsList) {
              const served = await salesPerformanceReport.run(params, p.context);
              expect(served).toEqual(salesPerformanceReference(p.events, params));
              if (served.totals.winRate !== null && served.totals.interactions > 0) withClosedDeals += 1;
            }
          } finally {
            await p.close();
          }
        },
      ),
      { numRuns: 25, seed: 53 },
    );
    expect(withClosedDeals).toBeGreaterThan(10);
  });
});
