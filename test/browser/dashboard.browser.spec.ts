/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
// The functions given to page.evaluate() and friends run in the page: they see the DOM.
import { parse } from 'csv-parse/sync';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import puppeteer, { Browser, BrowserContext, Page } from 'puppeteer-core';
import request from 'supertest';
import { defaultPipeline, Pipeline } from '@chronicle/domain';
import { ReadModels } from '@chronicle/projector';
import { Role } from '@chronicle/infrastructure';
import { generateHistory } from '../../apps/cli/src/seed/generator';
import { appendHistory } from '../../apps/cli/src/seed/seed';
import { startTestApp, TestApp } from '../support/test-app';

/**
 * GET /dashboard in Debian's Chromium (docs/dashboard.md): a seeded history, the page driven as a
 * user drives it, every chart's table compared with the report API's JSON for the same
 * parameters, the CSV download, and the roles (manager, analyst, rep). Every wait is on a DOM
 * state (`data-state` per chart) or a file, never a fixed delay. Screenshots: test/browser/artefacts.
 */

const ARTEFACTS = join(__dirname, 'artefacts');
const DOCS_IMAGE = join(__dirname, '../../docs/images/dashboard.png');
// A fixed history and fixed parameters: the same figures, and the same screenshots, on every run.
const END = '2026-06-01';
const FROM = '2025-06-01';
const AS_OF = '2026-06-01';
const EARLIER_AS_OF = '2026-02-01';
// Stages with a stall limit, so that the pipeline report carries `stalled`.
const pipeline: Pipeline = { stages: defaultPipeline.stages.map((s) => ({ ...s, stallAfterDays: 21 })) };

let t: TestApp;
let browser: Browser;
let base: string;
let dir: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'chronicle-browser-'));
  const pipelineFile = join(dir, 'pipeline.json');
  writeFileSync(pipelineFile, JSON.stringify(pipeline));
  mkdirSync(ARTEFACTS, { recursive: true });
  // No process managers: the history is exactly what is appended here.
  t = await startTestApp({ processManagers: false, env: { PIPELINE_FILE: pipelineFile } });
  await appendHistory(t.store, generateHistory({ events: 4000, seed: 14, end: new Date(`${END}T00:00:00Z`), pipeline }));
  await setGoals();
  await repHistory();
  await t.app.get(ReadModels).waitFor(await t.store.headPosition(), 30_000);
  await t.app.listen(0, '127.0.0.1');
  base = `http://127.0.0.1:${(t.http.address() as AddressInfo).port}`;
  browser = await puppeteer.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    headless: true,
    // Scrollbars fade in and out: hidden, the screenshots are the same on every run.
    args: ['--no-sandbox', '--disable-gpu', '--font-render-hinting=none', '--hide-scrollbars'],
  });
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await t?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** Goals set and ended within the history: their figures are final. */
async function setGoals(): Promise<void> {
  const goals = [
    { name: 'Revenue spring', kpi: 'newRevenue', target: 250000 },
    { name: 'Win rate spring', kpi: 'winRate', target: 0.5 },
    { name: 'Faster cycle', kpi: 'salesCycleDays', target: 20 },
    { name: 'Lead conversion', kpi: 'conversionRate', target: 0.3 },
  ];
  for (const goal of goals) {
    const res = await request(t.http)
      .post('/goals')
      .set(t.as('admin'))
      .send({ ...goal, deadline: '2026-05-01T00:00:00Z', occurredAt: '2026-02-01T09:00:00Z' });
    expect(res.status).toBe(201);
  }
}

