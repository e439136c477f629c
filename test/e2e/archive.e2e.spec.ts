import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { StallProcessManager } from '@chronicle/commands';
import { client, expectNothingAppended } from '../support/http';
import { startTestApp, TestApp } from '../support/test-app';

// Archive and restore (issue 16): POST /customers|leads|deals/:id/archive and /restore, for managers
// and admins. An archived record leaves its list (unless ?archived=true) and the open pipeline, still
// answers GET /<kind>/:id, and refuses every command but its restore (and erasure) with nothing appended.
let t: TestApp;
let admin: ReturnType<typeof client>;
let manager: ReturnType<typeof client>;
let rep: ReturnType<typeof client>;

async function ok(res: PromiseLike<{ status: number; body: { id: string } }>): Promise<string> {
  const r = await res;
  if (r.status >= 300) throw new Error(`fixture failed: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body.id;
}

const ARCHIVED_AT = '2024-03-01T00:00:00.000Z';
const RESTORED_AT = '2024-03-11T00:00:00.000Z';

beforeAll(async () => {
  t = await startTestApp();
  admin = client(t, 'admin');
  manager = client(t, 'manager');
  rep = client(t, 'rep');
});
afterAll(async () => {
  await t?.close();
});

describe('archive and restore', () => {
  it('customers: archived leaves the list, stays readable, refuses commands; restored comes back', async () => {
    const kept = await ok(admin.post('/customers', { name: 'Kept', source: 'web', region: 'arch-1', occurredAt: '2024-01-01T00:00:00Z' }));
    const id = await ok(
      admin.post('/customers', { name: 'Archived', source: 'web', region: 'arch-1', occurredAt: '2024-01-01T00:00:00Z' }),
    );

    const archived = await manager.post(`/customers/${id}/archive`, { reason: 'duplicate', occurredAt: ARCHIVED_AT });
    expect(archived.status).toBe(200);
    expect(archived.body).toMatchObject({ id, streamId: `customer-${id}` });

    const list = (await manager.latest('/customers?region=arch-1')).body;
    expect([list.items.map((c: { id: string }) => c.id), list.total]).toEqual([[kept], 1]);
    const archivedList = (await manager.latest('/customers?region=arch-1&archived=true')).body;
    expect([archivedList.items.map((c: { id: string }) => c.id), archivedList.total]).toEqual([[id], 1]);
    expect((await manager.latest(`/customers/${id}`)).body).toMatchObject({ id, archived: true, archivedAt: ARCHIVED_AT });
    expect((await manager.latest('/customers?archived=maybe')).status).toBe(400);

    // Refused, nothing appended: a second archive, any other command, a deal-less conversion into it.
    const again = await expectNothingAppended(t, () => manager.post(`/customers/${id}/archive`, {}));
    expect([again.status, again.body.code]).toEqual([422, 'already-archived']);
    const update = await expectNothingAppended(t, () => manager.patch(`/customers/${id}`, { company: 'X' }));
    expect([update.status, update.body.code, update.body.message]).toEqual([
      422,
      'archived',
      `customer-${id} is archived; restore it first`,
    ]);
    const purchase = await expectNothingAppended(t, () => manager.post(`/customers/${id}/purchases`, { amount: 5 }));
    expect(purchase.status).toBe(422);
    const leadId = await ok(admin.post('/leads', { name: 'Into archived', source: 'web' }));
    const convert = await expectNothingAppended(t, () => manager.post(`/leads/${leadId}/convert`, { customerId: id }));
    expect([convert.status, convert.body.code, convert.body.message]).toEqual([
      422,
      'archived',
      `customerId: customer-${id} is archived; restore it first`,
    ]);

    const restored = await manager.post(`/customers/${id}/restore`, { occurredAt: RESTORED_AT });
    expect(restored.status).toBe(200);
    const notArchived = await expectNothingAppended(t, () => manager.post(`/customers/${id}/restore`, {}));
    expect([notArchived.status, notArchived.body.code]).toEqual([422, 'not-archived']);
    expect((await manager.latest('/customers?region=arch-1')).body.total).toBe(2);
    expect((await manager.latest(`/customers/${id}`)).body).toMatchObject({ archived: false, archivedAt: null });
    expect((await manager.patch(`/customers/${id}`, { company: 'X' })).status).toBe(200);

    const timeline = (await manager.latest(`/customers/${id}/timeline`)).body.items.map((e: { kind: string; type: string }) => [
      e.kind,
      e.type,
    ]);
    expect(timeline).toEqual(
      expect.arrayContaining([
        ['lifecycle', 'CustomerArchived'],
        ['lifecycle', 'CustomerRestored'],
      ]),
    );
  });

  it('deals: an archived open deal leaves the list and the pipeline from the archive on, and counts again from the restore', async () => {
    const customerId = await ok(admin.post('/customers', { name: 'Pipeline', source: 'web', occurredAt: '2024-01-01T00:00:00Z' }));
    const stage = 'negotiation';
    const id = await ok(
      admin.post('/deals', {
        customerId,
        title: 'Archived deal',
        amount: 1234,
        stage,
        ownerId: 'arch-owner',
        occurredAt: '2024-01-02T00:00:00Z',
      }),
    );
    const pipeline = async (asOf: string) => {
      await manager.latest('/deals');
      const stages = (await manager.get(`/reports/pipeline?asOf=${asOf}`)).body.stages as { stage: string; deals: number; value: number }[];
      return stages.find((s) => s.stage === stage);
    };
    const before = await pipeline('2024-02-29T23:59:59.999Z');

    expect((await admin.post(`/deals/${id}/archive`, { occurredAt: ARCHIVED_AT })).status).toBe(200);
    expect((await manager.latest('/deals?ownerId=arch-owner')).body.total).toBe(0);
    expect((await manager.latest('/deals?ownerId=arch-owner&archived=true')).body.items.map((d: { id: string }) => d.id)).toEqual([id]);
    expect((await manager.latest(`/deals/${id}`)).body).toMatchObject({ status: 'open', archived: true, archivedAt: ARCHIVED_AT });
    // As of a millisecond before the archive: unchanged; from the archive: 1234 less, one deal fewer.
    expect(await pipeline('2024-02-29T23:59:59.999Z')).toEqual(before);
    expect(await pipeline(ARCHIVED_AT)).toMatchObject({ deals: before!.deals - 1, value: before!.value - 1234 });

    const win = await expectNothingAppended(t, () => manager.post(`/deals/${id}/win`, {}));
    expect([win.status, win.body.message]).toEqual([422, `deal-${id} is archived; restore it first`]);
    const stageChange = await expectNothingAppended(t, () => manager.post(`/deals/${id}/stage`, { stage: 'proposal' }));
    expect(stageChange.status).toBe(422);

    expect((await admin.post(`/deals/${id}/restore`, { occurredAt: RESTORED_AT })).status).toBe(200);
    expect(await pipeline('2024-03-10T23:59:59.999Z')).toMatchObject({ deals: before!.deals - 1 });
    expect(await pipeline(RESTORED_AT)).toMatchObject({ deals: before!.deals, value: before!.value });
    expect((await manager.latest('/deals?ownerId=arch-owner')).body.total).toBe(1);
  });

  it('leads: archived leaves the list and refuses commands but the erasure', async () => {
    const id = await ok(admin.post('/leads', { name: 'Archived lead', source: 'arch-source' }));
    expect((await manager.post(`/leads/${id}/archive`, { reason: 'spam' })).status).toBe(200);
    expect((await manager.latest('/leads?source=arch-source')).body.total).toBe(0);
    expect((await manager.latest('/leads?source=arch-source&archived=true')).body.total).toBe(1);
    expect((await manager.latest(`/leads/${id}`)).body).toMatchObject({ archived: true });
    const qualify = await expectNothingAppended(t, () => manager.post(`/leads/${id}/qualify`, {}));
    expect([qualify.status, qualify.body.message]).toEqual([422, `lead-${id} is archived; restore it first`]);
    // Erasure always works, archived or not.
    expect((await admin.delete(`/leads/${id}/personal-data`)).status).toBe(200);
    expect((await manager.post(`/leads/${id}/restore`, {})).status).toBe(200);
    expect((await manager.latest('/leads?source=arch-source')).body.total).toBe(1);
  });

  it('access: managers and admins only; a rep is refused even on its own records, with nothing appended', async () => {
    const me = t.actors.rep;
    const customerId = await ok(rep.post('/customers', { name: 'Rep own', source: 'web' }));
    const dealId = await ok(rep.post('/deals', { customerId, title: 'Rep deal', amount: 10 }));
    const leadId = await ok(rep.post('/leads', { name: 'Rep lead', source: 'web' }));
    for (const path of [`/customers/${customerId}`, `/deals/${dealId}`, `/leads/${leadId}`]) {
      for (const action of ['archive', 'restore']) {
        const res = await expectNothingAppended(t, () => rep.post(`${path}/${action}`, {}));
        expect([path, action, res.status]).toEqual([path, action, 403]);
      }
    }
    expect((await rep.latest(`/customers/${customerId}`)).body.ownerId).toBe(me);
    // Body validation: a reason must be a non-empty string.
    const invalid = await expectNothingAppended(t, () => manager.post(`/customers/${customerId}/archive`, { reason: '' }));
    expect(invalid.status).toBe(400);
    // An unknown record: 404.
    expect((await manager.post('/deals/00000000-0000-4000-8000-000000000000/archive', {})).status).toBe(404);
  });
});

describe('the stalled-deal process manager ignores archived deals', () => {
  const DAY = 86_400_000;
  let a: TestApp;
  let dir: string;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'chronicle-e2e-archive-'));
    const pipeline = join(dir, 'pipeline.json');
    writeFileSync(pipeline, JSON.stringify({ stages: [{ name: 'qualification', probability: 0.1, stallAfterDays: 7 }] }));
    a = await startTestApp({ dataDir: dir, env: { AUTOMATION: 'on', PIPELINE_FILE: pipeline, STALL_CHECK_SECONDS: '3600' } });
  });
  afterAll(async () => {
    await a?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('no stall task for an archived open deal; a restored one is in its stage again from the restore', async () => {
    const api = client(a, 'manager');
    const now = Date.now();
    const tenDaysAgo = new Date(now - 10 * DAY).toISOString();
    const customerId = await ok(api.post('/customers', { name: 'Stall', source: 'web', ownerId: 'rep-1', occurredAt: tenDaysAgo }));
    const open = () => ok(api.post('/deals', { customerId, title: 'Stale', amount: 20, ownerId: 'rep-1', occurredAt: tenDaysAgo }));
    const kept = await open();
    const archived = await open();
    expect((await api.post(`/deals/${archived}/archive`, { occurredAt: new Date(now - 9 * DAY).toISOString() })).status).toBe(200);
    const stall = a.app.get(StallProcessManager);
    await stall.caughtUp(20_000);
    const stalledDeals = async () =>
      (await a.store.readAll({ fromPosition: 0, maxCount: 10_000 })).events
        .filter((e) => e.type === 'TaskCreated' && String((e.data as { reason?: string }).reason).startsWith('stalled'))
        .map((e) => (e.data as { dealId: string }).dealId);
    expect(await stall.sweep(now)).toBe(1);
    expect(await stalledDeals()).toEqual([kept]);

    // Restored now: a new stay in qualification from the restore, stalled 7 days later (not at exactly 7).
    expect((await api.post(`/deals/${archived}/restore`, {})).status).toBe(200);
    await stall.caughtUp(20_000);
    const restoredAt = Date.parse((await api.latest(`/deals/${archived}`)).body.updatedAt);
    expect(await stall.sweep(restoredAt + 7 * DAY)).toBe(0);
    expect(await stall.sweep(restoredAt + 7 * DAY + 1)).toBe(1);
    expect((await stalledDeals()).sort()).toEqual([kept, archived].sort());
  });
});
