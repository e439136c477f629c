import { randomUUID } from 'node:crypto';
import { AcquisitionProcessManager } from '@chronicle/commands';
import { ERASED } from '@chronicle/domain';
import { appendDirectly, client, expectNothingAppended } from '../support/http';
import { startTestApp, TestApp } from '../support/test-app';

// Merging duplicate customers (issue 16, docs/merging.md): POST /customers/:id/merge and /unmerge,
// for managers and admins. The merged customer's records count for the survivor in every read
// model; its own lifecycle leaves the counts of customers; the unmerge returns every figure.
let t: TestApp;
let admin: ReturnType<typeof client>;
let manager: ReturnType<typeof client>;
let rep: ReturnType<typeof client>;

beforeAll(async () => {
  t = await startTestApp();
  admin = client(t, 'admin');
  manager = client(t, 'manager');
  rep = client(t, 'rep');
});
afterAll(async () => {
  await t?.close();
});

const ok = async (response: PromiseLike<{ status: number; body: any }>, status = 200) => {
  const r = await response;
  if (r.status !== status) throw new Error(`expected ${status}, got ${r.status}: ${JSON.stringify(r.body)}`);
  return r.body;
};
const types = async (streamId: string) => (await t.events(streamId)).map((e) => e.type);
const processManagerCaughtUp = () => t.app.get(AcquisitionProcessManager).caughtUp();
const register = async (name: string, source: string, occurredAt: string, email?: string) =>
  (await ok(admin.post('/customers', { name, source, occurredAt, ...(email ? { email } : {}) }), 201)).id as string;
const openDeal = async (customerId: string, amount: number, occurredAt: string) =>
  (await ok(admin.post('/deals', { customerId, title: 'Deal', amount, stage: 'proposal', ownerId: 'merge-owner', occurredAt }), 201))
    .id as string;

/** Every read the merge changes, as users see them (the timeline apart: it keeps the merge and the unmerge). */
const READS = (survivorId: string, mergedId: string) => [
  '/customers?limit=200',
  '/customers?status=active&limit=200',
  `/customers/${survivorId}`,
  `/customers/${mergedId}`,
  `/deals?customerId=${survivorId}&limit=200`,
  `/deals?customerId=${mergedId}&limit=200`,
  `/tasks?customerId=${survivorId}&limit=200`,
  '/reports/churn?from=2024-01-01&to=2024-07-01&interval=month',
  '/reports/churn?from=2024-01-01&to=2024-07-01&interval=month&groupBy=channel',
  '/reports/cac?from=2024-01-01&to=2024-07-01&interval=month',
  '/reports/customer-value?limit=200',
  '/customers/duplicates?limit=200',
];
async function readAll(urls: string[]): Promise<unknown[]> {
  await admin.latest('/customers');
  const bodies = [];
  for (const url of urls) {
    // `asOf` is when a report ran, not a figure.
    const { asOf: _, ...body } = (await ok(admin.get(url))) as Record<string, unknown>;
    bodies.push(body);
  }
  return bodies;
}

