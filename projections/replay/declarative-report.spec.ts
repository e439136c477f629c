import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import type { RecordedEvent } from '@chronicle/event-store';
import { median, money } from '../common/numbers';
import { dayOf, periodIndex, periods } from '../common/periods';
import type { ReportParams } from '../common/report';
import { project, Projected, ScenarioEvent } from '../testing/harness';
import { historyArbitrary } from '../testing/random-history';
import { reportParams, reportParamsArbitrary } from '../testing/report-params';
import { checkDefinition, declarativeReport, DeclarativeResult } from './declarative-report';
import { loadReportFile } from './report-file';

let p: Projected | undefined;
afterEach(async () => {
  await p?.close();
  p = undefined;
});

const Q1 = reportParams({ from: '2024-01-01T00:00:00.000Z', to: '2024-04-01T00:00:00.000Z', interval: 'month' });

async function runExample(file: string, scenario: ScenarioEvent[], params: ReportParams = Q1): Promise<DeclarativeResult> {
  const { projections, report } = loadReportFile(join('examples/declarative-reports', file));
  p = await project(scenario, projections);
  return (await report.run(params, p.context)) as DeclarativeResult;
}

const interaction = (customerId: string, type: string, occurredAt: string, actor: string, extra: Record<string, unknown> = {}) => ({
  streamId: `customer-${customerId}`,
  type: 'InteractionLogged',
  data: { customerId, interactionId: `i-${occurredAt}-${type}`, type, direction: 'outbound', subject: 's', ...extra },
  occurredAt,
  actor,
});
const deal = (dealId: string, type: string, occurredAt: string, data: Record<string, unknown>) => ({
  streamId: `deal-${dealId}`,
  type,
  data: { dealId, customerId: 'c1', ...data },
  occurredAt,
});
const opened = (dealId: string, occurredAt: string, source: string, amount: number) =>
  deal(dealId, 'DealOpened', occurredAt, { title: 't', amount, ownerId: 'u1', source, stage: 'lead' });
const won = (dealId: string, occurredAt: string, amount: number) => deal(dealId, 'DealWon', occurredAt, { amount, stage: 'negotiation' });

const JAN = { start: '2024-01-01T00:00:00.000Z', end: '2024-02-01T00:00:00.000Z' };
const FEB = { start: '2024-02-01T00:00:00.000Z', end: '2024-03-01T00:00:00.000Z' };
const MAR = { start: '2024-03-01T00:00:00.000Z', end: '2024-04-01T00:00:00.000Z' };

it('meetings per rep per month (the docs example): a month boundary, a call left out, a meeting without a length', async () => {
  const result = await runExample('meetings-per-rep.json', [
    interaction('c1', 'meeting', '2024-01-10T09:00:00.000Z', 'u1', { durationMinutes: 30 }),
    interaction('c1', 'meeting', '2024-01-31T23:59:59.999Z', 'u1', { durationMinutes: 45 }),
    interaction('c2', 'meeting', '2024-01-15T09:00:00.000Z', 'u2'), // counted; no length for the average
    interaction('c2', 'call', '2024-01-20T09:00:00.000Z', 'u1', { durationMinutes: 99 }), // not a meeting
    interaction('c2', 'meeting', '2024-02-01T00:00:00.000Z', 'u1', { durationMinutes: 60 }), // first instant of February
  ]);
  const none = { meetings: 0, customers: 0, averageMinutes: null, medianMinutes: null };
  expect(result).toEqual({
    interval: 'month',
    groupBy: ['rep'],
    measures: ['meetings', 'customers', 'averageMinutes', 'medianMinutes'],
    rows: [
      { ...JAN, rep: 'u1', meetings: 2, customers: 1, averageMinutes: 37.5, medianMinutes: 37.5 },
      { ...JAN, rep: 'u2', meetings: 1, customers: 1, averageMinutes: null, medianMinutes: null },
      { ...FEB, rep: 'u1', meetings: 1, customers: 1, averageMinutes: 60, medianMinutes: 60 },
      { ...FEB, rep: 'u2', ...none },
      { ...MAR, rep: 'u1', ...none },
      { ...MAR, rep: 'u2', ...none },
    ],
    // Over the window: distinct customers and the median of all three lengths, not sums of the months'.
    totals: [
      { rep: 'u1', meetings: 3, customers: 2, averageMinutes: 45, medianMinutes: 45 },
      { rep: 'u2', meetings: 1, customers: 1, averageMinutes: null, medianMinutes: null },
    ],
  });
});

