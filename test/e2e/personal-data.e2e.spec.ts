import { randomUUID } from 'node:crypto';
import { client } from '../support/http';
import { startTestApp, TestApp } from '../support/test-app';

// Analysts read everything but see customers' and leads' personal fields (name, email, phone)
// masked, on every read route that carries them; figures are the same as everyone else's.
let t: TestApp;
let manager: ReturnType<typeof client>;
let analyst: ReturnType<typeof client>;
const email = `ada.${randomUUID().slice(0, 8)}@engines.example`;
const phone = '+44 20 7946 0000';
let customerId: string;
let leadId: string;

beforeAll(async () => {
  t = await startTestApp();
  manager = client(t, 'manager');
  analyst = client(t, 'analyst');
  const customer = await manager.post('/customers', { name: 'Ada Lovelace', email, phone, company: 'Analytical Engines', source: 'web', occurredAt: '2024-01-01T00:00:00Z' });
  customerId = customer.body.id;
  const deal = await manager.post('/deals', { customerId, title: 'Licence', amount: 1200, occurredAt: '2024-02-01T00:00:00Z' });
  expect((await manager.post(`/deals/${deal.body.id}/win`, { occurredAt: '2024-03-01T00:00:00Z' })).status).toBe(200);
  expect((await manager.post(`/customers/${customerId}/interactions`, { type: 'call', direction: 'outbound', subject: 'Kick-off', occurredAt: '2024-03-02T00:00:00Z' })).status).toBe(201);
  leadId = (await manager.post('/leads', { name: 'Grace Hopper', email: `grace.${email}`, source: 'webinar' })).body.id;
});
afterAll(async () => {
  await t?.close();
});

const leaks = (body: unknown) => /Ada Lovelace|Grace Hopper|\+44 20/.test(JSON.stringify(body)) || JSON.stringify(body).includes(email);

it.each([
  ['GET /customers/:id', () => `/customers/${customerId}`],
  ['GET /customers/:id?asOf=', () => `/customers/${customerId}?asOf=2025-01-01T00:00:00Z`],
  ['GET /customers', () => `/customers?ownerId=manager-user&limit=200`],
  ['GET /leads/:id', () => `/leads/${leadId}`],
  ['GET /leads', () => `/leads?source=webinar&limit=200`],
  ['GET /reports/customer-value', () => `/reports/customer-value?limit=1000`],
])('%s: the manager sees the personal fields, the analyst sees them masked', async (_, url) => {
  const clear = await manager.latest(url());
  const masked = await analyst.latest(url());
  expect([clear.status, masked.status]).toEqual([200, 200]);
  expect(leaks(clear.body)).toBe(true);
  expect(leaks(masked.body)).toBe(false);
  expect(JSON.stringify(masked.body)).toContain('***');
});

it('masks to the first character, keeping everything else (ids, company, totals)', async () => {
  const view = (await analyst.latest(`/customers/${customerId}`)).body;
  expect(view).toMatchObject({ id: customerId, name: 'A***', email: 'a***', phone: '+***', company: 'Analytical Engines', totals: { revenue: 1200, interactions: 1 } });
  const folded = (await analyst.get(`/customers/${customerId}?asOf=2025-01-01T00:00:00Z`)).body;
  expect(folded.state).toMatchObject({ name: 'A***', email: 'a***' });
});

it('an analyst may not search personal fields (q): 403', async () => {
  const res = await analyst.get('/customers?q=lovelace');
  expect(res.status).toBe(403);
  expect(res.body.message).toContain('q');
  expect((await manager.get('/customers?q=lovelace')).body.total).toBe(1);
});

it("reports' figures are the same for both roles", async () => {
  for (const name of ['churn', 'cac', 'pipeline', 'sales-cycle', 'conversion']) {
    const url = `/reports/${name}?from=2024-01-01T00:00:00Z&to=2025-01-01T00:00:00Z&asOf=2024-06-01T00:00:00Z`;
    const [a, b] = [await manager.latest(url), await analyst.latest(url)];
    expect([name, a.status]).toEqual([name, 200]);
    expect(b.body).toEqual(a.body);
  }
});
