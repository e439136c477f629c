import type { GoalKpi } from '@chronicle/domain';
import { cacProjection } from '../cac/projection';
import { churnProjection } from '../churn/projection';
import { leadFunnelProjection } from '../lead-funnel/projection';
import { ownerActivityProjection } from '../owner-activity/projection';
import { salesCycleProjection } from '../sales-cycle/projection';
import { project, Projected, ScenarioEvent } from '../testing/harness';
import { goalsProjection } from './projection';
import { findGoal, goalsReport, goalView } from './query';

const deal = (id: string, type: string, occurredAt: string, data: Record<string, unknown> = {}): ScenarioEvent => ({
  streamId: `deal-${id}`,
  type,
  data: { dealId: id, ...data },
  occurredAt,
});
const opened = (id: string, at: string, amount: number, ownerId = 'u1') =>
  deal(id, 'DealOpened', at, { customerId: 'c1', title: id, amount, ownerId, source: 'web', stage: 'qualification' });
const won = (id: string, at: string, amount: number) => deal(id, 'DealWon', at, { customerId: 'c1', amount, stage: 'qualification' });
const lost = (id: string, at: string, amount: number) =>
  deal(id, 'DealLost', at, { customerId: 'c1', amount, stage: 'qualification', reason: 'price' });
const lead = (id: string, at: string) => ({
  streamId: `lead-${id}`,
  type: 'LeadCaptured',
  data: { leadId: id, name: id, source: 'ads' },
  occurredAt: at,
});
const converted = (id: string, at: string) => ({
  streamId: `lead-${id}`,
  type: 'LeadConverted',
  data: { leadId: id, customerId: `c-${id}`, source: 'ads' },
  occurredAt: at,
});
const customer = (id: string, type: string, at: string, data: Record<string, unknown> = {}): ScenarioEvent => ({
  streamId: `customer-${id}`,
  type,
  data: { customerId: id, ...data },
  occurredAt: at,
});
const registered = (id: string, source: string) => customer(id, 'CustomerRegistered', '2023-12-01T00:00:00.000Z', { name: id, source });
const acquired = (id: string, at: string, channel: string) =>
  customer(id, 'CustomerAcquired', at, { channel, trigger: { type: 'PurchaseRecorded', purchaseId: `p-${id}` } });
const churned = (id: string, at: string) => customer(id, 'CustomerChurned', at, { reason: 'price' });
const spend = (id: string, at: string, amount: number, channel: string): ScenarioEvent => ({
  streamId: `spend-${channel}`,
  type: 'SpendRecorded',
  data: { spendId: id, amount, category: 'marketing', channel },
  occurredAt: at,
});
const goal = (id: string, kpi: GoalKpi, target: number, extra: Record<string, unknown> = {}): ScenarioEvent => ({
  streamId: `goal-${id}`,
  type: 'GoalSet',
  data: { goalId: id, kpi, target, deadline: '2024-03-02T00:00:00.000Z', ...extra },
  occurredAt: '2024-02-01T09:30:00.000Z',
});

/**
 * A goal set on Feb 1 (window from that day's start) with a deadline on Mar 2: 30 days. Baseline:
 * the 30 days before (Jan 2 – Feb 1). asOf Feb 16: half the window elapsed.
 */