it('average discount by source (the docs example): the source and opening amount come from DealOpened, a raise is a negative discount', async () => {
  const result = await runExample('average-discount-by-source.json', [
    opened('d1', '2024-01-05T00:00:00.000Z', 'web', 1000),
    deal('d1', 'DealAmountChanged', '2024-01-06T00:00:00.000Z', { from: 1000, to: 900 }),
    won('d1', '2024-01-20T00:00:00.000Z', 900), // 100 off: 10 %
    opened('d2', '2024-01-06T00:00:00.000Z', 'web', 500),
    won('d2', '2024-02-02T00:00:00.000Z', 500), // no discount
    opened('d3', '2024-01-07T00:00:00.000Z', 'referral', 200),
    won('d3', '2024-01-25T00:00:00.000Z', 250), // raised by 50: −25 %
    opened('d4', '2024-01-08T00:00:00.000Z', 'web', 300),
    deal('d4', 'DealLost', '2024-01-09T00:00:00.000Z', { amount: 300, stage: 'lead', reason: 'price' }), // not won
    won('d5', '2024-01-10T00:00:00.000Z', 80), // its opening is not in the history: no source, no discount
  ]);
  const empty = { dealsWon: 0, revenueWon: 0, averageDiscount: null, averageDiscountPercent: null };
  expect(result.rows).toEqual([
    { ...JAN, source: 'referral', dealsWon: 1, revenueWon: 250, averageDiscount: -50, averageDiscountPercent: -25 },
    { ...JAN, source: 'web', dealsWon: 1, revenueWon: 900, averageDiscount: 100, averageDiscountPercent: 10 },
    { ...JAN, source: null, dealsWon: 1, revenueWon: 80, averageDiscount: null, averageDiscountPercent: null },
    { ...FEB, source: 'referral', ...empty },
    { ...FEB, source: 'web', dealsWon: 1, revenueWon: 500, averageDiscount: 0, averageDiscountPercent: 0 },
    { ...FEB, source: null, ...empty },
    { ...MAR, source: 'referral', ...empty },
    { ...MAR, source: 'web', ...empty },
    { ...MAR, source: null, ...empty },
  ]);
  expect(result.totals).toEqual([
    { source: 'referral', dealsWon: 1, revenueWon: 250, averageDiscount: -50, averageDiscountPercent: -25 },
    { source: 'web', dealsWon: 2, revenueWon: 1400, averageDiscount: 50, averageDiscountPercent: 5 },
    { source: null, dealsWon: 1, revenueWon: 80, averageDiscount: null, averageDiscountPercent: null },
  ]);
});

it('calls before a deal is won (the docs example): only calls on that deal, only before the win', async () => {
  const call = (dealId: string | undefined, at: string) => interaction('c1', 'call', at, 'u1', dealId ? { dealId } : {});
  const result = await runExample('calls-before-won.json', [
    call('d1', '2024-01-02T00:00:00.000Z'),
    call('d1', '2024-01-03T00:00:00.000Z'),
    call('d1', '2024-01-04T00:00:00.000Z'),
    interaction('c1', 'meeting', '2024-01-05T00:00:00.000Z', 'u1', { dealId: 'd1' }), // not a call
    call(undefined, '2024-01-06T00:00:00.000Z'), // on no deal
    won('d1', '2024-01-10T00:00:00.000Z', 100), // 3 calls
    call('d1', '2024-01-11T00:00:00.000Z'), // after the win
    won('d2', '2024-01-20T00:00:00.000Z', 100), // no call: 0
    call('d3', '2024-01-21T00:00:00.000Z'),
    won('d3', '2024-02-05T00:00:00.000Z', 100), // 1 call
  ]);
  expect(result.rows).toEqual([
    { ...JAN, dealsWon: 2, averageCalls: 1.5, medianCalls: 1.5 },
    { ...FEB, dealsWon: 1, averageCalls: 1, medianCalls: 1 },
    { ...MAR, dealsWon: 0, averageCalls: null, medianCalls: null },
  ]);
  expect(result.totals).toEqual([{ dealsWon: 3, averageCalls: 1.33, medianCalls: 1 }]);
});

it('a period without events: every period listed, counts 0 and the rest null; a window with no period is empty', async () => {
  const result = await runExample('calls-before-won.json', []);
  expect(result.rows).toEqual([JAN, FEB, MAR].map((period) => ({ ...period, dealsWon: 0, averageCalls: null, medianCalls: null })));
  expect(result.totals).toEqual([{ dealsWon: 0, averageCalls: null, medianCalls: null }]);
});