describe('POST /customers/:id/merge and /unmerge', () => {
  it("the merged customer's purchases, deals and tasks count for the survivor; its lifecycle leaves the counts; the unmerge returns every figure", async () => {
    const email = `ada.${randomUUID().slice(0, 8)}@example.com`;
    const survivorId = await register('Ada Lovelace', 'web', '2024-01-02T00:00:00Z', email);
    const mergedId = await register('Ada Lovelace', 'ads', '2024-01-03T00:00:00Z', email);
    await ok(admin.post(`/customers/${survivorId}/purchases`, { amount: 50, occurredAt: '2024-02-01T00:00:00Z' }), 201);
    await ok(admin.post(`/customers/${mergedId}/purchases`, { amount: 100, occurredAt: '2024-02-10T00:00:00Z' }), 201);
    const dealId = await openDeal(mergedId, 500, '2024-02-11T00:00:00Z');
    await ok(admin.post(`/deals/${dealId}/win`, { occurredAt: '2024-03-01T00:00:00Z' }));
    await ok(
      admin.post('/tasks', { subject: 'Call back', customerId: mergedId, ownerId: 'merge-owner', dueAt: '2024-03-05T00:00:00Z' }),
      201,
    );
    await ok(admin.post(`/customers/${mergedId}/churn`, { reason: 'price', occurredAt: '2024-04-01T00:00:00Z' }));

    const urls = READS(survivorId, mergedId);
    const before = await readAll(urls);
    const [list, , survivor, , , , , , , cac] = before as any[];
    expect(survivor).toMatchObject({
      status: 'active',
      totals: { revenue: 50, purchases: { count: 1, amount: 50 }, wonDeals: { count: 0, amount: 0 } },
    });

    const merged = await ok(manager.post(`/customers/${mergedId}/merge`, { intoId: survivorId, reason: 'same person' }));
    expect(merged).toMatchObject({ id: mergedId, streamId: `customer-${mergedId}` });
    expect((await types(`customer-${mergedId}`)).at(-1)).toBe('CustomerMerged');
    expect((await types(`customer-${survivorId}`)).at(-1)).toBe('CustomerMerged');

    const during = (await readAll(urls)) as any[];
    // The survivor: its own record, the merged customer's figures added.
    expect(during[2]).toMatchObject({
      status: 'active',
      totals: { revenue: 650, purchases: { count: 2, amount: 150 }, wonDeals: { count: 1, amount: 500 }, openDeals: 0 },
    });
    expect(during[2].mergedIds).toEqual([mergedId]);
    // The merged customer: a pointer.
    expect(during[3]).toEqual({ id: mergedId, mergedInto: survivorId, mergedAt: expect.any(String) });
    // Lists: one customer less; the merged one's deal and task under the survivor.
    expect(during[0].total).toBe(list.total - 1);
    expect(during[0].items.map((c: { id: string }) => c.id)).not.toContain(mergedId);
    expect(during[4].items.map((d: { id: string }) => d.id)).toContain(dealId);
    expect(during[6].items).toHaveLength((before[6] as { items: unknown[] }).items.length + 1);
    // CAC: the merged customer's acquisition (channel ads, February) no longer counts.
    const acquired = (body: any) => body.periods.find((p: { start: string }) => p.start.startsWith('2024-02')).newCustomers;
    expect(acquired(during[9])).toBe(acquired(cac) - 1);
    // Duplicates: the pair is gone.
    const pairs = (body: any) => JSON.stringify(body);
    expect(pairs(before[11])).toContain(mergedId);
    expect(pairs(during[11])).not.toContain(mergedId);
    // The survivor's timeline shows the merged customer's purchase, and the merge.
    const timeline = (await ok(admin.get(`/customers/${survivorId}/timeline?limit=100`))).items as { type: string }[];
    expect(timeline.map((e) => e.type)).toEqual(expect.arrayContaining(['CustomerMerged', 'PurchaseRecorded', 'DealWon']));

    await ok(manager.post(`/customers/${mergedId}/unmerge`, { reason: 'two people after all' }));
    expect(await readAll(urls)).toEqual(before);
    expect((await types(`customer-${survivorId}`)).at(-1)).toBe('CustomerUnmerged');
  });

  it('refuses commands on the merged customer with 409 naming the survivor, appending nothing', async () => {
    const survivorId = await register('Grace Hopper', 'web', '2024-01-02T00:00:00Z');
    const mergedId = await register('Grace B. Hopper', 'web', '2024-01-03T00:00:00Z');
    await ok(manager.post(`/customers/${mergedId}/merge`, { intoId: survivorId }));
    const leadId = (await ok(admin.post('/leads', { name: 'Grace', source: 'web' }), 201)).id as string;
    const other = await register('Grace Other', 'web', '2024-01-03T00:00:00Z');
    const refused = [
      () => admin.post(`/customers/${mergedId}/purchases`, { amount: 1 }),
      () => admin.post(`/customers/${mergedId}/interactions`, { type: 'call', direction: 'outbound', subject: 'hello' }),
      () => admin.patch(`/customers/${mergedId}`, { industry: 'navy' }),
      () => admin.post('/deals', { customerId: mergedId, title: 'New', amount: 1, stage: 'proposal' }),
      () => admin.post('/tasks', { subject: 'x', customerId: mergedId, dueAt: '2024-05-01T00:00:00Z' }),
      () => admin.post(`/leads/${leadId}/convert`, { customerId: mergedId }),
      () => manager.post(`/customers/${mergedId}/merge`, { intoId: survivorId }),
      () => manager.post(`/customers/${other}/merge`, { intoId: mergedId }),
    ];
    for (const send of refused) {
      const res = await expectNothingAppended(t, send);
      expect({ status: res.status, code: res.body.code, survivorId: res.body.survivorId }).toEqual({
        status: 409,
        code: 'merged',
        survivorId,
      });
      expect(res.body.message).toContain(`customer-${survivorId}`);
    }
  });

  it('refuses a rep (403), itself (400), an unknown survivor (422), a survivor with merged customers (422) and an unmerge of an unmerged customer (422)', async () => {
    const a = await register('A', 'web', '2024-01-02T00:00:00Z');
    const b = await register('B', 'web', '2024-01-02T00:00:00Z');
    const c = await register('C', 'web', '2024-01-02T00:00:00Z');
    const cases: [() => Promise<any>, number, string | RegExp][] = [
      [() => rep.post(`/customers/${a}/merge`, { intoId: b }), 403, /rep/],
      [() => manager.post(`/customers/${a}/merge`, { intoId: a }), 400, /itself/],
      [() => manager.post(`/customers/${a}/merge`, {}), 400, /intoId/],
      [() => manager.post(`/customers/${a}/merge`, { intoId: randomUUID() }), 422, /does not exist/],
      [() => manager.post(`/customers/${a}/unmerge`, {}), 422, /not merged/],
    ];
    for (const [send, status, message] of cases) {
      const res = await expectNothingAppended(t, send);
      expect(res.status).toBe(status);
      expect(JSON.stringify(res.body.message)).toMatch(message);
    }
    await ok(manager.post(`/customers/${b}/merge`, { intoId: a }));
    const res = await expectNothingAppended(t, () => manager.post(`/customers/${a}/merge`, { intoId: c }));
    expect([res.status, res.body.code]).toEqual([422, 'has-merged-customers']);
  });

  it('a deal of the merged customer won while merged acquires the survivor', async () => {
    const survivorId = await register('Prospect', 'web', '2024-01-02T00:00:00Z');
    const mergedId = await register('Prospect dup', 'web', '2024-01-02T00:00:00Z');
    const dealId = await openDeal(mergedId, 700, '2024-01-05T00:00:00Z');
    await ok(manager.post(`/customers/${mergedId}/merge`, { intoId: survivorId }));
    await ok(admin.post(`/deals/${dealId}/win`, { occurredAt: '2024-02-01T00:00:00Z' }));
    expect(await types(`customer-${survivorId}`)).toContain('CustomerAcquired');
    expect(await types(`customer-${mergedId}`)).not.toContain('CustomerAcquired');
    expect(await ok(admin.latest(`/customers/${survivorId}`))).toMatchObject({
      status: 'active',
      totals: { wonDeals: { count: 1, amount: 700 }, revenue: 700 },
    });
  });

  it('erasing the survivor erases the merged customer too', async () => {
    const email = `erase.${randomUUID().slice(0, 8)}@example.com`;
    const survivorId = await register('Erased Person', 'web', '2024-01-02T00:00:00Z', email);
    const mergedId = await register('Erased Person', 'web', '2024-01-02T00:00:00Z', `other.${email}`);
    await ok(manager.post(`/customers/${mergedId}/merge`, { intoId: survivorId }));
    await ok(manager.delete(`/customers/${survivorId}/personal-data`));
    expect(await types(`customer-${mergedId}`)).toContain('CustomerPersonalDataErased');
    expect((await client(t, 'service').get(`/personal-data/keys/customer-${mergedId}`)).status).toBe(410);
    expect(JSON.stringify(await t.events(`customer-${mergedId}`))).not.toContain(email);
    // Unmerged later, it stays erased.
    await ok(manager.post(`/customers/${mergedId}/unmerge`, {}));
    expect(await ok(admin.latest(`/customers/${mergedId}`))).toMatchObject({ name: ERASED, email: ERASED });
  });

  it("a merge whose survivor's side was never written (a crash in between) is recorded by the process manager, once", async () => {
    const survivorId = await register('Crash', 'web', '2024-01-02T00:00:00Z');
    const mergedId = await register('Crash dup', 'web', '2024-01-02T00:00:00Z');
    await appendDirectly(t, `customer-${mergedId}`, 'CustomerMerged', { customerId: mergedId, mergedId, survivorId });
    await processManagerCaughtUp();
    expect(await types(`customer-${survivorId}`)).toEqual(['CustomerRegistered', 'CustomerMerged']);
    expect(await ok(admin.latest(`/customers/${survivorId}`))).toMatchObject({ mergedIds: [mergedId] });
    // The unmerge's side is recorded inline; the process manager repeating either appends nothing.
    await ok(manager.post(`/customers/${mergedId}/unmerge`, {}));
    await processManagerCaughtUp();
    expect(await types(`customer-${survivorId}`)).toEqual(['CustomerRegistered', 'CustomerMerged', 'CustomerUnmerged']);
  });

  it('a merge into a survivor merged elsewhere meanwhile (two merges racing) is undone', async () => {
    const a = await register('Race A', 'web', '2024-01-02T00:00:00Z');
    const b = await register('Race B', 'web', '2024-01-02T00:00:00Z');
    const c = await register('Race C', 'web', '2024-01-02T00:00:00Z');
    await ok(manager.post(`/customers/${a}/merge`, { intoId: c }));
    // b's merge into a, decided before a's merge into c was seen.
    await appendDirectly(t, `customer-${b}`, 'CustomerMerged', { customerId: b, mergedId: b, survivorId: a });
    await processManagerCaughtUp();
    expect(await types(`customer-${b}`)).toEqual(['CustomerRegistered', 'CustomerMerged', 'CustomerUnmerged']);
    expect((await t.events(`customer-${b}`)).at(-1)?.data).toMatchObject({ reason: 'survivor-merged' });
    expect(await types(`customer-${a}`)).toEqual(['CustomerRegistered', 'CustomerMerged']);
    expect(await ok(admin.latest(`/customers/${b}`))).toMatchObject({ id: b, name: 'Race B' });
  });
});
