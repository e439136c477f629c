import type { RecordedEvent } from '@chronicle/event-store';
import { client, expectNothingAppended, UUID } from '../support/http';
import { types } from '../support/session';
import { startTestApp, TestApp } from '../support/test-app';

/**
 * The README's example session, step by step, in process over supertest (readme-session.e2e.spec.ts
 * runs the README's bash block itself against a real server).
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

describe('the README example session, over supertest', () => {
  it('registers a customer, opens a deal, moves it, wins it and reads its audit trail', async () => {
    const customer = await api.post('/customers', {
      name: 'Ada Lovelace',
      email: 'ada@example.com',
      company: 'Analytical Engines',
      source: 'web',
    });
    expect(customer.status).toBe(201);
    expect(customer.body).toEqual({
      id: expect.stringMatching(UUID),
      streamId: `customer-${customer.body.id}`,
      revision: 0,
      position: expect.any(Number),
    });
    const customerId = customer.body.id as string;

    const deal = await api.post('/deals', { customerId, title: 'Annual licence', amount: 24000 });
    expect(deal.status).toBe(201);
    expect(deal.body).toEqual({
      id: expect.stringMatching(UUID),
      streamId: `deal-${deal.body.id}`,
      revision: 0,
      position: expect.any(Number),
    });
    expect(deal.body.position).toBeGreaterThan(customer.body.position);
    const dealId = deal.body.id as string;
    const [opened] = await t.events(`deal-${dealId}`);
    // The deal's source defaults to the customer's; the owner to the caller; the stage to the pipeline's first.
    expect(opened.data).toEqual({
      dealId,
      customerId,
      title: 'Annual licence',
      amount: 24000,
      ownerId: t.actors.admin,
      source: 'web',
      stage: 'qualification',
    });

    const proposal = await api.post(`/deals/${dealId}/stage`, { stage: 'proposal' }, { 'If-Match': '0' });
    expect(proposal.status).toBe(200);
    expect(proposal.body).toMatchObject({ id: dealId, streamId: `deal-${dealId}`, revision: 1 });

    // Someone else's change is never overwritten.
    const stale = await expectNothingAppended(t, () => api.post(`/deals/${dealId}/stage`, { stage: 'negotiation' }, { 'If-Match': '0' }));
    expect(stale.status).toBe(409);
    expect(stale.body).toMatchObject({ statusCode: 409, code: 'wrong-expected-revision', currentRevision: 1 });

    const amount = await api.patch(`/deals/${dealId}`, { amount: 26000 });
    expect(amount.status).toBe(200);
    expect(amount.body.revision).toBe(2);

    const win = await api.post(`/deals/${dealId}/win`, undefined, { 'Idempotency-Key': 'win-1' });
    expect(win.status).toBe(200);
    expect(win.headers['idempotent-replayed']).toBeUndefined();
    expect(win.body).toEqual({ id: dealId, streamId: `deal-${dealId}`, revision: 3, position: expect.any(Number) });
    const retry = await expectNothingAppended(t, () => api.post(`/deals/${dealId}/win`, undefined, { 'Idempotency-Key': 'win-1' }));
    expect(retry.status).toBe(200);
    expect(retry.headers['idempotent-replayed']).toBe('true');
    expect(retry.body).toEqual(win.body);

    // The first won deal acquires the customer, with the deal's business time and the customer's source.
    const customerEvents = await t.events(`customer-${customerId}`);
    expect(types(customerEvents)).toEqual(['CustomerRegistered', 'CustomerAcquired']);
    const dealWon = (await t.events(`deal-${dealId}`))[3];
    expect(customerEvents[1].data).toEqual({ customerId, channel: 'web', trigger: { type: 'DealWon', dealId } });
    expect(customerEvents[1].occurredAt).toBe(dealWon.occurredAt);
    expect(customerEvents[1].causationId).toBe(dealWon.eventId);
    expect(customerEvents[1].correlationId).toBe(dealWon.correlationId);

    const call = await api.post(`/customers/${customerId}/interactions`, {
      type: 'call',
      direction: 'outbound',
      subject: 'Kick-off',
      occurredAt: '2024-03-01T09:30:00Z',
    });
    expect(call.status).toBe(201);
    expect(call.body).toEqual({
      id: expect.stringMatching(UUID),
      streamId: `customer-${customerId}`,
      revision: 2,
      position: expect.any(Number),
    });
    const [interaction] = await t.store.readStream(`customer-${customerId}`, { fromRevision: 2 });
    expect(interaction.occurredAt).toBe('2024-03-01T09:30:00.000Z');
    expect(interaction.data).toEqual({
      customerId,
      interactionId: call.body.id,
      type: 'call',
      direction: 'outbound',
      subject: 'Kick-off',
      channel: { medium: 'voice', live: true }, // schema version 2 (docs/schema-evolution.md)
    });

    const trail = await api.get(`/streams/deal-${dealId}/events?limit=50`);
    expect(trail.status).toBe(200);
    expect(trail.body.streamId).toBe(`deal-${dealId}`);
    expect(trail.body.nextRevision).toBeNull();
    expect(trail.body.events.map((e: RecordedEvent) => [e.streamRevision, e.type])).toEqual([
      [0, 'DealOpened'],
      [1, 'DealStageChanged'],
      [2, 'DealAmountChanged'],
      [3, 'DealWon'],
    ]);
    expect(trail.body.events[1].data).toEqual({ dealId, from: 'qualification', to: 'proposal' });
    expect(trail.body.events[2].data).toEqual({ dealId, from: 24000, to: 26000 });
    expect(trail.body.events[3].data).toEqual({ dealId, customerId, amount: 26000, stage: 'proposal' });
    expect(trail.body.events[3].globalPosition).toBe(win.body.position);
    for (const event of trail.body.events) {
      expect(event).toMatchObject({
        actor: t.actors.admin,
        schemaVersion: 1,
        streamId: `deal-${dealId}`,
        eventId: expect.stringMatching(UUID),
      });
    }
    // The idempotency key is kept with the event it produced.
    expect(trail.body.events[3].metadata).toEqual({ idempotencyKey: 'win-1' });

    const view = await api.latest(`/deals/${dealId}`);
    expect(view.status).toBe(200);
    expect(view.body).toMatchObject({ id: dealId, customerId, stage: 'won', status: 'won', amount: 26000, closedFromStage: 'proposal' });
    // Folded from the stream (with the revision for If-Match) when asked for an instant.
    const folded = await api.get(`/deals/${dealId}?asOf=${new Date().toISOString()}`);
    expect(folded.body).toMatchObject({
      id: dealId,
      streamId: `deal-${dealId}`,
      revision: 3,
      state: { stage: 'won', status: 'won', amount: 26000 },
    });

    const customerView = await api.latest(`/customers/${customerId}`);
    expect(customerView.status).toBe(200);
    expect(customerView.body).toMatchObject({
      id: customerId,
      status: 'active',
      source: 'web',
      company: 'Analytical Engines',
      totals: { wonDeals: { count: 1, amount: 26000 }, revenue: 26000, interactions: 1, openDeals: 0 },
    });

    // Before the deal existed in business time.
    const before = await api.get(`/deals/${dealId}?asOf=2024-03-01T00:00:00Z`);
    expect(before.status).toBe(404);
  });
});
