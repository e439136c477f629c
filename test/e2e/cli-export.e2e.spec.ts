import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { generateHistory } from '../../apps/cli/src/seed/generator';
import { appendHistory } from '../../apps/cli/src/seed/seed';
import { repositoryRoot as root } from '../support/api-process';
import { runChronicle } from '../support/cli';
import { client } from '../support/http';
import { startTestApp, TestApp } from '../support/test-app';

/**
 * `chronicle export --report <name>`: the report the API serves, computed by the command line from
 * the same read models with the same parameters, as JSON or CSV byte for byte.
 */

jest.setTimeout(120_000);

let t: TestApp;
let head: number;

const cli = (...args: string[]) => runChronicle(['export', ...args], { DATA_DIR: t.dataDir, LOG_LEVEL: 'silent' });

beforeAll(async () => {
  t = await startTestApp();
  await appendHistory(t.store, generateHistory({ events: 2_000, seed: 11, years: 1, end: new Date('2026-12-01T00:00:00Z') }));
  head = await t.store.headPosition();
  // The read models have caught up with the history before the command line reads them.
  expect((await client(t).get(`/reports/pipeline?minPosition=${head}`)).status).toBe(200);
}, 60_000);
afterAll(() => t?.close());

it('writes the CSV the API answers, and the JSON, for the same parameters', async () => {
  const admin = client(t, 'admin');
  const asOf = '2026-10-01T00:00:00.000Z';
  const [csv, json, churn] = await Promise.all([
    cli('--report', 'pipeline', '--as-of', asOf, '--format', 'csv'),
    cli(
      '--report',
      'churn',
      '--from',
      '2026-01-01',
      '--to',
      '2026-12-01',
      '--interval',
      'quarter',
      '--group-by',
      'region',
      '--format',
      'json',
    ),
    cli(
      '--report',
      'churn',
      '--from',
      '2026-01-01',
      '--to',
      '2026-12-01',
      '--interval',
      'quarter',
      '--group-by',
      'region',
      '--format',
      'csv',
      '--table',
      'groups',
    ),
  ]);
  expect([csv.code, csv.stderr]).toEqual([0, '']);
  expect(csv.stdout).toBe((await admin.get(`/reports/pipeline?asOf=${asOf}&format=csv`)).text);
  expect(csv.stdout.split('\r\n')[0]).toBe('stage,deals,value,weightedValue,avgAgeDays');
  const query = 'from=2026-01-01&to=2026-12-01&interval=quarter&groupBy=region';
  expect(JSON.parse(json.stdout)).toEqual((await admin.get(`/reports/churn?${query}`)).body);
  expect(churn.stdout).toBe((await admin.get(`/reports/churn?${query}&format=csv&table=groups`)).text);
  expect(churn.stdout.split('\r\n').length).toBeGreaterThan(8);
});

it('--masked writes the names an analyst sees', async () => {
  const masked = await cli('--report', 'customer-value', '--limit', '5', '--masked', '--format', 'csv');
  const analyst = await client(t, 'analyst').get('/reports/customer-value?limit=5&format=csv');
  expect(masked.code).toBe(0);
  expect(masked.stdout).toBe(analyst.text);
  const clear = await cli('--report', 'customer-value', '--limit', '5', '--format', 'json');
  const names = (JSON.parse(clear.stdout) as { top: { name: string }[] }).top.map((c) => c.name);
  expect(names).toHaveLength(5);
  for (const name of names) expect(masked.stdout).not.toContain(name);
});

it('a wrong report, parameter or table exits 2 naming it; the feed export is unchanged', async () => {
  const [report, interval, table, order, feed] = await Promise.all([
    cli('--report', 'nope'),
    cli('--report', 'churn', '--interval', 'fortnight'),
    cli('--report', 'pipeline', '--format', 'csv', '--table', 'owners'),
    cli('--report', 'churn', '--from', '2026-02-01', '--to', '2026-01-01'),
    cli('--category', 'deal'),
  ]);
  expect([report.code, report.stderr]).toEqual([2, expect.stringContaining('no report "nope"; reports: pipeline, churn,')]);
  expect([interval.code, interval.stderr]).toEqual([2, 'chronicle export: --interval: must be one of day, week, month, quarter, year\n']);
  expect([table.code, table.stderr]).toEqual([
    2,
    'chronicle export: --table: "owners" is not a table of pipeline; tables: stages, totals\n',
  ]);
  expect([order.code, order.stderr]).toEqual([2, 'chronicle export: --from: must be before to\n']);
  const lines = feed.stdout
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as { streamId: string });
  expect(feed.code).toBe(0);
  expect(lines.length).toBeGreaterThan(10);
  expect(lines.every((e) => e.streamId.startsWith('deal-'))).toBe(true);
});

it("runs the README's `export --report` line as written and writes the API's CSV", async () => {
  const readme = readFileSync(join(root, 'README.md'), 'utf8');
  const line = readme.split('\n').find((l) => l.startsWith('npm run chronicle -- export --report'));
  expect(line).toBeDefined();
  const args = line!.replace(/#.*$/, '').trim().split(/\s+/).slice(5); // after `npm run chronicle -- export`
  const run = await cli(...args);
  expect([run.code, run.stderr]).toEqual([0, '']);
  const query = new URLSearchParams();
  for (let i = 2; i < args.length; i += 2)
    if (args[i] !== '--format')
      query.set(
        args[i].slice(2).replace(/-(\w)/g, (_, c: string) => c.toUpperCase()),
        args[i + 1],
      );
  expect(run.stdout).toBe((await client(t).get(`/reports/${args[1]}?${query.toString()}&format=csv`)).text);
  expect(run.stdout.split('\r\n')[0]).toBe(
    'start,end,customersAtStart,newCustomers,reactivated,churned,customersAtEnd,churnRate,retained,retentionRate',
  );
});
