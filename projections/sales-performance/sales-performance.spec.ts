import fc from 'fast-check';
import { InteractionTypes } from '@chronicle/domain';
import { project, Projected, ScenarioEvent } from '../testing/harness';
import { historyArbitrary } from '../testing/random-history';
import { reportParams, reportParamsArbitrary } from '../testing/report-params';
import { ownerActivityProjection } from '../owner-activity/projection';
import { SalesPeriod, salesPerformanceReport } from './query';
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
/** A period from [start, end, won, lost, winRate, revenueWon] (dates as YYYY-MM-DD midnights). */
const period = (
  start: string,
  end: string,
  dealsWon: number,
  dealsLost: number,
  winRate: number | null,
  revenueWon: number,
): SalesPeriod => ({
  start: `${start}T00:00:00.000Z`,
  end: `${end}T00:00:00.000Z`,
  revenueWon,
  dealsWon,
  dealsLost,
  winRate,
});

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
      interval: 'month',
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
          periods: [period('2024-02-01', '2024-03-01', 1, 1, 0.5, 1000)],
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
          periods: [period('2024-02-01', '2024-03-01', 1, 0, 1, 250.26)],
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
          periods: [period('2024-02-01', '2024-03-01', 0, 0, null, 0)], // no closes: win rate null
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
      periods: [period('2024-02-01', '2024-03-01', 2, 1, 0.6667, 1250.26)],
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
      interval: 'month',
      owners: [],
      totals: { dealsOpened: 0, dealsWon: 0, dealsLost: 0, winRate: null, revenueWon: 0, interactions: 0, interactionsByType: byType() },
      periods: [
        period('2023-01-01', '2023-02-01', 0, 0, null, 0),
        period('2023-02-01', '2023-03-01', 0, 0, null, 0),
        period('2023-03-01', '2023-04-01', 0, 0, null, 0),
        period('2023-04-01', '2023-05-01', 0, 0, null, 0),
        period('2023-05-01', '2023-06-01', 0, 0, null, 0),
      ],
    });
  });

  it('periods: the window cut at the interval boundaries, a close at exactly a boundary in the period it starts, empty periods zero', async () => {
    // Window [Jan 15, Apr 10) (from 10:00 widened to its day): January and April are cut to it.
    const report = await salesPerformanceReport.run(
      reportParams({ from: '2024-01-15T10:00:00.000Z', to: '2024-04-10T00:00:00.000Z', interval: 'month' }),
      p.context,
    );
    expect([report.from, report.to, report.interval]).toEqual(['2024-01-15T00:00:00.000Z', '2024-04-10T00:00:00.000Z', 'month']);
    expect(report.periods).toEqual([
      period('2024-01-15', '2024-02-01', 0, 0, null, 0), // nothing closed
      // D1 won 1000, D4 won 250.255, D2 lost at 23:59:59.999 on February 29: 1250.255 → 1250.26
      period('2024-02-01', '2024-03-01', 2, 1, 0.6667, 1250.26),
      period('2024-03-01', '2024-04-01', 1, 0, 1, 500), // D3 won at exactly March 1, 00:00:00.000
      period('2024-04-01', '2024-04-10', 0, 0, null, 0),
    ]);
    expect(report.totals).toMatchObject({ dealsOpened: 4, dealsWon: 3, dealsLost: 1, winRate: 0.75, revenueWon: 1750.26, interactions: 5 });
    expect(report.owners.map((o) => [o.ownerId, o.periods])).toEqual([
      [
        'u1',
        [
          period('2024-01-15', '2024-02-01', 0, 0, null, 0),
          period('2024-02-01', '2024-03-01', 1, 1, 0.5, 1000),
          period('2024-03-01', '2024-04-01', 0, 0, null, 0),
          period('2024-04-01', '2024-04-10', 0, 0, null, 0),
        ],
      ],
      [
        'u2',
        [
          period('2024-01-15', '2024-02-01', 0, 0, null, 0),
          period('2024-02-01', '2024-03-01', 1, 0, 1, 250.26),
          period('2024-03-01', '2024-04-01', 1, 0, 1, 500),
          period('2024-04-01', '2024-04-10', 0, 0, null, 0),
        ],
      ],
      [
        'u3', // interactions only: listed, no closes in any period
        [
          period('2024-01-15', '2024-02-01', 0, 0, null, 0),
          period('2024-02-01', '2024-03-01', 0, 0, null, 0),
          period('2024-03-01', '2024-04-01', 0, 0, null, 0),
          period('2024-04-01', '2024-04-10', 0, 0, null, 0),
        ],
      ],
    ]);
    // Days on either side of the boundary, to the millisecond.
    const days = await salesPerformanceReport.run(
      reportParams({ from: '2024-02-29T00:00:00.000Z', to: '2024-03-02T00:00:00.000Z', interval: 'day' }),
      p.context,
    );
    expect(days.periods).toEqual([period('2024-02-29', '2024-03-01', 0, 1, 0, 0), period('2024-03-01', '2024-03-02', 1, 0, 1, 500)]);
    expect(days.owners.map((o) => [o.ownerId, o.winRate, o.periods.map((q) => q.winRate)])).toEqual([
      ['u1', 0, [0, null]], // D2 lost on the 29th; the note of March 1 lists u1 without a close that day
      ['u2', 1, [null, 1]],
    ]);
    // ISO weeks (Monday): [Feb 1, Feb 5) cut from the week of January 29, then whole weeks, the last cut at Feb 15.
    const weeks = await salesPerformanceReport.run(
      reportParams({ from: '2024-02-01T00:00:00.000Z', to: '2024-02-15T00:00:00.000Z', interval: 'week' }),
      p.context,
    );
    expect(weeks.periods).toEqual([
      period('2024-02-01', '2024-02-05', 0, 0, null, 0),
      period('2024-02-05', '2024-02-12', 1, 0, 1, 1000), // D1 on Monday 15:00
      period('2024-02-12', '2024-02-15', 1, 0, 1, 250.26), // D4 at exactly Monday 00:00
    ]);
    // Quarters over whole months (read from the month totals): Q1 holds every close, Q2 is empty.
    const quarters = await salesPerformanceReport.run(
      reportParams({ from: '2024-01-01T00:00:00.000Z', to: '2024-07-01T00:00:00.000Z', interval: 'quarter' }),
      p.context,
    );
    expect(quarters.periods).toEqual([
      period('2024-01-01', '2024-04-01', 3, 1, 0.75, 1750.26),
      period('2024-04-01', '2024-07-01', 0, 0, null, 0),
    ]);
  });

  it('tables: owners (without their periods), totals with the window, periods, owner × period', async () => {
    const report = await salesPerformanceReport.run(
      reportParams({ from: '2024-02-01T00:00:00.000Z', to: '2024-03-02T00:00:00.000Z', interval: 'month' }),
      p.context,
    );
    expect(Object.keys(salesPerformanceReport.tables)).toEqual(['owners', 'totals', 'periods', 'ownerPeriods']);
    const owners = salesPerformanceReport.tables.owners(report);
    expect(owners.map((r) => r.ownerId)).toEqual(['u1', 'u2', 'u3']);
    expect(Object.keys(owners[0])).not.toContain('periods');
    expect(owners[0]).toMatchObject({ ownerId: 'u1', dealsWon: 1, 'interactionsByType.call': 2 });
    expect(salesPerformanceReport.tables.periods(report)).toEqual([
      period('2024-02-01', '2024-03-01', 2, 1, 0.6667, 1250.26),
      period('2024-03-01', '2024-03-02', 1, 0, 1, 500),
    ]);
    const ownerPeriods = salesPerformanceReport.tables.ownerPeriods(report);
    expect(ownerPeriods).toHaveLength(3 * 2);
    expect(ownerPeriods[3]).toEqual({ ownerId: 'u2', ...period('2024-03-01', '2024-03-02', 1, 0, 1, 500) });
    expect(ownerPeriods[4]).toEqual({ ownerId: 'u3', ...period('2024-02-01', '2024-03-01', 0, 0, null, 0) });
  });
});

