import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { StallProcessManager } from '@chronicle/commands';
import { client, expectNothingAppended } from '../support/http';
import { startTestApp, TestApp } from '../support/test-app';

// Reopening a won or lost deal (issue 16): POST /deals/:id/reopen, for managers and admins. The deal
// is open again from the reopen, and counts by its last close: the close it undoes leaves the reports
// in the period it was counted in (docs/reports.md, "Reopened deals").
let t: TestApp;
let admin: ReturnType<typeof client>;
let manager: ReturnType<typeof client>;
let rep: ReturnType<typeof client>;

async function ok(res: PromiseLike<{ status: number; body: { id: string } }>): Promise<string> {
  const r = await res;
  if (r.status >= 300) throw new Error(`fixture failed: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body.id;
}

beforeAll(async () => {
  t = await startTestApp();
  admin = client(t, 'admin');
  manager = client(t, 'manager');
  rep = client(t, 'rep');
});
afterAll(async () => {
  await t?.close();
});

interface Period {
  start: string;
  revenueWon: number;
  dealsWon: number;
  dealsLost: number;
}
interface Owner {
  ownerId: string;
  dealsWon: number;
  dealsLost: number;
  revenueWon: number;
  periods: Period[];
}

describe('POST /deals/:id/reopen', () => {
  const OWNER = 'reopen-owner';
  const performance = async () => {
    await manager.latest('/deals');
    const body = (await manager.get('/reports/sales-performance?from=2024-01-01T00:00:00Z&to=2024-05-01T00:00:00Z&interval=month'))
      .body as { owners: Owner[] };
    const owner = body.owners.find((o) => o.ownerId === OWNER);
    return (
      owner && {
        won: owner.dealsWon,
        lost: owner.dealsLost,
        revenue: owner.revenueWon,
        byMonth: owner.periods.map((p) => [p.revenueWon, p.dealsWon, p.dealsLost]),
      }
    );
  };
  const proposal = async (asOf: string) => {
    const stages = (await manager.get(`/reports/pipeline?asOf=${asOf}`)).body.stages as { stage: string; deals: number; value: number }[];
    return stages.find((s) => s.stage === 'proposal');
  };

  it('a won deal reopened leaves the month it was won in, is open in its stage from the reopen, and counts where it is won again', async () => {
    const customerId = await ok(admin.post('/customers', { name: 'Reopen', source: 'web', occurredAt: '2024-01-01T00:00:00Z' }));
    const id = await ok(
      admin.post('/deals', {
        customerId,
        title: 'Reopened',
        amount: 1000,
        stage: 'proposal',
        ownerId: OWNER,
        occurredAt: '2024-01-05T00:00:00Z',
      }),
    );
    expect((await manager.post(`/deals/${id}/win`, { occurredAt: '2024-01-31T23:59:59.999Z' })).status).toBe(200);
    expect(await performance()).toEqual({
      won: 1,
      lost: 0,
      revenue: 1000,
      byMonth: [
        [1000, 1, 0],
        [0, 0, 0],
        [0, 0, 0],
        [0, 0, 0],
      ],
    });

    // A rep may not reopen (even its own deal); an open deal cannot be reopened: nothing appended.
    const byRep = await expectNothingAppended(t, () => rep.post(`/deals/${id}/reopen`, {}));
    expect([byRep.status, byRep.body.message]).toEqual([403, 'role "rep" may not manage this route']);

    const reopened = await manager.post(`/deals/${id}/reopen`, { reason: 'signature missing', occurredAt: '2024-02-10T00:00:00Z' });
    expect([reopened.status, reopened.body]).toEqual([200, expect.objectContaining({ id, streamId: `deal-${id}` })]);
    expect((await manager.latest(`/deals/${id}`)).body).toMatchObject({
      status: 'open',
      stage: 'proposal',
      reopens: 1,
      reopenedAt: '2024-02-10T00:00:00.000Z',
    });
    // January loses the win (retroactively); the deal is in the open pipeline from the reopen, not before.
    expect(await performance()).toEqual({
      won: 0,
      lost: 0,
      revenue: 0,
      byMonth: [
        [0, 0, 0],
        [0, 0, 0],
        [0, 0, 0],
        [0, 0, 0],
      ],
    });
    expect(await proposal('2024-02-09T23:59:59.999Z')).toMatchObject({ deals: 0, value: 0 });
    expect(await proposal('2024-02-10T00:00:00.000Z')).toMatchObject({ deals: 1, value: 1000 });

    const again = await expectNothingAppended(t, () => manager.post(`/deals/${id}/reopen`, {}));
    expect([again.status, again.body.code, again.body.message]).toEqual([
      422,
      'deal-open',
      `deal-${id} is open; only a won or lost deal can be reopened`,
    ]);

    // Changed and won again in March: it counts there, once.
    expect((await manager.patch(`/deals/${id}`, { amount: 1500, occurredAt: '2024-03-01T00:00:00Z' })).status).toBe(200);
    expect((await manager.post(`/deals/${id}/win`, { occurredAt: '2024-03-02T00:00:00Z' })).status).toBe(200);
    expect(await performance()).toEqual({
      won: 1,
      lost: 0,
      revenue: 1500,
      byMonth: [
        [0, 0, 0],
        [0, 0, 0],
        [1500, 1, 0],
        [0, 0, 0],
      ],
    });
    expect(await proposal('2024-03-02T00:00:00.000Z')).toMatchObject({ deals: 0 });
  });

  it('a lost deal reopened into another stage leaves the losses; an unknown stage and an unknown deal are refused', async () => {
    const customerId = await ok(admin.post('/customers', { name: 'Reopen lost', source: 'web', occurredAt: '2024-01-01T00:00:00Z' }));
    const id = await ok(
      admin.post('/deals', {
        customerId,
        title: 'Lost',
        amount: 300,
        stage: 'qualification',
        ownerId: OWNER,
        occurredAt: '2024-04-01T00:00:00Z',
      }),
    );
    expect((await manager.post(`/deals/${id}/lose`, { reason: 'timing', occurredAt: '2024-04-02T00:00:00Z' })).status).toBe(200);
    expect((await performance())!.byMonth[3]).toEqual([0, 0, 1]);
    const badStage = await expectNothingAppended(t, () => manager.post(`/deals/${id}/reopen`, { stage: 'lost' }));
    expect([badStage.status, badStage.body.code]).toEqual([422, 'unknown-stage']);
    const badBody = await expectNothingAppended(t, () => manager.post(`/deals/${id}/reopen`, { reason: '' }));
    expect(badBody.status).toBe(400);
    expect((await manager.post('/deals/00000000-0000-4000-8000-000000000000/reopen', {})).status).toBe(404);

    expect((await admin.post(`/deals/${id}/reopen`, { stage: 'proposal', occurredAt: '2024-04-03T00:00:00Z' })).status).toBe(200);
    expect((await performance())!.byMonth[3]).toEqual([0, 0, 0]);
    expect((await manager.latest(`/deals/${id}`)).body).toMatchObject({ status: 'open', stage: 'proposal' });
    expect(await proposal('2024-04-03T00:00:00.000Z')).toMatchObject({ deals: 1, value: 300 });
  });
});

describe('the stalled-deal process manager: a reopened deal stalls from its reopen', () => {
  const DAY = 86_400_000;
  let a: TestApp;
  let dir: string;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'chronicle-e2e-reopen-'));
    const pipeline = join(dir, 'pipeline.json');
    writeFileSync(pipeline, JSON.stringify({ stages: [{ name: 'qualification', probability: 0.1, stallAfterDays: 7 }] }));
    a = await startTestApp({ dataDir: dir, env: { AUTOMATION: 'on', PIPELINE_FILE: pipeline, STALL_CHECK_SECONDS: '3600' } });
  });
  afterAll(async () => {
    await a?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('no stall task while closed; one, seven days after the reopen', async () => {
    const api = client(a, 'manager');
    const now = Date.now();
    const at = (days: number) => new Date(now - days * DAY).toISOString();
    const customerId = await ok(api.post('/customers', { name: 'Stall', source: 'web', ownerId: 'rep-1', occurredAt: at(30) }));
    const id = await ok(api.post('/deals', { customerId, title: 'Reopened', amount: 20, ownerId: 'rep-1', occurredAt: at(30) }));
    expect((await api.post(`/deals/${id}/lose`, { reason: 'price', occurredAt: at(29) })).status).toBe(200);
    const stall = a.app.get(StallProcessManager);
    await stall.caughtUp(20_000);
    expect(await stall.sweep(now)).toBe(0);

    expect((await api.post(`/deals/${id}/reopen`, { occurredAt: at(2) })).status).toBe(200);
    await stall.caughtUp(20_000);
    expect(await stall.sweep(now)).toBe(0);
    expect(await stall.sweep(now - 2 * DAY + 7 * DAY + 1)).toBe(1);
    const tasks = (await a.store.readAll({ fromPosition: 0, maxCount: 10_000 })).events.filter(
      (e) => e.type === 'TaskCreated' && (e.data as { dealId?: string }).dealId === id,
    );
    expect(tasks.map((e) => (e.data as { ownerId: string }).ownerId)).toEqual(['rep-1']);
  });
});
