import fc from 'fast-check';
import { project, Projected, ScenarioEvent } from '../testing/harness';
import { historyArbitrary } from '../testing/random-history';
import { reportParams, reportParamsArbitrary } from '../testing/report-params';
import { dealOutcomesProjection } from './projection';
import { DealOutcomePeriod, dealOutcomesReport } from './query';
import { referenceDealOutcomes } from './reference';

const deal = (id: string, type: string, occurredAt: string, data: Record<string, unknown> = {}): ScenarioEvent => ({
  streamId: `deal-${id}`,
  type,
  occurredAt,
  data: { dealId: id, ...data },
});
const opened = (id: string, occurredAt: string, source: string | undefined, ownerId: string, amount: number) =>
  deal(id, 'DealOpened', occurredAt, {
    customerId: 'C1',
    title: id,
    ownerId,
    ...(source === undefined ? {} : { source }),
    stage: 'qualification',
    amount,
  });
const won = (id: string, occurredAt: string, amount: number) =>
  deal(id, 'DealWon', occurredAt, { customerId: 'C1', amount, stage: 'proposal' });
const lost = (id: string, occurredAt: string, amount: number) =>
  deal(id, 'DealLost', occurredAt, { customerId: 'C1', amount, stage: 'proposal', reason: 'price' });

/**
 * Closes by (source, owner): January (the period before the range) D1; February D2, D3 won and D4
 * lost; March D5, D6 lost; April D7 won; May (after the range) D8 won.
 */
const scenario: ScenarioEvent[] = [
  opened('D1', '2024-01-02T00:00:00.000Z', 'web', 'u1', 1000),
  won('D1', '2024-01-31T23:59:59.999Z', 1000), // January's last instant: the period before the range
  opened('D2', '2024-01-10T00:00:00.000Z', 'web', 'u1', 500),
  deal('D2', 'DealAmountChanged', '2024-01-20T00:00:00.000Z', { from: 500, to: 600 }),
  won('D2', '2024-02-01T00:00:00.000Z', 600), // February's first instant, at the changed amount
  opened('D3', '2024-01-15T00:00:00.000Z', 'ads', 'u2', 250.255),
  deal('D3', 'DealOwnerAssigned', '2024-02-01T00:00:00.000Z', { ownerId: 'u3', previousOwnerId: 'u2' }), // still u2's: owner at opening
  won('D3', '2024-02-14T12:00:00.000Z', 250.255), // 250.255 → 25026 cents
  opened('D4', '2024-02-02T00:00:00.000Z', 'ads', 'u1', 80),
  lost('D4', '2024-02-29T23:59:59.999Z', 80), // February's last instant (leap year)
  opened('D5', '2024-02-03T00:00:00.000Z', undefined, 'u2', 70), // no source: unknown
  lost('D5', '2024-03-01T00:00:00.000Z', 70),
  opened('D6', '2024-02-20T00:00:00.000Z', 'referral', '', 60), // no owner: unassigned
  lost('D6', '2024-03-10T00:00:00.000Z', 60),
  opened('D7', '2024-03-05T00:00:00.000Z', 'events', 'u3', 99.99),
  won('D7', '2024-04-30T23:59:59.999Z', 99.99),
  opened('D8', '2024-04-01T00:00:00.000Z', 'web', 'u1', 5000),
  won('D8', '2024-05-01T00:00:00.000Z', 5000), // at the end of the last period: the next one, not counted
];

const MONTHS = ['2024-02-01', '2024-03-01', '2024-04-01', '2024-05-01'];
/** February … April from rows [won, lost, winRate, revenueWon, averageDealSize, revenueGrowth]; closed = won + lost. */
const months = (rows: [number, number, number | null, number, number | null, number | null][]): DealOutcomePeriod[] =>
  rows.map(([w, l, winRate, revenueWon, averageDealSize, revenueGrowth], i) => ({
    start: `${MONTHS[i]}T00:00:00.000Z`,
    end: `${MONTHS[i + 1]}T00:00:00.000Z`,
    won: w,
    lost: l,
    closed: w + l,
    winRate,
    revenueWon,
    averageDealSize,
    revenueGrowth,
  }));
const total = (w: number, l: number, winRate: number | null, revenueWon: number, averageDealSize: number | null) => ({
  won: w,
  lost: l,
  closed: w + l,
  winRate,
  revenueWon,
  averageDealSize,
});

// `to` mid-April: April is the last (whole) period; `from` mid-February is truncated to February 1.
const RANGE = { from: '2024-02-15T00:00:00.000Z', to: '2024-04-15T00:00:00.000Z', interval: 'month' as const };