const reopened = (id: string, occurredAt: string, data: { outcome: 'won' | 'lost'; closedAt: string; amount: number; ownerId: string }) =>
  deal(id, 'DealReopened', occurredAt, {
    customerId: 'C1',
    stage: 'qualification',
    closedStage: 'qualification',
    ...(data.outcome === 'lost' ? { lostReason: 'price' } : {}),
    ...data,
  });
/**
 * R1 won in February, reassigned, reopened and won again on March's last instant at a changed
 * amount; R2 lost on February's last instant, reopened at March's first, won at April's first; R3
 * won in February (stays).
 */
const reopens: ScenarioEvent[] = [
  opened('R1', '2024-01-10T00:00:00.000Z', 'u1', 1000),
  won('R1', '2024-02-20T10:00:00.000Z', 1000),
  opened('R2', '2024-01-15T00:00:00.000Z', 'u2', 300),
  lost('R2', '2024-02-29T23:59:59.999Z', 300),
  opened('R3', '2024-01-20T00:00:00.000Z', 'u1', 100),
  won('R3', '2024-02-10T00:00:00.000Z', 100),
  // The first closes still counted until here.
  reopened('R2', '2024-03-01T00:00:00.000Z', { outcome: 'lost', closedAt: '2024-02-29T23:59:59.999Z', amount: 300, ownerId: 'u2' }),
  deal('R1', 'DealOwnerAssigned', '2024-03-01T12:00:00.000Z', { ownerId: 'u2', previousOwnerId: 'u1' }), // still u1's: owner at opening
  reopened('R1', '2024-03-05T00:00:00.000Z', { outcome: 'won', closedAt: '2024-02-20T10:00:00.000Z', amount: 1000, ownerId: 'u2' }),
  deal('R1', 'DealAmountChanged', '2024-03-06T00:00:00.000Z', { from: 1000, to: 1200 }),
  won('R1', '2024-03-31T23:59:59.999Z', 1200),
  won('R2', '2024-04-01T00:00:00.000Z', 300),
];