const history: ScenarioEvent[] = [
  // Baseline window: d1 won after 10 days (1000), d2 lost; 4 leads, 1 converted.
  opened('d1', '2024-01-05T00:00:00.000Z', 1000),
  opened('d2', '2024-01-06T00:00:00.000Z', 700),
  won('d1', '2024-01-15T00:00:00.000Z', 1000),
  lost('d2', '2024-01-20T00:00:00.000Z', 700),
  lead('l1', '2024-01-10T00:00:00.000Z'),
  lead('l2', '2024-01-11T00:00:00.000Z'),
  lead('l3', '2024-01-12T00:00:00.000Z'),
  lead('l4', '2024-01-13T00:00:00.000Z'),
  converted('l1', '2024-01-20T00:00:00.000Z'),
  // Goal window up to asOf: d3 (opened Jan 25) won Feb 5 after 11 days (2000), d4 won after 8 days (3000), d5 lost;
  // d6 (owner u2) won Feb 20, after asOf; 2 leads, 1 converted.
  opened('d3', '2024-01-25T00:00:00.000Z', 2000),
  opened('d4', '2024-02-02T00:00:00.000Z', 3000),
  opened('d5', '2024-02-03T00:00:00.000Z', 400),
  opened('d6', '2024-02-04T00:00:00.000Z', 500, 'u2'),
  won('d3', '2024-02-05T00:00:00.000Z', 2000),
  won('d4', '2024-02-10T00:00:00.000Z', 3000),
  lost('d5', '2024-02-12T00:00:00.000Z', 400),
  won('d6', '2024-02-20T00:00:00.000Z', 500),
  lead('l5', '2024-02-03T00:00:00.000Z'),
  lead('l6', '2024-02-05T00:00:00.000Z'),
  converted('l5', '2024-02-10T00:00:00.000Z'),
  // Churn: c1–c4 active since December; c1, c2 churn in the baseline window (2 / 4); c5, c6 acquired
  // Jan 15 (web, ads); c3 churns Feb 5 (1 / 4 active on Feb 1).
  ...['c1', 'c2', 'c3', 'c4', 'c5', 'c6', 'c7', 'c8', 'c9'].map((id) => registered(id, ['c6', 'c9'].includes(id) ? 'ads' : 'web')),
  ...['c1', 'c2', 'c3', 'c4'].map((id) => acquired(id, '2023-12-05T00:00:00.000Z', 'web')),
  churned('c1', '2024-01-10T00:00:00.000Z'),
  churned('c2', '2024-01-12T00:00:00.000Z'),
  acquired('c5', '2024-01-15T00:00:00.000Z', 'web'),
  acquired('c6', '2024-01-15T00:00:00.000Z', 'ads'),
  churned('c3', '2024-02-05T00:00:00.000Z'),
  // CAC: baseline 1000 (web) + 600 (ads) for c5, c6 → 800 (web: 1000); goal window: 900 (web) for c7, c8 (web), c9 (ads) → 300 (web: 450).
  spend('s1', '2024-01-20T00:00:00.000Z', 1000, 'web'),
  spend('s2', '2024-01-20T00:00:00.000Z', 600, 'ads'),
  spend('s3', '2024-02-03T00:00:00.000Z', 900, 'web'),
  acquired('c7', '2024-02-04T00:00:00.000Z', 'web'),
  acquired('c8', '2024-02-06T00:00:00.000Z', 'web'),
  acquired('c9', '2024-02-10T00:00:00.000Z', 'ads'),
  goal('g-churn', 'churnRate', 0.1),
  goal('g-cac', 'cac', 500),
  goal('g-cac-web', 'cac', 500, { segment: { channel: 'web' } }),
  goal('g-revenue', 'newRevenue', 8000),
  goal('g-win', 'winRate', 0.9),
  goal('g-cycle', 'salesCycleDays', 9),
  goal('g-conversion', 'conversionRate', 0.7),
  goal('g-revenue-u2', 'newRevenue', 1000, { segment: { owner: 'u2' } }),
];

describe('goal progress', () => {
  let p: Projected;
  beforeAll(async () => {
    p = await project(history, [
      ownerActivityProjection,
      salesCycleProjection,
      leadFunnelProjection,
      churnProjection,
      cacProjection,
      goalsProjection,
    ]);
  });
  afterAll(() => p.close());

  const view = async (id: string, asOf: string) => goalView((await findGoal(p.context.readModels, id))!, Date.parse(asOf), p.context);
  const asOf = '2024-02-16T00:00:00.000Z';

  it('newRevenue: 5000 won in half the window projects 10,000 ≥ 8000: on track', async () => {
    expect(await view('g-revenue', asOf)).toEqual({
      id: 'g-revenue',
      name: null,
      kpi: 'newRevenue',
      segment: null,
      target: 8000,
      setAt: '2024-02-01T09:30:00.000Z',
      deadline: '2024-03-02T00:00:00.000Z',
      asOf,
      baseline: { from: '2024-01-02T00:00:00.000Z', to: '2024-02-01T00:00:00.000Z', value: 1000 },
      current: { from: '2024-02-01T00:00:00.000Z', to: asOf, value: 5000 },
      projected: 10000,
      status: 'on-track',
      elapsed: 0.5,
      cancelled: null,
    });
  });

  it('winRate: 0.5 → 0.6667 in half the window projects 0.8334 < 0.9: off track', async () => {
    const v = await view('g-win', asOf);
    expect([v.baseline.value, v.current.value, v.projected, v.status]).toEqual([0.5, 0.6667, 0.8334, 'off-track']);
  });

  it('salesCycleDays: 10 → 9.5 days projects 9 ≤ 9: on track (lower is better)', async () => {
    const v = await view('g-cycle', asOf);
    expect([v.baseline.value, v.current.value, v.projected, v.status]).toEqual([10, 9.5, 9, 'on-track']);
  });

  it('conversionRate: 0.25 → 0.5 projects 0.75 ≥ 0.7: on track', async () => {
    const v = await view('g-conversion', asOf);
    expect([v.baseline.value, v.current.value, v.projected, v.status]).toEqual([0.25, 0.5, 0.75, 'on-track']);
  });

  it('churnRate: 0.5 → 0.25 projects 0 (a falling line stops at zero) ≤ 0.1: on track', async () => {
    const v = await view('g-churn', asOf);
    expect([v.baseline.value, v.current.value, v.projected, v.status]).toEqual([0.5, 0.25, 0, 'on-track']);
  });

  it('cac: 800 → 300 overall, 1000 → 450 for the web channel', async () => {
    const all = await view('g-cac', asOf);
    expect([all.baseline.value, all.current.value, all.status]).toEqual([800, 300, 'on-track']);
    const web = await view('g-cac-web', asOf);
    expect([web.segment, web.baseline.value, web.current.value]).toEqual([{ channel: 'web' }, 1000, 450]);
    // At the deadline (Mar 2): nothing more spent or acquired, so 300 is final: achieved.
    expect((await view('g-cac', '2024-03-05T00:00:00.000Z')).status).toBe('achieved');
  });

  it('a segment narrows the KPI to one owner; after the deadline the value is final', async () => {
    const mid = await view('g-revenue-u2', asOf);
    expect([mid.baseline.value, mid.current.value, mid.projected, mid.status]).toEqual([0, 0, 0, 'off-track']);
    const end = await view('g-revenue-u2', '2024-04-01T00:00:00.000Z');
    expect([end.current.to, end.current.value, end.projected, end.status, end.elapsed]).toEqual([
      '2024-03-02T00:00:00.000Z',
      500,
      500,
      'missed',
      1,
    ]);
    const revenue = await view('g-revenue', '2024-04-01T00:00:00.000Z');
    expect([revenue.current.value, revenue.status]).toEqual([5500, 'missed']); // the pace slowed after Feb 16
  });

  it('the goals report lists every goal with its progress, by deadline', async () => {
    const report = await goalsReport.run({ from: asOf, to: asOf, interval: 'month', asOf, limit: 10 }, p.context);
    expect(report.goals.map((g) => [g.id, g.current.value, g.status])).toEqual([
      ['g-cac', 300, 'on-track'],
      ['g-cac-web', 450, 'on-track'],
      ['g-churn', 0.25, 'on-track'],
      ['g-conversion', 0.5, 'on-track'],
      ['g-cycle', 9.5, 'on-track'],
      ['g-revenue', 5000, 'on-track'],
      ['g-revenue-u2', 0, 'off-track'],
      ['g-win', 0.6667, 'off-track'],
    ]);
  });
});

