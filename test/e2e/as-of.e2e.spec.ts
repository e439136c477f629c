import { randomUUID } from 'node:crypto';
import { client } from '../support/http';
import { sessionHelpers } from '../support/session';
import { startTestApp, TestApp } from '../support/test-app';

/**
 * ?asOf= views: an aggregate's state folded from its stream up to a past instant (docs/http-api.md).
 */

let t: TestApp;
let api: ReturnType<typeof client>;

beforeAll(async () => {
  t = await startTestApp();
  api = client(t, 'admin');
});
afterAll(async () => {
  await t?.close();
});

const { registerCustomer } = sessionHelpers(() => t);

describe('?asOf= views', () => {
  it('shows a customer as it was at a past instant, and 404 before its registration', async () => {
    const id = randomUUID();
    expect(
      (await api.post('/customers', { id, name: 'Time Traveller', company: 'Old Co', source: 'web', occurredAt: '2024-01-10T00:00:00Z' }))
        .status,
    ).toBe(201);
    expect((await api.patch(`/customers/${id}`, { company: 'New Co', occurredAt: '2024-02-10T00:00:00Z' })).status).toBe(200);
    expect((await api.post(`/customers/${id}/purchases`, { amount: 50, occurredAt: '2024-03-10T00:00:00Z' })).status).toBe(201);
    expect((await api.post(`/customers/${id}/churn`, { reason: 'budget', occurredAt: '2024-04-10T00:00:00Z' })).status).toBe(200);

    expect((await api.get(`/customers/${id}?asOf=2024-01-09T23:59:59Z`)).status).toBe(404);
    const early = await api.get(`/customers/${id}?asOf=2024-01-20T00:00:00Z`);
    expect(early.status).toBe(200);
    expect(early.body).toMatchObject({
      id,
      revision: 0,
      asOf: '2024-01-20T00:00:00.000Z',
      state: { company: 'Old Co', status: 'prospect', purchases: { count: 0 } },
    });
    const middle = await api.get(`/customers/${id}?asOf=2024-02-20`);
    expect(middle.body).toMatchObject({ revision: 1, state: { company: 'New Co', status: 'prospect' } });
    const acquired = await api.get(`/customers/${id}?asOf=2024-03-10T00:00:00Z`); // inclusive
    expect(acquired.body).toMatchObject({ revision: 3, state: { status: 'active', purchases: { count: 1, total: 50 } } });
    // A date-time without an offset is UTC, whatever the server's zone.
    const noOffset = await api.get(`/customers/${id}?asOf=2024-03-09T23:59:59`);
    expect(noOffset.body).toMatchObject({ revision: 1, asOf: '2024-03-09T23:59:59.000Z', state: { status: 'prospect' } });
    const now = await api.latest(`/customers/${id}`);
    expect(now.body).toMatchObject({
      id,
      status: 'churned',
      company: 'New Co',
      churnReason: 'budget',
      churnedAt: '2024-04-10T00:00:00.000Z',
    });
  });

  it('shows a deal with its stage and amount before later changes', async () => {
    const customerId = await registerCustomer({ occurredAt: '2024-01-01T00:00:00Z' });
    const dealId = randomUUID();
    expect(
      (await api.post('/deals', { id: dealId, customerId, title: 'Past deal', amount: 1000, occurredAt: '2024-01-10T00:00:00Z' })).status,
    ).toBe(201);
    expect((await api.post(`/deals/${dealId}/stage`, { stage: 'proposal', occurredAt: '2024-02-10T00:00:00Z' })).status).toBe(200);
    expect((await api.patch(`/deals/${dealId}`, { amount: 2000, occurredAt: '2024-03-10T00:00:00Z' })).status).toBe(200);
    expect((await api.post(`/deals/${dealId}/win`, { occurredAt: '2024-04-10T00:00:00Z' })).status).toBe(200);

    expect((await api.get(`/deals/${dealId}?asOf=2024-01-05T00:00:00Z`)).status).toBe(404);
    const asOf = async (instant: string) => (await api.get(`/deals/${dealId}?asOf=${instant}`)).body;
    expect(await asOf('2024-02-01T00:00:00Z')).toMatchObject({
      revision: 0,
      state: { stage: 'qualification', amount: 1000, status: 'open' },
    });
    expect(await asOf('2024-03-01T00:00:00Z')).toMatchObject({ revision: 1, state: { stage: 'proposal', amount: 1000, status: 'open' } });
    expect(await asOf('2024-03-15T00:00:00Z')).toMatchObject({ revision: 2, state: { stage: 'proposal', amount: 2000, status: 'open' } });
    expect(await asOf('2024-05-01T00:00:00Z')).toMatchObject({
      revision: 3,
      state: { stage: 'won', amount: 2000, status: 'won', closedAt: '2024-04-10T00:00:00.000Z' },
    });
  });

  it('refuses an asOf that is not an instant with 400', async () => {
    const customerId = await registerCustomer();
    for (const bad of ['yesterday', '2024-02-30', '2024-W10-1', '']) {
      const res = await api.get(`/customers/${customerId}?asOf=${encodeURIComponent(bad)}`);
      expect([bad, res.status]).toEqual([bad, 400]);
    }
  });
});
