import { randomUUID } from 'node:crypto';
import { client } from '../support/http';
import { startTestApp, TestApp } from '../support/test-app';

// Analysts read everything but see customers' and leads' personal fields (name, email, phone,
// attributes, and free text about them: interaction and task subjects and outcomes, purchase
// descriptions) masked, on every read route that carries them; figures are the same as everyone else's.
let t: TestApp;
let manager: ReturnType<typeof client>;
let analyst: ReturnType<typeof client>;
const email = `ada.${randomUUID().slice(0, 8)}@engines.example`;
const phone = '+44 20 7946 0000';
let customerId: string;
let leadId: string;
let personTaskId: string;
let leadTaskId: string;
let keptTaskId: string;

beforeAll(async () => {
  t = await startTestApp();
  manager = client(t, 'manager');
  analyst = client(t, 'analyst');
  const customer = await manager.post('/customers', {
    name: 'Ada Lovelace',
    email,
    phone,
    company: 'Analytical Engines',
    source: 'web',
    attributes: { notes: 'Lovelace family, Ockham Park' },
    occurredAt: '2024-01-01T00:00:00Z',
  });
  customerId = customer.body.id;
  const deal = await manager.post('/deals', { customerId, title: 'Licence', amount: 1200, occurredAt: '2024-02-01T00:00:00Z' });
  expect((await manager.post(`/deals/${deal.body.id}/win`, { occurredAt: '2024-03-01T00:00:00Z' })).status).toBe(200);
  expect(
    (
      await manager.post(`/customers/${customerId}/interactions`, {
        type: 'call',
        direction: 'outbound',
        subject: 'Kick-off',
        outcome: 'Ada Lovelace agreed',
        occurredAt: '2024-03-02T00:00:00Z',
      })
    ).status,
  ).toBe(201);
  expect(
    (
      await manager.post(`/customers/${customerId}/purchases`, {
        amount: 10,
        description: `Cards for ${email}`,
        occurredAt: '2024-03-03T00:00:00Z',
      })
    ).status,
  ).toBe(201);
  leadId = (
    await manager.post('/leads', {
      name: 'Grace Hopper',
      email: `grace.${email}`,
      source: 'webinar',
      attributes: { employer: 'Grace Hopper & Co' },
    })
  ).body.id;
  personTaskId = (await manager.post('/tasks', { subject: 'Call Ada Lovelace', dueAt: '2030-01-01T00:00:00Z', customerId })).body.id;
  leadTaskId = (await manager.post('/tasks', { subject: 'Email Grace Hopper', dueAt: '2030-01-02T00:00:00Z', leadId })).body.id;
  keptTaskId = (await manager.post('/tasks', { subject: 'Quarterly pipeline review', dueAt: '2030-01-03T00:00:00Z' })).body.id;
  expect((await manager.post(`/tasks/${personTaskId}/complete`, { outcome: `Wrote to ${email}` })).status).toBe(200);
});
afterAll(async () => {
  await t?.close();
});

const leaks = (body: unknown) =>
  /Ada Lovelace|Grace Hopper|\+44 20|Lovelace family|Kick-off|Cards for/.test(JSON.stringify(body)) || JSON.stringify(body).includes(email);

it.each([
  ['GET /customers/:id', () => `/customers/${customerId}`],
  ['GET /customers/:id?asOf=', () => `/customers/${customerId}?asOf=2025-01-01T00:00:00Z`],
  ['GET /customers', () => `/customers?ownerId=manager-user&limit=200`],
  ['GET /leads/:id', () => `/leads/${leadId}`],
  ['GET /leads', () => `/leads?source=webinar&limit=200`],
  ['GET /customers/:id/timeline', () => `/customers/${customerId}/timeline`],
  ['GET /tasks/:id (about a customer)', () => `/tasks/${personTaskId}`],
  ['GET /tasks/:id (about a lead)', () => `/tasks/${leadTaskId}`],
  ['GET /tasks', () => `/tasks?ownerId=manager-user&limit=200`],
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
  expect(view).toMatchObject({
    id: customerId,
    name: 'A***',
    email: 'a***',
    phone: '+***',
    company: 'Analytical Engines',
    totals: { revenue: 1210, interactions: 1 },
  });
  const folded = (await analyst.get(`/customers/${customerId}?asOf=2025-01-01T00:00:00Z`)).body;
  expect(folded.state).toMatchObject({ name: 'A***', email: 'a***' });
});

it('masks attributes whole, and the free text on the timeline and on tasks about a person; a task about no one is in clear', async () => {
  expect((await analyst.latest(`/customers/${customerId}`)).body.attributes).toBe('***');
  expect((await analyst.latest(`/leads/${leadId}`)).body).toMatchObject({ name: 'G***', attributes: '***' });
  const timeline = (await analyst.latest(`/customers/${customerId}/timeline`)).body.items;
  expect(timeline.find((e: { type: string }) => e.type === 'InteractionLogged').details).toMatchObject({
    subject: 'K***',
    outcome: 'A***',
    interactionType: 'call',
  });
  expect(timeline.find((e: { type: string }) => e.type === 'PurchaseRecorded').details).toMatchObject({ description: 'C***', amount: 10 });
  expect((await analyst.latest(`/tasks/${personTaskId}`)).body).toMatchObject({
    subject: 'C***',
    outcome: 'W***',
    customerId,
    status: 'completed',
  });
  expect((await analyst.latest(`/tasks/${keptTaskId}`)).body).toMatchObject({ subject: 'Quarterly pipeline review' });
  const page = (await analyst.latest('/tasks?ownerId=manager-user&limit=200')).body.items;
  expect(page.find((task: { id: string }) => task.id === keptTaskId).subject).toBe('Quarterly pipeline review');
});

it('an analyst may not sort by a masked field (403 naming it); the default list is in another order', async () => {
  for (const sort of ['name', '-name']) {
    const res = await analyst.get(`/customers?sort=${sort}`);
    expect(res.status).toBe(403);
    expect(res.body.message).toContain('"name" is masked');
  }
  expect((await manager.get('/customers?sort=name')).status).toBe(200);
  expect((await analyst.get('/customers?sort=-revenue')).status).toBe(200);
  // Registered first, named last: by name it comes after Ada, by registration before her.
  const zed = (await manager.post('/customers', { name: 'Zed Zuse', source: 'web', occurredAt: '2023-01-01T00:00:00Z' })).body.id;
  const ids = (res: { body: { items: Array<{ id: string }> } }) =>
    res.body.items.map((c) => c.id).filter((id) => id === zed || id === customerId);
  expect(ids(await manager.latest('/customers?limit=200'))).toEqual([customerId, zed]);
  const byDefault = await analyst.latest('/customers?limit=200');
  expect(byDefault.status).toBe(200);
  expect(ids(byDefault)).toEqual([zed, customerId]);
  expect(ids(byDefault)).toEqual(ids(await analyst.latest('/customers?sort=registeredAt&limit=200')));
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
