import { parse } from 'csv-parse/sync';
import { randomUUID } from 'node:crypto';
import { client, expectNothingAppended } from '../support/http';
import { startTestApp, TestApp } from '../support/test-app';

// GET /campaigns (the campaigns read model: list, paging, CSV) and GET /reports/campaigns through
// the API, commands in, figures out — including that its spend adds up with the cac report's.
let t: TestApp;
let admin: ReturnType<typeof client>;
const ids: Record<string, string> = {};
const MARCH = 'from=2021-03-01&to=2021-04-01';
const parseCsv = (text: string): Record<string, string>[] => parse(text, { columns: true });

async function created(res: { status: number; body: { id: string } }): Promise<string> {
  expect([res.status, res.body]).toEqual([201, expect.objectContaining({ id: expect.any(String) })]);
  return res.body.id;
}
/** A command that succeeded (the body shows in the failure message otherwise). */
function ok(res: { status: number; body: unknown }): void {
  expect({ success: res.status < 300, body: res.body }).toEqual({ success: true, body: expect.anything() });
}

beforeAll(async () => {
  t = await startTestApp();
  admin = client(t, 'admin');
  const campaign = (name: string, channel: string, occurredAt: string, budget?: number) =>
    admin.post('/campaigns', { name, channel, occurredAt, ...(budget === undefined ? {} : { budget }) }).then(created);
  const lead = (campaignId: string, occurredAt: string) =>
    admin.post('/leads', { name: 'Lead', source: 'web', campaignId, occurredAt }).then(created);
  const spend = (amount: number, occurredAt: string, target: { campaignId?: string; channel?: string }) =>
    admin.post('/spend', { amount, category: 'marketing', occurredAt, ...target }).then(created);

  // An existing customer, acquired before any campaign lead converts into it
  ids.existing = await created(await admin.post('/customers', { name: 'Existing', source: 'web', occurredAt: '2021-02-01T00:00:00Z' }));
  ok(await admin.post(`/customers/${ids.existing}/purchases`, { amount: 100, occurredAt: '2021-02-02T00:00:00Z' }));

  ids.alpha = await campaign('Alpha', 'web', '2021-03-01T00:00:00Z', 500);
  ids.beta = await campaign('beta', 'ads', '2021-03-05T00:00:00Z');
  ids.gamma = await campaign('Gamma', 'web', '2021-03-10T00:00:00Z');

  // Alpha: a lead that becomes a new customer who buys, and one that does not convert
  ids.lead1 = await lead(ids.alpha, '2021-03-02T00:00:00Z');
  ids.customer1 = randomUUID();
  ok(await admin.post(`/leads/${ids.lead1}/convert`, { customerId: ids.customer1, occurredAt: '2021-03-03T00:00:00Z' }));
  ok(await admin.post(`/customers/${ids.customer1}/purchases`, { amount: 400, occurredAt: '2021-03-04T00:00:00Z' }));
  ids.lead2 = await lead(ids.alpha, '2021-03-06T00:00:00Z');
  // beta: a lead converted into the existing customer: converted, but no new customer
  ids.lead3 = await lead(ids.beta, '2021-03-07T00:00:00Z');
  ok(await admin.post(`/leads/${ids.lead3}/convert`, { customerId: ids.existing, occurredAt: '2021-03-07T12:00:00Z' }));

  await spend(200, '2021-03-02T00:00:00Z', { campaignId: ids.alpha });
  await spend(50, '2021-03-07T00:00:00Z', { campaignId: ids.beta });
  await spend(30, '2021-03-08T00:00:00Z', { channel: 'tv' }); // no campaign
  await spend(20, '2021-03-08T00:00:00Z', {}); // no campaign, no channel
  await spend(999, '2021-04-01T00:00:00Z', { campaignId: ids.alpha }); // after the window
}, 60_000);
afterAll(async () => {
  await t?.close();
});