describe('sales-performance report: a deal counts by its last close (DealReopened)', () => {
  const JAN_APR = { from: '2024-01-01T00:00:00.000Z', to: '2024-05-01T00:00:00.000Z', interval: 'month' as const };

  it('before the reopens, February holds the first closes', async () => {
    const p = await project(
      reopens.filter((e) => e.occurredAt < '2024-03-01'),
      [ownerActivityProjection],
    );
    try {
      const report = await salesPerformanceReport.run(reportParams(JAN_APR), p.context);
      expect(report.periods[1]).toEqual(period('2024-02-01', '2024-03-01', 2, 1, 0.6667, 1100));
    } finally {
      await p.close();
    }
  });

  it('after them, February loses the undone closes, March and April gain the new ones, for the owner at opening', async () => {
    const p = await project(reopens, [ownerActivityProjection]);
    try {
      // Whole months: read from the month totals.
      const report = await salesPerformanceReport.run(reportParams(JAN_APR), p.context);
      expect(report.periods).toEqual([
        period('2024-01-01', '2024-02-01', 0, 0, null, 0),
        period('2024-02-01', '2024-03-01', 1, 0, 1, 100), // R3 alone
        period('2024-03-01', '2024-04-01', 1, 0, 1, 1200), // R1 again at 23:59:59.999, at 1200
        period('2024-04-01', '2024-05-01', 1, 0, 1, 300), // R2 at April's first instant
      ]);
      expect(report.totals).toMatchObject({ dealsOpened: 3, dealsWon: 3, dealsLost: 0, winRate: 1, revenueWon: 1600 });
      expect(report.owners.map((o) => [o.ownerId, o.dealsOpened, o.dealsWon, o.dealsLost, o.revenueWon])).toEqual([
        ['u1', 2, 2, 0, 1300], // R1 stays u1's although reassigned to u2
        ['u2', 1, 1, 0, 300],
      ]);
      // February alone: u2's only figure there, the loss, is withdrawn: u2 is not listed.
      const february = await salesPerformanceReport.run(
        reportParams({ from: '2024-02-01T00:00:00.000Z', to: '2024-03-01T00:00:00.000Z' }),
        p.context,
      );
      expect(february.owners.map((o) => [o.ownerId, o.dealsWon, o.dealsLost, o.revenueWon])).toEqual([['u1', 1, 0, 100]]);
      // Days at the boundary (day counters): February 29 no longer holds R2's loss; March 1 (the reopen) is no close.
      const days = await salesPerformanceReport.run(
        reportParams({ from: '2024-02-29T00:00:00.000Z', to: '2024-03-02T00:00:00.000Z', interval: 'day' }),
        p.context,
      );
      expect(days.periods).toEqual([period('2024-02-29', '2024-03-01', 0, 0, null, 0), period('2024-03-01', '2024-03-02', 0, 0, null, 0)]);
      expect(days.owners).toEqual([]);
    } finally {
      await p.close();
    }
  });
});

describe('sales-performance report = a fold of the raw events (property)', () => {
  it('matches for random histories, windows and intervals (periods overall and per owner)', async () => {
    let withClosedDeals = 0;
    let withClosesInSeveralPeriods = 0;
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
              if (served.periods.filter((q) => q.winRate !== null).length > 1) withClosesInSeveralPeriods += 1;
            }
          } finally {
            await p.close();
          }
        },
      ),
      { numRuns: 25, seed: 53 },
    );
    expect(withClosedDeals).toBeGreaterThan(10);
    expect(withClosesInSeveralPeriods).toBeGreaterThan(10);
  });
});

describe('sales-performance report with reopened deals = a fold of the raw events (property)', () => {
  it('matches for random histories with reopens', async () => {
    const seen = { reopens: 0, closes: 0 };
    await fc.assert(
      fc.asyncProperty(
        historyArbitrary({ minSteps: 100, maxSteps: 250, reopens: true }),
        fc.array(reportParamsArbitrary(), { minLength: 3, maxLength: 3 }),
        async (history, paramsList) => {
          const p = await project(history, [ownerActivityProjection]);
          try {
            if (p.events.some((e) => e.type === 'DealReopened')) seen.reopens += 1;
            const times = p.events.map((e) => Date.parse(e.occurredAt));
            const whole = (['day', 'month', 'quarter'] as const).map((interval) =>
              reportParams({
                from: new Date(Math.min(...times)).toISOString(),
                to: new Date(Math.max(...times) + 1).toISOString(),
                interval,
              }),
            );
            for (const params of [...paramsList, ...whole]) {
              const served = await salesPerformanceReport.run(params, p.context);
              expect(served).toEqual(salesPerformanceReference(p.events, params));
              if (served.totals.winRate !== null) seen.closes += 1;
            }
          } finally {
            await p.close();
          }
        },
      ),
      { numRuns: 15, seed: 1016 },
    );
    // Not vacuous: histories with reopens, reports with closes.
    expect(seen.reopens).toBeGreaterThan(10);
    expect(seen.closes).toBeGreaterThan(30);
  }, 120_000);
});