describe('against a plain fold of random histories', () => {
  const definition = {
    name: 'interactions-by-source-and-rep',
    events: ['InteractionLogged'],
    lookups: {
      source: { event: 'CustomerRegistered', key: 'data.customerId', value: 'data.source' },
      before: { event: 'InteractionLogged', key: 'data.customerId', count: true },
    },
    fields: { longer: { add: ['data.durationMinutes', 0.5] } },
    where: { 'data.durationMinutes': { gte: 10 }, 'data.type': { not: 'note' } },
    groupBy: ['source', { field: 'metadata.actor', as: 'rep' }],
    measures: [
      { name: 'n', op: 'count' },
      { name: 'customers', op: 'distinct', field: 'data.customerId' },
      { name: 'minutes', op: 'sum', field: 'longer' },
      { name: 'average', op: 'average', field: 'data.durationMinutes' },
      { name: 'middle', op: 'median', field: 'before' },
    ],
  };

  /** The report by hand: events in recorded order, lookups as plain maps. */
  function fold(events: RecordedEvent[], params: ReportParams) {
    const list = periods(params.from, params.to, params.interval);
    const source = new Map<string, unknown>();
    const before = new Map<string, number>();
    const groups = new Map<string, { g: unknown[]; cells: Array<Array<{ customer: string; minutes: number; before: number }>> }>();
    for (const e of events) {
      const data = e.data as { customerId: string; source?: string; type?: string; durationMinutes?: number };
      if (e.type === 'CustomerRegistered') source.set(data.customerId, data.source);
      if (e.type !== 'InteractionLogged') continue;
      const seen = before.get(data.customerId) ?? 0;
      before.set(data.customerId, seen + 1);
      if (!((data.durationMinutes ?? -1) >= 10) || data.type === 'note') continue;
      const i = periodIndex(list, Date.parse(`${dayOf(e.occurredAt)}T00:00:00.000Z`));
      if (i < 0) continue;
      const g = [source.get(data.customerId) ?? null, e.actor];
      const key = JSON.stringify(g);
      if (!groups.has(key)) groups.set(key, { g, cells: list.map(() => []) });
      groups.get(key)!.cells[i].push({ customer: data.customerId, minutes: data.durationMinutes!, before: seen });
    }
    const figures = (rows: Array<{ customer: string; minutes: number; before: number }>) => ({
      n: rows.length,
      customers: new Set(rows.map((r) => r.customer)).size,
      minutes: money(rows.reduce((a, r) => a + r.minutes + 0.5, 0)),
      average: rows.length ? money(rows.reduce((a, r) => a + r.minutes, 0) / rows.length) : null,
      middle: rows.length ? money(median(rows.map((r) => r.before))!) : null,
    });
    const sorted = [...groups.values()].sort((a, b) => (JSON.stringify(a.g) < JSON.stringify(b.g) ? -1 : 1));
    return {
      rows: list.flatMap((period, i) =>
        sorted.map(({ g, cells }) => ({ start: period.start, end: period.end, source: g[0], rep: g[1], ...figures(cells[i]) })),
      ),
      totals: sorted.map(({ g, cells }) => ({ source: g[0], rep: g[1], ...figures(cells.flat()) })),
    };
  }

  it('gives the figures of the fold, for any window and interval', async () => {
    const { projection, report } = declarativeReport(definition);
    await fc.assert(
      fc.asyncProperty(
        historyArbitrary({ minSteps: 40, maxSteps: 140 }),
        fc.array(reportParamsArbitrary(), { minLength: 3, maxLength: 3 }),
        async (history, list) => {
          const projected = await project(history, [projection]);
          try {
            for (const params of list) {
              const result = (await report.run(params, projected.context)) as DeclarativeResult;
              expect({ rows: result.rows, totals: result.totals }).toEqual(fold(projected.events, params));
            }
          } finally {
            await projected.close();
          }
        },
      ),
      { numRuns: 25 },
    );
  }, 60_000);
});