describe('goals cancelled, and goals stored before deadlines were limited', () => {
  let p: Projected;
  const cancelled: ScenarioEvent = {
    streamId: 'goal-g-win',
    type: 'GoalCancelled',
    data: { goalId: 'g-win', reason: 'team reorganised' },
    occurredAt: '2024-02-10T12:00:00.000Z',
  };
  // Set before GOAL_MAX_DAYS existed: 17 years ahead. Every KPI's daily periods over it exceed what
  // one report computes (5000 then), and the view answered a RangeError for every caller.
  const far = (id: string, kpi: GoalKpi) => goal(id, kpi, 0.1, { deadline: '2041-02-01T00:00:00.000Z' });
  beforeAll(async () => {
    const events = [
      ...history.filter((e) => e.type !== 'GoalSet' || e.streamId === 'goal-g-win'),
      cancelled,
      far('g-churn-2041', 'churnRate'),
      far('g-cac-2041', 'cac'),
      far('g-conversion-2041', 'conversionRate'),
    ];
    p = await project(events, [
      ownerActivityProjection,
      salesCycleProjection,
      leadFunnelProjection,
      churnProjection,
      cacProjection,
      goalsProjection,
    ]);
  });
  afterAll(() => p.close());
  const view = async (id: string, asOf: string) => goalView((await findGoal(p.context.readModels, id))!, Date.parse(asOf), p.context);

  it('a cancelled goal is measured up to its cancellation and projects nothing; before it, as before', async () => {
    const after = await view('g-win', '2024-02-16T00:00:00.000Z');
    expect([after.status, after.projected, after.current.to, after.current.value, after.cancelled]).toEqual([
      'cancelled',
      null,
      '2024-02-10T12:00:00.000Z',
      1, // d3 won Feb 5, d4 won Feb 10 at 00:00; d5 lost Feb 12, after the cancellation
      { at: '2024-02-10T12:00:00.000Z', by: 'tester', reason: 'team reorganised' },
    ]);
    const before = await view('g-win', '2024-02-08T00:00:00.000Z');
    expect([before.status, before.cancelled]).toEqual(['on-track', null]);
  });

  it('a goal 17 years long is computed: daily periods over its windows, the baseline at most 3653 days', async () => {
    const asOf = '2024-02-16T00:00:00.000Z';
    const churn = await view('g-churn-2041', asOf);
    expect([churn.baseline.from, churn.baseline.to, churn.baseline.value, churn.current.value, churn.status]).toEqual([
      '2014-01-31T00:00:00.000Z', // 3653 days before Feb 1, 2024 (two leap days): nobody was active then, so no rate
      '2024-02-01T00:00:00.000Z',
      null,
      0.25,
      'off-track', // no baseline: the current value is the projection, and 0.25 > 0.1
    ]);
    expect((await view('g-cac-2041', asOf)).current.value).toBe(300);
    expect((await view('g-conversion-2041', asOf)).current.value).toBe(0.5);
    // Years on, the current window alone is over 5000 days long.
    const late = await view('g-churn-2041', '2040-01-01T00:00:00.000Z');
    expect([late.current.from, late.current.to, late.current.value]).toEqual([
      '2024-02-01T00:00:00.000Z',
      '2040-01-01T00:00:00.000Z',
      0.25,
    ]);
  });
});