/** The rep's own records in the range: a won deal, a call, and a goal on its own figures. */
async function repHistory(): Promise<void> {
  const as = (role: 'rep' | 'admin') => t.as(role);
  const at = '2026-03-02T10:00:00Z';
  const customer = await request(t.http).post('/customers').set(as('rep')).send({ name: 'Rep Customer', source: 'web', occurredAt: at });
  const deal = await request(t.http)
    .post('/deals')
    .set(as('rep'))
    .send({ customerId: customer.body.id, title: 'Own deal', amount: 4200, occurredAt: at });
  const won = await request(t.http).post(`/deals/${deal.body.id}/win`).set(as('rep')).send({ occurredAt: '2026-03-20T10:00:00Z' });
  const call = await request(t.http)
    .post(`/customers/${customer.body.id}/interactions`)
    .set(as('rep'))
    .send({ type: 'call', direction: 'outbound', subject: 'Kick-off', occurredAt: at });
  const goal = await request(t.http)
    .post('/goals')
    .set(as('admin'))
    .send({
      name: 'Rep revenue',
      kpi: 'newRevenue',
      target: 10000,
      segment: { owner: t.actors.rep },
      deadline: '2026-05-01T00:00:00Z',
      occurredAt: '2026-02-01T09:00:00Z',
    });
  expect([customer.status, deal.status, won.status, call.status, goal.status]).toEqual([201, 201, 200, 201, 201]);
}

// ---- What each chart shows: its report's query and the table the page should build from the JSON.

type Json = any;
type Scalar = string | number | boolean | null | undefined;
type Records = (json: Json) => Array<Record<string, Scalar>>;
interface Expected {
  query: string;
  columns: string[];
  records: Records;
}
const period = 'from=' + FROM + '&to=' + END;
const withTotal = (key: string, totals: Json) => ({ ...totals, [key]: 'total' });
const cycle = ['wonDeals', 'avgDays', 'medianDays', 'p90Days'];

const EXPECTED: Record<string, Expected> = {
  pipeline: {
    query: `asOf=${AS_OF}`,
    columns: ['stage', 'deals', 'value', 'weightedValue', 'avgAgeDays', 'stalled'],
    records: (j) => [...j.stages, { ...withTotal('stage', j.totals), avgAgeDays: null }],
  },
  churn: {
    query: `${period}&interval=month`,
    columns: ['start', 'customersAtStart', 'newCustomers', 'reactivated', 'churned', 'customersAtEnd', 'churnRate'],
    records: (j) => j.periods,
  },
  'sales-cycle': { query: period, columns: ['key', ...cycle], records: (j) => [j.overall, ...j.groups] },
  'sales-cycle-stages': { query: period, columns: ['stage', 'exits', 'avgDays'], records: (j) => j.stages },
  cac: {
    query: `${period}&interval=month`,
    columns: ['start', 'spend', 'newCustomers', 'cac'],
    records: (j) => [...j.periods, withTotal('start', j.total)],
  },
  forecast: {
    query: '',
    columns: ['month', 'deals', 'value', 'weightedValue'],
    records: (j) => [...j.months, withTotal('month', j.totals)],
  },
  conversion: {
    query: `${period}&interval=month&groupBy=source`,
    columns: ['source', 'captured', 'converted', 'conversionRate', 'avgDaysToConvert'],
    records: (j) => [...j.total.bySource, withTotal('source', j.total)],
  },
  'sales-performance': {
    query: period,
    columns: ['ownerId', 'dealsOpened', 'dealsWon', 'dealsLost', 'winRate', 'revenueWon', 'interactions'],
    records: (j) => [...j.owners, withTotal('ownerId', j.totals)],
  },
  goals: {
    query: '',
    columns: ['goal', 'kpi', 'target', 'baseline', 'current', 'projected', 'status'],
    records: (j) => j.goals.map((g: Json) => ({ ...g, goal: g.name ?? g.id, baseline: g.baseline.value, current: g.current.value })),
  },
  activity: {
    query: period,
    columns: ['ownerId', 'interactions', 'tasksCreated', 'tasksCompleted'],
    records: (j) => [...j.owners, withTotal('ownerId', j.totals)],
  },
  'customer-value': {
    query: '',
    columns: ['name', 'revenue', 'wonDeals', 'wonRevenue', 'purchases', 'purchaseRevenue'],
    records: (j) => j.top,
  },
};
const CHART_IDS = Object.keys(EXPECTED);
const reportOf = (id: string) => (id === 'sales-cycle-stages' ? 'sales-cycle' : id);