describe('GET /campaigns', () => {
  it('lists every campaign with its lifetime figures, newest launch first, paged', async () => {
    const all = await admin.latest('/campaigns');
    expect(all.status).toBe(200);
    expect(all.body).toMatchObject({ total: 3, limit: 50, offset: 0 });
    expect(all.body.items.map((c: { id: string }) => c.id)).toEqual([ids.gamma, ids.beta, ids.alpha]);
    expect(all.body.items[2]).toEqual({
      id: ids.alpha,
      name: 'Alpha',
      channel: 'web',
      budget: 500,
      launchedAt: '2021-03-01T00:00:00.000Z',
      leads: 2,
      convertedLeads: 1,
      newCustomers: 1,
      revenue: 400,
      spend: 1199, // 200 + 999: all of it, the list has no window
      costPerLead: 599.5,
      cac: 1199,
      roi: -0.6664, // (400 − 1199) / 1199
    });

    const page = await admin.get('/campaigns?limit=1&offset=1');
    expect(page.body).toMatchObject({ total: 3, limit: 1, offset: 1, items: [{ id: ids.beta }] });
    const web = await admin.get('/campaigns?channel=web&sort=name');
    expect(web.body.items.map((c: { id: string }) => c.id)).toEqual([ids.alpha, ids.gamma]);
    const byName = await admin.get('/campaigns?sort=-name'); // case-insensitive: Gamma, beta, Alpha
    expect(byName.body.items.map((c: { id: string }) => c.id)).toEqual([ids.gamma, ids.beta, ids.alpha]);
  });

  it('answers CSV: one row per item, the same figures', async () => {
    const json = await admin.latest('/campaigns');
    const csv = await admin.get('/campaigns?format=csv');
    expect([csv.status, csv.headers['content-type'], csv.headers['content-disposition']]).toEqual([
      200,
      'text/csv; charset=utf-8',
      'attachment; filename="campaigns.csv"',
    ]);
    const rows = parseCsv(csv.text);
    const cell = (v: string | number | null) => (v === null ? '' : String(v));
    expect(rows).toEqual(
      json.body.items.map((item: Record<string, string | number | null>) =>
        Object.fromEntries(Object.entries(item).map(([k, v]) => [k, cell(v)])),
      ),
    );
  });

  it('is a `read` route: a rep sees every campaign (they have no owner); bad parameters are a 400 naming them', async () => {
    const rep = await client(t, 'rep').latest('/campaigns');
    expect([rep.status, rep.body.total]).toEqual([200, 3]);
    for (const [query, field] of [
      ['sort=spend', 'sort'],
      ['limit=0', 'limit'],
      ['offset=-1', 'offset'],
      ['channel=', 'channel'],
      ['colour=red', 'colour'],
    ]) {
      const res = await admin.get(`/campaigns?${query}`);
      expect([query, res.status, res.body.message]).toEqual([query, 400, expect.stringContaining(field)]);
    }
    const post = await expectNothingAppended(t, () => client(t, 'rep').post('/campaigns', { name: 'Nope', channel: 'web' }));
    expect(post.status).toBe(403);
  });
});

describe('GET /reports/campaigns', () => {
  it('per campaign: the leads captured in the window and what came of them, the spend in it, CPL, CAC, ROI', async () => {
    const res = await admin.latest(`/reports/campaigns?${MARCH}`);
    expect(res.status).toBe(200);
    const zero = { leads: 0, convertedLeads: 0, newCustomers: 0, revenue: 0, spend: 0, costPerLead: null, cac: null, roi: null };
    expect(res.body).toEqual({
      from: '2021-03-01T00:00:00.000Z',
      to: '2021-04-01T00:00:00.000Z',
      campaigns: [
        {
          campaignId: ids.alpha,
          name: 'Alpha',
          channel: 'web',
          budget: 500,
          launchedAt: '2021-03-01T00:00:00.000Z',
          leads: 2,
          convertedLeads: 1,
          newCustomers: 1,
          revenue: 400,
          spend: 200,
          costPerLead: 100,
          cac: 200,
          roi: 1,
        },
        { campaignId: ids.gamma, name: 'Gamma', channel: 'web', budget: null, launchedAt: '2021-03-10T00:00:00.000Z', ...zero },
        {
          campaignId: ids.beta,
          name: 'beta',
          channel: 'ads',
          budget: null,
          launchedAt: '2021-03-05T00:00:00.000Z',
          leads: 1,
          convertedLeads: 1,
          newCustomers: 0, // converted into a customer acquired before
          revenue: 0,
          spend: 50,
          costPerLead: 50,
          cac: null,
          roi: -1,
        },
      ],
      totals: {
        leads: 3,
        convertedLeads: 2,
        newCustomers: 1,
        revenue: 400,
        spend: 250,
        costPerLead: 83.33,
        cac: 250,
        roi: 0.6,
        unattributedSpend: 50,
      },
    });
  });

  it("adds up with cac: campaign spend + unattributed spend = cac's total spend over the same window", async () => {
    const campaigns = await admin.latest(`/reports/campaigns?${MARCH}`);
    for (const interval of ['day', 'week', 'month']) {
      const window = interval === 'week' ? 'from=2021-03-01&to=2021-03-29' : MARCH; // whole ISO weeks (Mondays)
      const c = interval === 'week' ? (await admin.get(`/reports/campaigns?${window}`)).body : campaigns.body;
      const cac = await admin.get(`/reports/cac?${window}&interval=${interval}`);
      expect([interval, cac.body.total.spend]).toEqual([interval, c.totals.spend + c.totals.unattributedSpend]);
    }
    expect(campaigns.body.totals.spend + campaigns.body.totals.unattributedSpend).toBe(300);
  });

  it('is a report: CSV tables campaigns (default) and totals; report access only', async () => {
    const rows = parseCsv((await admin.latest(`/reports/campaigns?${MARCH}&format=csv`)).text);
    expect(rows.map((r) => [r.name, r.leads, r.roi])).toEqual([
      ['Alpha', '2', '1'],
      ['Gamma', '0', ''],
      ['beta', '1', '-1'],
    ]);
    const totals = parseCsv((await admin.get(`/reports/campaigns?${MARCH}&format=csv&table=totals`)).text);
    expect(totals).toEqual([
      {
        from: '2021-03-01T00:00:00.000Z',
        to: '2021-04-01T00:00:00.000Z',
        leads: '3',
        convertedLeads: '2',
        newCustomers: '1',
        revenue: '400',
        spend: '250',
        costPerLead: '83.33',
        cac: '250',
        roi: '0.6',
        unattributedSpend: '50',
      },
    ]);
    expect((await client(t, 'analyst').get(`/reports/campaigns?${MARCH}`)).status).toBe(200);
    expect((await client(t, 'rep').get(`/reports/campaigns?${MARCH}`)).status).toBe(403);
  });
});