const overallPeriods = months([
  // D2 600 + D3 250.26 = 850.26; 850.26 / 2 = 425.13; growth over January's 1000: −149.74 / 1000 = −0.14974 → −0.1497
  [2, 1, 0.6667, 850.26, 425.13, -0.1497],
  [0, 2, 0, 0, null, -1], // nothing won: average null; growth (0 − 850.26) / 850.26
  [1, 0, 1, 99.99, 99.99, null], // growth over March's 0: null
]);
const overallTotal = total(3, 3, 0.5, 950.25, 316.75); // 95025 cents / 3 = 31675

describe('deal-outcomes report', () => {
  let p: Projected;
  beforeAll(async () => {
    p = await project(scenario, [dealOutcomesProjection]);
  });
  afterAll(() => p.close());

  it('hand-computed per month: won, lost, win rate, revenue, average deal size, growth over the month before the range', async () => {
    expect(await dealOutcomesReport.run(reportParams(RANGE), p.context)).toEqual({
      interval: 'month',
      periods: overallPeriods,
      total: overallTotal,
    });
  });

  it('groupBy=source: source at opening, unknown when missing, by key; growth per group', async () => {
    expect(await dealOutcomesReport.run(reportParams({ ...RANGE, groupBy: 'source' }), p.context)).toEqual({
      interval: 'month',
      periods: overallPeriods,
      total: overallTotal,
      groupBy: 'source',
      groups: [
        {
          key: 'ads',
          periods: months([
            [1, 1, 0.5, 250.26, 250.26, null], // nothing won in January
            [0, 0, null, 0, null, -1], // nothing closed: win rate null
            [0, 0, null, 0, null, null],
          ]),
          total: total(1, 1, 0.5, 250.26, 250.26),
        },
        {
          key: 'events',
          periods: months([
            [0, 0, null, 0, null, null],
            [0, 0, null, 0, null, null],
            [1, 0, 1, 99.99, 99.99, null],
          ]),
          total: total(1, 0, 1, 99.99, 99.99),
        },
        {
          key: 'referral',
          periods: months([
            [0, 0, null, 0, null, null],
            [0, 1, 0, 0, null, null],
            [0, 0, null, 0, null, null],
          ]),
          total: total(0, 1, 0, 0, null),
        },
        {
          key: 'unknown',
          periods: months([
            [0, 0, null, 0, null, null],
            [0, 1, 0, 0, null, null],
            [0, 0, null, 0, null, null],
          ]),
          total: total(0, 1, 0, 0, null),
        },
        {
          key: 'web',
          periods: months([
            [1, 0, 1, 600, 600, -0.4], // (600 − 1000) / 1000; D8 in May is not counted
            [0, 0, null, 0, null, -1],
            [0, 0, null, 0, null, null],
          ]),
          total: total(1, 0, 1, 600, 600),
        },
      ],
    });
  });

  it('groupBy=owner: owner at opening (a reassignment does not move a deal), unassigned when missing', async () => {
    const report = await dealOutcomesReport.run(reportParams({ ...RANGE, groupBy: 'owner' }), p.context);
    expect(report.periods).toEqual(overallPeriods);
    expect(report.groups).toEqual([
      {
        key: 'u1',
        periods: months([
          [1, 1, 0.5, 600, 600, -0.4], // D2 won, D4 lost; January: D1 1000
          [0, 0, null, 0, null, -1],
          [0, 0, null, 0, null, null],
        ]),
        total: total(1, 1, 0.5, 600, 600),
      },
      {
        key: 'u2',
        periods: months([
          [1, 0, 1, 250.26, 250.26, null], // D3, reassigned to u3 before it was won
          [0, 1, 0, 0, null, -1], // D5
          [0, 0, null, 0, null, null],
        ]),
        total: total(1, 1, 0.5, 250.26, 250.26),
      },
      {
        key: 'u3',
        periods: months([
          [0, 0, null, 0, null, null],
          [0, 0, null, 0, null, null],
          [1, 0, 1, 99.99, 99.99, null],
        ]),
        total: total(1, 0, 1, 99.99, 99.99),
      },
      {
        key: 'unassigned',
        periods: months([
          [0, 0, null, 0, null, null],
          [0, 1, 0, 0, null, null], // D6
          [0, 0, null, 0, null, null],
        ]),
        total: total(0, 1, 0, 0, null),
      },
    ]);
  });

  it('day periods around the February boundary, to the millisecond; growth reads the day before `from`', async () => {
    const report = await dealOutcomesReport.run(
      reportParams({ from: '2024-01-31T00:00:00.000Z', to: '2024-02-02T00:00:00.000Z', interval: 'day' }),
      p.context,
    );
    expect(report.periods).toEqual([
      // D1 at 23:59:59.999; nothing won on January 30: growth null
      { start: '2024-01-31T00:00:00.000Z', end: '2024-02-01T00:00:00.000Z', ...total(1, 0, 1, 1000, 1000), revenueGrowth: null },
      // D2 at 00:00:00.000; (600 − 1000) / 1000
      { start: '2024-02-01T00:00:00.000Z', end: '2024-02-02T00:00:00.000Z', ...total(1, 0, 1, 600, 600), revenueGrowth: -0.4 },
    ]);
    expect(report.total).toEqual(total(2, 0, 1, 1600, 800));
    // A quarter: Q1 over Q4 2023 (nothing: null), Q2 over Q1; May 1 is in Q2.
    const quarters = await dealOutcomesReport.run(
      reportParams({ from: '2024-01-01T00:00:00.000Z', to: '2024-07-01T00:00:00.000Z', interval: 'quarter' }),
      p.context,
    );
    expect(quarters.periods.map((q) => [q.start, q.won, q.lost, q.revenueWon, q.averageDealSize, q.revenueGrowth])).toEqual([
      ['2024-01-01T00:00:00.000Z', 3, 3, 1850.26, 616.75, null], // 185026 / 3 = 61675.33… → 616.75
      // (509999 − 185026) / 185026 = 1.75636…; 509999 / 2 = 254999.5 cents → 2549.995, half away from zero → 2550
      ['2024-04-01T00:00:00.000Z', 2, 0, 5099.99, 2550, 1.7564],
    ]);
  });

  it('an empty range: zeros, null rates and averages, no groups', async () => {
    expect(
      await dealOutcomesReport.run(
        reportParams({ from: '2023-01-01T00:00:00.000Z', to: '2023-03-01T00:00:00.000Z', groupBy: 'owner' }),
        p.context,
      ),
    ).toEqual({
      interval: 'month',
      periods: [
        { start: '2023-01-01T00:00:00.000Z', end: '2023-02-01T00:00:00.000Z', ...total(0, 0, null, 0, null), revenueGrowth: null },
        { start: '2023-02-01T00:00:00.000Z', end: '2023-03-01T00:00:00.000Z', ...total(0, 0, null, 0, null), revenueGrowth: null },
      ],
      total: total(0, 0, null, 0, null),
      groupBy: 'owner',
      groups: [],
    });
  });

  it('tables: periods, group × period rows, the totals with their range', async () => {
    const report = await dealOutcomesReport.run(reportParams({ ...RANGE, groupBy: 'owner' }), p.context);
    expect(Object.keys(dealOutcomesReport.tables)).toEqual(['periods', 'groups', 'total', 'groupTotals']);
    expect(dealOutcomesReport.tables.periods(report)).toEqual(overallPeriods);
    const groups = dealOutcomesReport.tables.groups(report);
    expect(groups).toHaveLength(4 * 3);
    expect(groups[0]).toEqual({
      groupBy: 'owner',
      key: 'u1',
      start: '2024-02-01T00:00:00.000Z',
      end: '2024-03-01T00:00:00.000Z',
      won: 1,
      lost: 1,
      closed: 2,
      winRate: 0.5,
      revenueWon: 600,
      averageDealSize: 600,
      revenueGrowth: -0.4,
    });
    expect(dealOutcomesReport.tables.total(report)).toEqual([
      { start: '2024-02-01T00:00:00.000Z', end: '2024-05-01T00:00:00.000Z', ...overallTotal },
    ]);
    expect(dealOutcomesReport.tables.groupTotals(report).map((r) => [r.key, r.won, r.lost, r.revenueWon])).toEqual([
      ['u1', 1, 1, 600],
      ['u2', 1, 1, 250.26],
      ['u3', 1, 0, 99.99],
      ['unassigned', 0, 1, 0],
    ]);
  });
});