/** How the page writes a value in a cell: as the API gave it, `–` for none. */
const cell = (value: Scalar) => (value === null || value === undefined ? '–' : String(value));

async function reportJson(id: string, query: string, role: Role = 'manager'): Promise<Json> {
  const res = await request(t.http)
    .get(`/reports/${reportOf(id)}${query ? `?${query}` : ''}`)
    .set(t.as(role));
  expect([id, res.status]).toEqual([id, 200]);
  return res.body;
}

// ---- Driving the page.

interface Session {
  context: BrowserContext;
  page: Page;
  errors: string[];
}

async function openDashboard(key: string, expectedErrors: RegExp[] = []): Promise<Session> {
  const context = await browser.createBrowserContext({ downloadBehavior: { policy: 'allow', downloadPath: dir } });
  const page = await context.newPage();
  await page.setViewport({ width: 1280, height: 900 });
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(`page error: ${String(error)}`));
  page.on('console', (message) => {
    if (message.type() === 'error' && !expectedErrors.some((e) => e.test(message.text()))) errors.push(`console: ${message.text()}`);
  });
  await page.goto(`${base}/dashboard`, { waitUntil: 'load' });
  await page.type('#key', key);
  await page.click('#key-form button[type=submit]');
  await settled(page);
  return { context, page, errors };
}

/** Waits until no chart is idle or loading. */
async function settled(page: Page, selector = '.chart'): Promise<void> {
  await page.waitForFunction(
    (s: string) => [...document.querySelectorAll<HTMLElement>(s)].every((c) => !['idle', 'loading'].includes(c.dataset.state!)),
    { timeout: 20_000 },
    selector,
  );
}

async function states(page: Page): Promise<Record<string, string>> {
  return page.$$eval('.chart', (charts) =>
    Object.fromEntries(charts.map((c) => [c.id.replace('chart-', ''), (c as HTMLElement).dataset.state!])),
  );
}

async function tableOf(page: Page, id: string): Promise<string[][]> {
  return page.$$eval(`#chart-${id} table tr`, (rows) => rows.map((r) => [...r.children].map((c) => c.textContent)));
}

/** Sets the page's range controls and applies them. */
async function applyRange(page: Page): Promise<void> {
  await page.evaluate(
    (from: string, to: string) => {
      (document.querySelector('#from') as HTMLInputElement).value = from;
      (document.querySelector('#to') as HTMLInputElement).value = to;
      (document.querySelector('#interval') as HTMLSelectElement).value = 'month';
    },
    FROM,
    END,
  );
  await page.click('#apply');
  await settled(page);
}

async function setPipelineAsOf(page: Page, asOf: string): Promise<void> {
  await page.$eval(
    '#chart-pipeline input[name=asOf]',
    (input, value) => {
      input.value = value;
      input.dispatchEvent(new Event('change'));
    },
    asOf,
  );
  await settled(page, '#chart-pipeline');
}

async function selectGroupBy(page: Page, id: string, groupBy: string): Promise<void> {
  await page.select(`#chart-${id} select[name=groupBy]`, groupBy);
  await settled(page, `#chart-${id}`);
}

/** Pixels drawn on the chart's canvas (not transparent). */
async function paintedPixels(page: Page, id: string): Promise<number> {
  return page.$eval(`#chart-${id} .plot canvas`, (canvas) => {
    const c = canvas;
    const pixels = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
    let painted = 0;
    for (let i = 3; i < pixels.length; i += 4) if (pixels[i] > 0) painted++;
    return painted;
  });
}

async function expectKeyOnlyInSessionStorage(page: Page, key: string): Promise<void> {
  const storage = await page.evaluate(() => ({
    local: JSON.stringify({ ...localStorage }),
    session: JSON.stringify({ ...sessionStorage }),
  }));
  expect(storage.local).not.toContain(key);
  expect(page.url()).not.toContain(key);
  expect(storage.session).toContain(key);
}