describe('a definition that is not valid names the place and the problem', () => {
  const base = { name: 'r', events: ['DealWon'], measures: [{ name: 'n', op: 'count' }] };
  it.each([
    [{ ...base, name: 'Bad Name' }, 'name: must be lower-case letters, digits and dashes, starting with a letter'],
    [
      { ...base, measure: [] },
      '(top): unknown key "measure" (allowed: name, description, version, events, where, lookups, fields, groupBy, measures)',
    ],
    [{ ...base, events: ['DealWonn'] }, 'events[0]: "DealWonn" is not an event type'],
    [{ ...base, events: [] }, 'events: must name one or more event types'],
    [{ ...base, measures: [] }, 'measures: must list one or more measures'],
    [
      { ...base, measures: [{ name: 'n', op: 'mode', field: 'data.amount' }] },
      'measures[0].op: must be one of count, distinct, sum, average, median',
    ],
    [
      { ...base, measures: [{ name: 'n', op: 'sum' }] },
      'measures[0].field: must be a field path such as "data.amount" or "metadata.actor"',
    ],
    [
      { ...base, measures: [{ name: 'n', op: 'count', field: 'data.amount' }] },
      'measures[0].field: count counts events: it takes no field',
    ],
    [
      { ...base, measures: [{ name: 'n', op: 'sum', field: 'amount' }] },
      'measures[0].field: "amount" is not a field: use data.<field>, metadata.<field>, streamId, type',
    ],
    [
      { ...base, events: ['InteractionLogged'], groupBy: ['data.subject'] },
      'groupBy[0].field: "data.subject" is personal data, which a declarative report may not read (its figures are shown to analysts)',
    ],
    [
      { ...base, events: ['CustomerRegistered'], measures: [{ name: 'n', op: 'distinct', field: 'data.email' }] },
      'measures[0].field: "data.email" is personal data, which a declarative report may not read (its figures are shown to analysts)',
    ],
    [{ ...base, groupBy: ['data.a', 'data.b', 'data.c'] }, 'groupBy: groups by at most two fields besides the period; it has 3'],
    [{ ...base, groupBy: [{ field: 'data.stage', as: 'n' }] }, 'measures[0].name: the column "n" appears twice'],
    [{ ...base, where: { 'data.amount': { gte: '100' } } }, 'where.data.amount.gte: must be a number'],
    [
      { ...base, where: { 'data.amount': { atLeast: 100 } } },
      'where.data.amount: unknown key "atLeast" (allowed: equals, in, not, gt, gte, lt, lte, exists)',
    ],
    [
      { ...base, lookups: { src: { event: 'DealOpened', key: 'data.dealId', value: 'data.source', count: true } } },
      'lookups.src: must have exactly one of "value": <path>, "count": true, "sum": <path>',
    ],
    [
      { ...base, fields: { x: { power: ['data.amount', 2] } } },
      'fields.x: must be a number, a field path, or one of { "add": [a, b] | "subtract": [a, b] | "multiply": [a, b] | "divide": [a, b] }',
    ],
    [
      { ...base, fields: { x: { divide: ['y', 2] }, y: 1 } },
      'fields.x.divide[0]: "y" is not a field: use data.<field>, metadata.<field>, streamId, type',
    ],
    [{ ...base, version: 0 }, 'version: must be a whole number ≥ 1'],
  ])('%j', (definition, message) => {
    expect(() => checkDefinition(definition)).toThrow(message);
  });
});

describe('as a report file (chronicle replay, REPORTS_DIR)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'declarative-'));

  it('loads each docs example as a projection and a report of the same name', () => {
    for (const name of ['meetings-per-rep', 'average-discount-by-source', 'calls-before-won']) {
      const file = loadReportFile(`examples/declarative-reports/${name}.json`);
      expect(file.report.name).toBe(name);
      expect(file.report.projections).toEqual([`report-${name}`]);
      expect(file.projections.map((projection) => projection.name)).toEqual([`report-${name}`]);
      expect(Object.keys(file.report.tables)).toEqual(['rows', 'totals']);
    }
  });

  it('names the line of a JSON syntax error, and the place of a definition error', () => {
    const broken = join(dir, 'broken.json');
    writeFileSync(broken, '{\n  "name": "x",\n  "events": ["DealWon"],,\n}\n');
    expect(() => loadReportFile(broken)).toThrow(expect.objectContaining({ file: broken, line: 3 }));
    const wrong = join(dir, 'wrong.json');
    writeFileSync(wrong, JSON.stringify({ name: 'x', events: ['DealWon'], measures: [{ name: 'n', op: 'avg', field: 'data.amount' }] }));
    expect(() => loadReportFile(wrong)).toThrow(`${wrong}: measures[0].op: must be one of count, distinct, sum, average, median`);
  });
});