const reopened = (id: string, occurredAt: string, data: { outcome: 'won' | 'lost'; closedAt: string; amount: number; ownerId: string }) =>
  deal(id, 'DealReopened', occurredAt, {
    customerId: 'C1',
    stage: 'proposal',
    closedStage: 'proposal',
    ...(data.outcome === 'lost' ? { lostReason: 'price' } : {}),
    ...data,
  });

/**
 * Reopens: R1 won in February, reassigned, reopened in March and won again on March's last instant
 * at a changed amount; R2 lost on February's last instant, reopened at March's first, won at April's
 * first; R3 won in February (stays); R4 won in February, reopened, still open.
 */
const reopens: ScenarioEvent[] = [
  opened('R1', '2024-01-10T00:00:00.000Z', 'web', 'u1', 1000),
  won('R1', '2024-02-20T10:00:00.000Z', 1000),
  opened('R2', '2024-01-15T00:00:00.000Z', 'ads', 'u2', 300),
  lost('R2', '2024-02-29T23:59:59.999Z', 300),
  opened('R3', '2024-01-20T00:00:00.000Z', 'web', 'u1', 100),
  won('R3', '2024-02-10T00:00:00.000Z', 100),
  opened('R4', '2024-01-25T00:00:00.000Z', 'events', 'u3', 500),
  won('R4', '2024-02-05T00:00:00.000Z', 500),
  // The first close still counted until here.
  reopened('R2', '2024-03-01T00:00:00.000Z', { outcome: 'lost', closedAt: '2024-02-29T23:59:59.999Z', amount: 300, ownerId: 'u2' }),
  deal('R1', 'DealOwnerAssigned', '2024-03-01T12:00:00.000Z', { ownerId: 'u2', previousOwnerId: 'u1' }), // still u1's: owner at opening
  reopened('R1', '2024-03-05T00:00:00.000Z', { outcome: 'won', closedAt: '2024-02-20T10:00:00.000Z', amount: 1000, ownerId: 'u2' }),
  deal('R1', 'DealAmountChanged', '2024-03-06T00:00:00.000Z', { from: 1000, to: 1200 }),
  won('R1', '2024-03-31T23:59:59.999Z', 1200),
  reopened('R4', '2024-03-10T00:00:00.000Z', { outcome: 'won', closedAt: '2024-02-05T00:00:00.000Z', amount: 500, ownerId: 'u3' }),
  won('R2', '2024-04-01T00:00:00.000Z', 300),
];
const FEB_APR = { from: '2024-02-01T00:00:00.000Z', to: '2024-05-01T00:00:00.000Z', interval: 'month' as const };