/** The whole page, or its first screen (`fullPage: false`: the README's image, kept small). */
const shot = (page: Page, name: string, fullPage = true) => page.screenshot({ path: join(ARTEFACTS, name), fullPage });

// ---- The tests.

describe('the dashboard with the manager key', () => {
  let s: Session;
  beforeAll(async () => {
    s = await openDashboard(t.keys.manager);
  }, 30_000);
  afterAll(() => s?.context.close());

  it('loads every chart with the reports’ defaults, then with the chosen range', async () => {
    expect(Object.values(await states(s.page))).toEqual(CHART_IDS.map(() => 'ready'));
    await applyRange(s.page);
    await setPipelineAsOf(s.page, AS_OF);
    expect(await states(s.page)).toEqual(Object.fromEntries(CHART_IDS.map((id) => [id, 'ready'])));
    await shot(s.page, 'overview-manager.png', false);
    copyFileSync(join(ARTEFACTS, 'overview-manager.png'), DOCS_IMAGE);
    expect(statSync(DOCS_IMAGE).size).toBeLessThan(300 * 1024);
  });

  it.each(CHART_IDS)('%s: a drawn chart and a table equal to the report API’s JSON', async (id) => {
    const { query, columns, records } = EXPECTED[id];
    const [header, ...rows] = await tableOf(s.page, id);
    expect(header).toEqual(columns);
    expect(rows.length).toBeGreaterThan(0);
    expect(rows).toEqual(records(await reportJson(id, query)).map((r) => columns.map((c) => cell(r[c]))));
    expect(await paintedPixels(s.page, id)).toBeGreaterThan(1000);
  });

  it('marks the stages holding stalled deals', async () => {
    const stalled = await s.page.$$eval('#chart-pipeline tr.stalled td:first-child', (tds) => tds.map((td) => td.textContent));
    const json = await reportJson('pipeline', `asOf=${AS_OF}`);
    expect(stalled).toEqual(json.stages.filter((st: Json) => st.stalled > 0).map((st: Json) => st.stage));
    expect(stalled.length).toBeGreaterThan(0);
  });

  it('the asOf picker changes the funnel to what GET /reports/pipeline?asOf= says', async () => {
    const before = await tableOf(s.page, 'pipeline');
    await setPipelineAsOf(s.page, EARLIER_AS_OF);
    const after = await tableOf(s.page, 'pipeline');
    const { columns, records } = EXPECTED.pipeline;
    expect(after.slice(1)).toEqual(
      records(await reportJson('pipeline', `asOf=${EARLIER_AS_OF}`)).map((r) => columns.map((c) => cell(r[c]))),
    );
    expect(after).not.toEqual(before);
    await (await s.page.$('#chart-pipeline'))!.screenshot({ path: join(ARTEFACTS, 'pipeline-as-of.png') });
  });

  it('the owner filter keeps that owner’s rows (and the report’s totals), without a new request', async () => {
    const owner = (await tableOf(s.page, 'sales-performance'))[1][0];
    await s.page.type('#owner', owner);
    for (const id of ['sales-performance', 'activity']) {
      const keys = (await tableOf(s.page, id)).slice(1).map((r) => r[0]);
      expect(keys).toEqual([owner, 'total']);
    }
    await s.page.$eval('#owner', (input) => {
      (input as HTMLInputElement).value = '';
      input.dispatchEvent(new Event('input'));
    });
    expect((await tableOf(s.page, 'activity')).length).toBeGreaterThan(3);
  });

  // The other side of each group-by select (conversion is grouped by default).
  const GROUPED: Array<[string, string, Expected]> = [
    [
      'churn',
      'owner',
      {
        query: `${period}&interval=month&groupBy=owner`,
        columns: ['owner', ...EXPECTED.churn.columns],
        records: (j) => j.groups.flatMap((g: Json) => g.periods.map((p: Json) => ({ owner: g.key, ...p }))),
      },
    ],
    ['sales-cycle', 'owner', { ...EXPECTED['sales-cycle'], query: `${period}&groupBy=owner` }],
    [
      'cac',
      'channel',
      {
        query: `${period}&interval=month&groupBy=channel`,
        columns: ['start', 'channel', 'spend', 'newCustomers', 'cac'],
        records: (j) => [
          ...j.periods.flatMap((p: Json) => p.byChannel.map((c: Json) => ({ start: p.start, ...c }))),
          { ...withTotal('start', j.total), channel: 'all' },
        ],
      },
    ],
    [
      'conversion',
      '',
      {
        query: `${period}&interval=month`,
        columns: ['start', ...EXPECTED.conversion.columns.slice(1)],
        records: (j) => [...j.periods, withTotal('start', j.total)],
      },
    ],
  ];
  it.each(GROUPED)('%s grouped by "%s": the table equals the report API’s JSON', async (id, groupBy, { query, columns, records }) => {
    const before = await s.page.$eval(`#chart-${id} select[name=groupBy]`, (select) => select.value);
    await selectGroupBy(s.page, id, groupBy);
    const [header, ...rows] = await tableOf(s.page, id);
    expect(header).toEqual(columns);
    expect(rows.length).toBeGreaterThan(1);
    expect(rows).toEqual(records(await reportJson(id, query)).map((r) => columns.map((c) => cell(r[c]))));
    expect(await paintedPixels(s.page, id)).toBeGreaterThan(1000);
    await selectGroupBy(s.page, id, before);
  });

  // The chart's own table: the report's default one (pipeline stages), or another one named with &table=.
  it.each([
    ['pipeline', 'pipeline.csv', `asOf=${AS_OF}`, (j: Json) => j.stages],
    ['sales-cycle-stages', 'sales-cycle-stages.csv', period, (j: Json) => j.stages],
    ['activity', 'activity-ownerTotals.csv', period, (j: Json) => j.owners],
  ])('%s: Download CSV saves %s, equal to the report’s JSON', async (id, filename, query, rowsOf) => {
    await setPipelineAsOf(s.page, AS_OF);
    const csv = await downloadCsv(s.page, id, filename);
    const json = rowsOf(await reportJson(id, query));
    expect(csv.length).toBe(json.length);
    json.forEach((row: Json, i: number) => expectSameFields(csv[i], row));
    expect(Object.keys(csv[0])).toEqual(expect.arrayContaining(EXPECTED[id].columns.filter((c) => c in json[0])));
  });

  it('keeps the key in sessionStorage only (never localStorage, never the URL); no console or page error', async () => {
    await expectKeyOnlyInSessionStorage(s.page, t.keys.manager);
    expect(s.errors).toEqual([]);
  });
});

