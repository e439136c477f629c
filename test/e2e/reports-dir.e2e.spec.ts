import { copyFileSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { client } from '../support/http';
import { startTestApp, TestApp } from '../support/test-app';

/**
 * REPORTS_DIR: the server loads report files at start-up and builds each one's projection from the
 * whole history while everything else serves; a file that does not load, clashes or throws is
 * named with its line and the others go on.
 */

jest.setTimeout(60_000);

let t: TestApp;
let dir: string;
let manager: ReturnType<typeof client>;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'reports-dir-'));
  copyFileSync('examples/meetings-report/meetings.ts', join(dir, 'meetings.ts'));
  copyFileSync('examples/declarative-reports/calls-before-won.json', join(dir, 'calls-before-won.json'));
  writeFileSync(join(dir, 'wrong.json'), '{ "name": "wrong", "events": ["DealWon"] }');
  writeFileSync(join(dir, 'broken.js'), "exports.x = {\n  name: 'x',,\n};\n");
  writeFileSync(
    join(dir, 'clash.js'),
    [
      "const { defineProjection } = require('@chronicle/projections');",
      "exports.p = defineProjection({ name: 'churn-copy', version: 1, collections: ['c'], on: {} });",
      "exports.r = { name: 'churn', description: 'd', projections: ['churn-copy'], tables: {}, run: async () => ({}) };",
    ].join('\n'),
  );
  writeFileSync(
    join(dir, 'throwing.ts'),
    [
      "import { defineProjection } from '@chronicle/projections';",
      '',
      'export const p = defineProjection({',
      "  name: 'throws-on-deals', version: 1, collections: ['c'],",
      '  on: {',
      '    DealOpened() {',
      "      throw new Error('not today');",
      '    },',
      '  },',
      '});',
      "export const r = { name: 'throws-on-deals', description: 'd', projections: ['throws-on-deals'], tables: {}, run: async () => ({}) };",
    ].join('\n'),
  );
  writeFileSync(join(dir, 'notes.txt'), 'not a report');
  t = await startTestApp({ env: { REPORTS_DIR: dir } });
  manager = client(t, 'manager');
});
afterAll(() => t?.close());

it('serves the files that load beside the built-in reports, and names those that do not, with their line', async () => {
  const body = (await manager.get('/reports')).body as { reports: Array<{ name: string; tables: string[] }>; failed: unknown[] };
  expect(body.reports.find((r) => r.name === 'meetings')).toMatchObject({ tables: ['periods'] });
  expect(body.reports.map((r) => r.name)).toEqual(expect.arrayContaining(['churn', 'pipeline', 'throws-on-deals']));
  expect(body.failed).toEqual([
    { file: join(dir, 'broken.js'), line: 2, error: expect.stringMatching(/SyntaxError: Unexpected token/) },
    { file: join(dir, 'clash.js'), line: null, error: 'the name "churn" is taken by another projection or report' },
    { file: join(dir, 'wrong.json'), line: null, error: 'measures: must list one or more measures' },
  ]);
  // The built-in churn report is the one served.
  expect((await manager.get('/reports/churn')).body).toHaveProperty('periods');
});

it("builds a file's projection from the history, and a projection that throws stops alone, named with its line", async () => {
  const customer = (await manager.post('/customers', { name: 'Meeting Person', source: 'web' })).body.id as string;
  for (const minutes of [30, 60])
    await manager.post(`/customers/${customer}/interactions`, {
      type: 'meeting',
      direction: 'outbound',
      subject: 'Review',
      durationMinutes: minutes,
      occurredAt: '2026-02-10T10:00:00Z',
    });
  await manager.post('/deals', { customerId: customer, title: 'Licence', amount: 100 });
  const head = await t.store.headPosition();
  const meetings = await manager.get(`/reports/meetings?from=2026-01-01&to=2026-04-01&interval=month&minPosition=${head}`);
  expect(meetings.status).toBe(200);
  expect(meetings.body.periods.map((p: { meetings: number; averageMinutes: number | null }) => [p.meetings, p.averageMinutes])).toEqual([
    [0, null],
    [2, 45],
    [0, null],
  ]);
  for (;;) {
    const { projections } = (await manager.get('/projections')).body as {
      projections: Array<{ name: string; status: string; failure?: { error: string } }>;
    };
    const throwing = projections.find((p) => p.name === 'throws-on-deals')!;
    if (throwing.status === 'failed') {
      expect(JSON.stringify(throwing)).toContain(`${join(dir, 'throwing.ts')}:7: not today`);
      expect(projections.find((p) => p.name === 'meetings')!.status).toBe('live');
      expect(projections.find((p) => p.name === 'pipeline')!.status).toBe('live');
      break;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
});

it('serves a declarative report (JSON) from the folder like any other: figures, CSV and its projection', async () => {
  const customer = (await manager.post('/customers', { name: 'Caller', source: 'web' })).body.id as string;
  const deal = (
    await manager.post('/deals', { customerId: customer, title: 'Support plan', amount: 300, occurredAt: '2026-05-01T09:00:00Z' })
  ).body.id as string;
  for (const type of ['call', 'call', 'meeting'])
    await manager.post(`/customers/${customer}/interactions`, {
      type,
      direction: 'outbound',
      subject: 'Terms',
      dealId: deal,
      occurredAt: '2026-05-02T10:00:00Z',
    });
  expect((await manager.post(`/deals/${deal}/win`, { occurredAt: '2026-05-20T10:00:00Z' })).status).toBe(200);
  const head = await t.store.headPosition();
  const report = await manager.get(`/reports/calls-before-won?from=2026-05-01&to=2026-07-01&interval=month&minPosition=${head}`);
  expect(report.status).toBe(200);
  expect(report.body.rows).toEqual([
    { start: '2026-05-01T00:00:00.000Z', end: '2026-06-01T00:00:00.000Z', dealsWon: 1, averageCalls: 2, medianCalls: 2 },
    { start: '2026-06-01T00:00:00.000Z', end: '2026-07-01T00:00:00.000Z', dealsWon: 0, averageCalls: null, medianCalls: null },
  ]);
  const csv = await manager.get('/reports/calls-before-won?from=2026-05-01&to=2026-07-01&interval=month&format=csv&table=totals');
  expect(csv.text).toBe('dealsWon,averageCalls,medianCalls\r\n1,2,2\r\n');
  const { projections } = (await manager.get('/projections')).body as { projections: Array<{ name: string; status: string }> };
  expect(projections.find((p) => p.name === 'report-calls-before-won')).toMatchObject({ status: 'live' });
});

it('refuses a REPORTS_DIR that is not a folder at start-up', async () => {
  await expect(startTestApp({ env: { REPORTS_DIR: join(dir, 'nope') } })).rejects.toThrow(
    `REPORTS_DIR: ${join(dir, 'nope')} is not a folder`,
  );
});