describe('deal-outcomes report: a deal counts by its last close (DealReopened)', () => {
  it('before the reopens, February holds the first closes', async () => {
    const p = await project(
      reopens.filter((e) => e.occurredAt < '2024-03-01'),
      [dealOutcomesProjection],
    );
    try {
      const report = await dealOutcomesReport.run(reportParams(FEB_APR), p.context);
      expect(report.periods).toEqual(
        months([
          [3, 1, 0.75, 1600, 533.33, null], // R1 1000, R3 100, R4 500 won; R2 lost
          [0, 0, null, 0, null, -1],
          [0, 0, null, 0, null, null],
        ]),
      );
    } finally {
      await p.close();
    }
  });

  it('after them, February loses the undone closes and March and April gain the new ones, with the groups at opening', async () => {
    const p = await project(reopens, [dealOutcomesProjection]);
    try {
      const report = await dealOutcomesReport.run(reportParams({ ...FEB_APR, groupBy: 'owner' }), p.context);
      expect(report.periods).toEqual(
        months([
          [1, 0, 1, 100, 100, null], // R3 alone: R1's and R4's wins and R2's loss are withdrawn
          [1, 0, 1, 1200, 1200, 11], // R1 again at 23:59:59.999, at 1200: (1200 − 100) / 100
          [1, 0, 1, 300, 300, -0.75], // R2 at April's first instant: (300 − 1200) / 1200
        ]),
      );
      expect(report.total).toEqual(total(3, 0, 1, 1600, 533.33));
      // u3 (R4, open again) has no close left: no line. R1 stays u1's although reassigned to u2.
      expect(report.groups).toEqual([
        {
          key: 'u1',
          periods: months([
            [1, 0, 1, 100, 100, null],
            [1, 0, 1, 1200, 1200, 11],
            [0, 0, null, 0, null, -1],
          ]),
          total: total(2, 0, 1, 1300, 650),
        },
        {
          key: 'u2',
          periods: months([
            [0, 0, null, 0, null, null], // the withdrawn loss
            [0, 0, null, 0, null, null],
            [1, 0, 1, 300, 300, null],
          ]),
          total: total(1, 0, 1, 300, 300),
        },
      ]);
      const bySource = await dealOutcomesReport.run(reportParams({ ...FEB_APR, groupBy: 'source' }), p.context);
      expect(bySource.groups?.map((g) => [g.key, g.total.won, g.total.lost, g.total.revenueWon])).toEqual([
        ['ads', 1, 0, 300],
        ['web', 2, 0, 1300],
      ]);
      // Day periods at the boundary: February 29 no longer holds R2's loss; March 1 (the reopen) is no close.
      const days = await dealOutcomesReport.run(
        reportParams({ from: '2024-02-29T00:00:00.000Z', to: '2024-03-02T00:00:00.000Z', interval: 'day' }),
        p.context,
      );
      expect(days.total).toEqual(total(0, 0, null, 0, null));
    } finally {
      await p.close();
    }
  });
});