/** Clicks the chart's Download CSV and parses the file the browser saved (or fails with the page's message). */
async function downloadCsv(page: Page, id: string, filename: string): Promise<Array<Record<string, string>>> {
  const file = join(dir, filename);
  rmSync(file, { force: true });
  await page.click(`#chart-${id} .download`);
  await page.waitForFunction(
    (selector: string) => document.querySelector<HTMLElement>(selector)!.dataset.csv !== 'pending',
    {},
    `#chart-${id}`,
  );
  const outcome = await page.$eval(`#chart-${id}`, (c) => [(c as HTMLElement).dataset.csv, c.querySelector('.download')!.textContent]);
  expect(outcome).toEqual(['saved', 'Download CSV']);
  await waitForFile(file);
  return parse(readFileSync(file, 'utf8'), { columns: true, skip_empty_lines: true });
}

/** The browser writes a download under a temporary name and renames it when complete. */
async function waitForFile(file: string, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!existsSync(file)) {
    if (Date.now() > deadline) throw new Error(`no download ${file}; folder: ${readdirSync(dir).join(', ')}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Every CSV column that is a plain field of the JSON row holds its value (empty for null). */
function expectSameFields(csvRow: Record<string, string>, json: Record<string, unknown>): void {
  for (const [column, text] of Object.entries(csvRow)) {
    const value = json[column];
    if (value === null) expect([column, text]).toEqual([column, '']);
    else if (['string', 'number', 'boolean'].includes(typeof value)) expect([column, text]).toEqual([column, String(value as Scalar)]);
  }
}

describe('the dashboard with the analyst key', () => {
  it('shows the customers’ names masked as the API gives them, never a real one', async () => {
    const s = await openDashboard(t.keys.analyst);
    try {
      await applyRange(s.page);
      expect(Object.values(await states(s.page))).toEqual(CHART_IDS.map(() => 'ready'));
      const names = (await tableOf(s.page, 'customer-value')).slice(1).map((r) => r[0]);
      expect(names.length).toBeGreaterThan(0);
      expect(names).toEqual((await reportJson('customer-value', '', 'analyst')).top.map((c: Json) => c.name));
      for (const name of names) expect(name).toMatch(/^.\*\*\*$/u);
      const text = await s.page.evaluate(() => document.body.innerText);
      const real = await customerNames();
      expect(real.length).toBeGreaterThan(10);
      expect(real.filter((name) => text.includes(name))).toEqual([]);
      await shot(s.page, 'analyst.png');
      await expectKeyOnlyInSessionStorage(s.page, t.keys.analyst);
      expect(s.errors).toEqual([]);
    } finally {
      await s.context.close();
    }
  });
});

async function customerNames(): Promise<string[]> {
  const names: string[] = [];
  for (let offset = 0; ; offset += 100) {
    const page = (await request(t.http).get(`/customers?limit=100&offset=${offset}`).set(t.as('admin')).expect(200)).body;
    names.push(...page.items.map((c: Json) => c.name as string));
    if (offset + 100 >= page.total) return names;
  }
}

describe('the dashboard with the rep key', () => {
  // The reports of one's own figures (ownerScoped); the others cover everyone's records.
  const OWN = ['sales-performance', 'goals', 'activity'];

  it("shows the rep's own figures where the reports give them, the others as not available for the role, and forgets the key on request", async () => {
    // The browser reports each refused request (403) on the console: those are the expected ones.
    const s = await openDashboard(t.keys.rep, [/status of 403/]);
    try {
      await applyRange(s.page);
      expect(await states(s.page)).toEqual(Object.fromEntries(CHART_IDS.map((id) => [id, OWN.includes(id) ? 'ready' : 'forbidden'])));
      for (const id of CHART_IDS.filter((c) => !OWN.includes(c)))
        expect(await s.page.$eval(`#chart-${id} .status`, (e) => e.textContent)).toContain('Not available for your role (rep)');
      for (const id of OWN) {
        const { query, columns, records } = EXPECTED[id];
        const json = await reportJson(id, query, 'rep');
        const rows = records(json).map((r) => columns.map((c) => cell(r[c])));
        expect([id, (await tableOf(s.page, id)).slice(1)]).toEqual([id, rows]);
        // Only the rep's own figures: one owner (and the total row), one goal.
        expect(rows.length).toBe(id === 'goals' ? 1 : 2);
      }
      expect(JSON.stringify(await reportJson('sales-performance', EXPECTED['sales-performance'].query, 'rep'))).toContain('4200');
      await shot(s.page, 'rep.png');
      await expectKeyOnlyInSessionStorage(s.page, t.keys.rep);
      await s.page.click('#forget-key');
      expect(await s.page.evaluate(() => sessionStorage.length)).toBe(0);
      expect(Object.values(await states(s.page))).toEqual(CHART_IDS.map(() => 'idle'));
      expect(await s.page.$eval('#key-form', (f) => (f as HTMLElement).hidden)).toBe(false);
      expect(s.errors).toEqual([]);
    } finally {
      await s.context.close();
    }
  });
});
