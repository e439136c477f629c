import fc from 'fast-check';
import { createHash } from 'node:crypto';
import { READ_STORE } from '@chronicle/infrastructure';
import type { ReadStore } from '@chronicle/read-store';
import { generateHistory } from '../../apps/cli/src/seed/generator';
import { appendHistory } from '../../apps/cli/src/seed/seed';
import { REPORT_RUNS_COLLECTION, ReportRunDocument } from '../../apps/api/src/report-runs/report-runs';
import { client } from '../support/http';
import { startTestApp, TestApp } from '../support/test-app';

/**
 * POST /report-runs: a report computed by a replay of the events recorded up to `knownAt` (not
 * from the live read models), kept immutably with its position and a hash of its figures; the
 * same request later gives the same figures, backdated events notwithstanding.
 */

jest.setTimeout(120_000);

let t: TestApp;
let manager: ReturnType<typeof client>;

const churnParams = { from: '2026-01-01T00:00:00.000Z', to: '2026-12-01T00:00:00.000Z', interval: 'quarter' };
const churnQuery = 'from=2026-01-01T00:00:00.000Z&to=2026-12-01T00:00:00.000Z&interval=quarter';

beforeAll(async () => {
  // No process managers: nothing is appended behind the test's back, so the positions and figures compared are the test's own.
  t = await startTestApp({ processManagers: false });
  manager = client(t, 'manager');
  await appendHistory(t.store, generateHistory({ events: 2_500, seed: 21, years: 1, end: new Date('2026-12-01T00:00:00Z') }));
  await waitForReadModels();
}, 60_000);
afterAll(() => t?.close());