describe('deal-outcomes report = a fold of the raw events (property)', () => {
  it('matches for random histories, windows, intervals and groupings', async () => {
    const seen = { growth: 0, firstGrowth: 0, groups: 0 };
    await fc.assert(
      fc.asyncProperty(
        historyArbitrary({ minSteps: 100, maxSteps: 300 }),
        fc.array(reportParamsArbitrary([undefined, 'source', 'owner']), { minLength: 3, maxLength: 3 }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        async (history, paramsList, x) => {
          const projected = await project(history, [dealOutcomesProjection]);
          try {
            // Random windows, and windows from a random instant of the history to its end, where
            // closes are dense enough for growth figures (the first period's included) to be common.
            const times = projected.events.map((e) => Date.parse(e.occurredAt));
            const first = Math.min(...times);
            const last = Math.max(...times);
            const from = new Date(first + Math.round(x * (last - first))).toISOString();
            const to = new Date(last + 1).toISOString();
            const spans = (['week', 'month', 'quarter'] as const).flatMap((interval) =>
              ([undefined, 'source', 'owner'] as const).map((groupBy) =>
                reportParams({ from, to, interval, ...(groupBy ? { groupBy } : {}) }),
              ),
            );
            for (const params of [...paramsList, ...spans]) {
              const served = await dealOutcomesReport.run(params, projected.context);
              expect(served).toEqual(referenceDealOutcomes(projected.events, params));
              if (served.periods.some((q) => q.revenueGrowth !== null)) seen.growth += 1;
              if (served.periods[0].revenueGrowth !== null) seen.firstGrowth += 1;
              if ((served.groups?.length ?? 0) > 1) seen.groups += 1;
            }
          } finally {
            await projected.close();
          }
        },
      ),
      { numRuns: 25, seed: 61 },
    );
    // Not vacuous: growth figures, also for the first period (from the period before it), and several groups.
    expect(seen.growth).toBeGreaterThan(100);
    expect(seen.firstGrowth).toBeGreaterThan(5);
    expect(seen.groups).toBeGreaterThan(100);
  }, 120_000);
});

describe('deal-outcomes report with reopened deals = a fold of the raw events (property)', () => {
  it('matches for random histories with reopens', async () => {
    const seen = { reopens: 0, closes: 0 };
    await fc.assert(
      fc.asyncProperty(
        historyArbitrary({ minSteps: 100, maxSteps: 250, reopens: true }),
        fc.array(reportParamsArbitrary([undefined, 'source', 'owner']), { minLength: 3, maxLength: 3 }),
        async (history, paramsList) => {
          const projected = await project(history, [dealOutcomesProjection]);
          try {
            if (projected.events.some((e) => e.type === 'DealReopened')) seen.reopens += 1;
            const times = projected.events.map((e) => Date.parse(e.occurredAt));
            const from = new Date(Math.min(...times)).toISOString();
            const to = new Date(Math.max(...times) + 1).toISOString();
            const spans = (['week', 'month'] as const).flatMap((interval) =>
              ([undefined, 'source', 'owner'] as const).map((groupBy) =>
                reportParams({ from, to, interval, ...(groupBy ? { groupBy } : {}) }),
              ),
            );
            for (const params of [...paramsList, ...spans]) {
              const served = await dealOutcomesReport.run(params, projected.context);
              expect(served).toEqual(referenceDealOutcomes(projected.events, params));
              if (served.total.closed > 0) seen.closes += 1;
            }
          } finally {
            await projected.close();
          }
        },
      ),
      { numRuns: 15, seed: 1016 },
    );
    // Not vacuous: histories with reopens, reports with closes.
    expect(seen.reopens).toBeGreaterThan(10);
    expect(seen.closes).toBeGreaterThan(50);
  }, 120_000);
});