async function waitForReadModels(): Promise<void> {
  for (;;) {
    const { projections } = (await manager.get('/projections')).body as { projections: Array<{ lag: number; status: string }> };
    if (projections.every((p) => p.lag === 0 && p.status === 'live')) return;
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Asks for a run and follows it to its end. */
async function run(body: object, as = manager): Promise<ReportRunDocument> {
  const created = await as.post('/report-runs', body);
  expect([created.status, created.body.status]).toEqual([202, 'queued']);
  for (const started = Date.now(); Date.now() - started < 60_000;) {
    const current = (await as.get(`/report-runs/${created.body._id}`)).body as ReportRunDocument;
    if (current.status !== 'queued' && current.status !== 'running') return current;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`report run ${created.body._id} did not end`);
}

it('computes the figures the live report serves, with the position and a hash of them', async () => {
  const head = await t.store.headPosition();
  const done = await run({ report: 'churn', params: churnParams });
  expect(done).toMatchObject({
    status: 'done',
    report: 'churn',
    position: head,
    progress: { position: head, head },
    requestedBy: t.actors.manager,
  });
  expect(done.params).toMatchObject({ ...churnParams, interval: 'quarter' });
  expect(done.result).toEqual((await manager.get(`/reports/churn?${churnQuery}`)).body);
  expect(done.resultHash).toBe(`sha256:${createHash('sha256').update(JSON.stringify(done.result)).digest('hex')}`);
  const quarters = (done.result as { periods: Array<{ newCustomers: number }> }).periods;
  expect(quarters.reduce((n, p) => n + p.newCustomers, 0)).toBeGreaterThan(5);
});

it('the same request with the same knownAt gives the same figures after backdated events arrive; a new one counts them', async () => {
  const knownAt = new Date().toISOString();
  const first = await run({ report: 'churn', params: churnParams, knownAt });
  await new Promise((r) => setTimeout(r, 5));
  // A customer acquired in March, recorded now: a backdated import.
  const customer = (await manager.post('/customers', { name: 'Backdated Buyer', source: 'web', occurredAt: '2026-03-01T09:00:00Z' })).body
    .id as string;
  expect((await manager.post(`/customers/${customer}/purchases`, { amount: 99, occurredAt: '2026-03-02T09:00:00Z' })).status).toBe(201);
  const again = await run({ report: 'churn', params: churnParams, knownAt });
  expect(again._id).not.toBe(first._id);
  expect([again.result, again.resultHash, again.position]).toEqual([first.result, first.resultHash, first.position]);
  const now = await run({ report: 'churn', params: churnParams });
  const newIn = (r: ReportRunDocument) => (r.result as { periods: Array<{ newCustomers: number }> }).periods[0].newCustomers;
  expect(newIn(now)).toBe(newIn(first) + 1);
  expect(now.resultHash).not.toBe(first.resultHash);
  expect(now.position).toBeGreaterThan(first.position!);
  // The first run is stored as it was: nothing rewrote it.
  expect((await manager.get(`/report-runs/${first._id}`)).body).toEqual(first);
});

it("answers CSV of a finished run, as the report's CSV", async () => {
  await waitForReadModels();
  const done = await run({ report: 'churn', params: churnParams });
  const csv = await manager.get(`/report-runs/${done._id}?format=csv`);
  expect([csv.status, csv.headers['content-type']]).toEqual([200, 'text/csv; charset=utf-8']);
  expect(csv.text).toBe((await manager.get(`/reports/churn?${churnQuery}&format=csv`)).text);
  const groups = await manager.get(`/report-runs/${done._id}?format=csv&table=nope`);
  expect([groups.status, groups.body.message]).toEqual([400, expect.stringContaining('table: ')]);
});

it('keeps results masked as an analyst sees them: a run holds no personal data', async () => {
  await waitForReadModels();
  const done = await run({ report: 'customer-value', params: { limit: 5 } }, client(t, 'analyst'));
  const analystView = (await client(t, 'analyst').get('/reports/customer-value?limit=5')).body as { top: Array<{ name: string }> };
  const top = (done.result as { top: Array<{ name: string }> }).top;
  expect(top.length).toBeGreaterThan(0);
  expect(top.map((c) => c.name)).toEqual(analystView.top.map((c) => c.name));
  expect(top.every((c) => /^.\*\*\*$/u.test(c.name))).toBe(true);
});

it('names what is wrong in a 400, refuses the roles without reports, and lists runs newest first without results', async () => {
  const bad = async (body: object) => {
    const res = await manager.post('/report-runs', body);
    return [res.status, res.body.message as unknown];
  };
  expect(await bad({ report: 'nope' })).toEqual([400, expect.stringMatching(/^report: no report "nope"; reports: .*churn/)]);
  expect(await bad({ report: 'churn', knownAt: '2999-01-01T00:00:00Z' })).toEqual([
    400,
    'knownAt: 2999-01-01T00:00:00.000Z is in the future; the events known then are not known yet',
  ]);
  expect((await bad({ report: 'churn', params: { interval: 'fortnight' } }))[0]).toBe(400);
  expect((await bad({ report: 'churn', params: { groupBy: 'planet' } }))[0]).toBe(400);
  expect((await client(t, 'rep').post('/report-runs', { report: 'churn' })).status).toBe(403);
  expect((await manager.get('/report-runs/00000000-0000-4000-8000-000000000000')).status).toBe(404);
  const list = (await manager.get('/report-runs')).body.items as ReportRunDocument[];
  expect(list.length).toBeGreaterThanOrEqual(5);
  expect(list.map((r) => r.requestedAt)).toEqual([...list.map((r) => r.requestedAt)].sort().reverse());
  expect(list.every((r) => !('result' in r))).toBe(true);
});

it('random bodies: a 202 or a 400 (or the 503 of a full queue), never a 500', async () => {
  const value = fc.oneof(
    fc.string(),
    fc.integer(),
    fc.boolean(),
    fc.constant(null),
    fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
  );
  const body = fc.record(
    {
      report: fc.oneof(fc.constantFrom('churn', 'pipeline', 'customer-value', 'goals'), value),
      params: fc.oneof(
        value,
        fc.record(
          {
            from: value,
            to: value,
            interval: fc.oneof(fc.constantFrom('day', 'month', 'year'), value),
            groupBy: value,
            asOf: value,
            limit: value,
          },
          { requiredKeys: [] },
        ),
      ),
      knownAt: value,
      extra: value,
    },
    { requiredKeys: [] },
  );
  await fc.assert(
    fc.asyncProperty(body, async (b) => {
      const res = await manager.post('/report-runs', b);
      // (A 503 is the documented answer when 20 runs already wait in this process.)
      if (res.status === 503) expect(res.body.message).toBe('at most 20 runs wait per server; retry when one has finished');
      else expect([202, 400]).toContain(res.status);
    }),
    { numRuns: 60 },
  );
});

it('a run left queued or running by a server that stopped shows as interrupted', async () => {
  const readStore = t.app.get<ReadStore>(READ_STORE);
  const stale = new Date(Date.now() - 60_000).toISOString();
  await readStore.collection<ReportRunDocument>(REPORT_RUNS_COLLECTION).upsert({
    _id: 'c0ffee00-0000-4000-8000-000000000001',
    report: 'churn',
    params: { ...churnParams, interval: 'quarter', asOf: stale, limit: 10 },
    knownAt: stale,
    requestedAt: stale,
    requestedBy: 'someone',
    status: 'running',
    progress: { position: 10, head: 100 },
    heartbeatAt: stale,
  });
  const res = await manager.get('/report-runs/c0ffee00-0000-4000-8000-000000000001');
  expect(res.body).toMatchObject({ status: 'interrupted', error: 'the server computing it stopped; ask for it again' });
  expect((await manager.get('/report-runs/c0ffee00-0000-4000-8000-000000000001?format=csv')).status).toBe(409);
});
