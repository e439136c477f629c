import { client, UUID } from '../support/http';
import { sessionHelpers, types } from '../support/session';
import { startTestApp, TestApp } from '../support/test-app';

/**
 * What commands record beyond their own event: customer acquisition, lead conversion, and where
 * spend lands (docs/domain.md).
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

const { registerCustomer, openDeal, captureLead, processManagerCaughtUp } = sessionHelpers(() => t);

describe('customer acquisition', () => {
  it('records CustomerAcquired exactly once: after the first won deal, not after a second one or a purchase', async () => {
    const customerId = await registerCustomer({ source: 'paid-search' });
    const first = await openDeal(customerId, { occurredAt: '2024-04-01T00:00:00Z' });
    const second = await openDeal(customerId, { source: 'referral' });
    expect((await api.post(`/deals/${first}/win`, { occurredAt: '2024-05-01T10:00:00Z' })).status).toBe(200);
    let events = await t.events(`customer-${customerId}`);
    expect(types(events)).toEqual(['CustomerRegistered', 'CustomerAcquired']);
    expect(events[1].data).toEqual({ customerId, channel: 'paid-search', trigger: { type: 'DealWon', dealId: first } });
    expect(events[1].occurredAt).toBe('2024-05-01T10:00:00.000Z');

    expect((await api.post(`/deals/${second}/win`)).status).toBe(200);
    expect((await api.post(`/customers/${customerId}/purchases`, { amount: 99.5 })).status).toBe(201);
    await processManagerCaughtUp();
    events = await t.events(`customer-${customerId}`);
    expect(types(events)).toEqual(['CustomerRegistered', 'CustomerAcquired', 'PurchaseRecorded']);
    const view = await api.latest(`/customers/${customerId}`);
    expect(view.body).toMatchObject({
      status: 'active',
      acquiredAt: '2024-05-01T10:00:00.000Z',
      totals: { purchases: { count: 1, amount: 99.5 } },
    });
  });

  it('acquires by a first purchase, then not again by a won deal', async () => {
    const customerId = await registerCustomer({ source: 'events' });
    const purchase = await api.post(`/customers/${customerId}/purchases`, { amount: 0, occurredAt: '2023-01-01T00:00:00Z' });
    expect(purchase.status).toBe(201);
    expect(purchase.body).toMatchObject({ id: expect.stringMatching(UUID), streamId: `customer-${customerId}`, revision: 2 });
    const dealId = await openDeal(customerId);
    expect((await api.post(`/deals/${dealId}/win`)).status).toBe(200);
    await processManagerCaughtUp();
    const events = await t.events(`customer-${customerId}`);
    expect(types(events)).toEqual(['CustomerRegistered', 'PurchaseRecorded', 'CustomerAcquired']);
    expect(events[2].data).toEqual({ customerId, channel: 'events', trigger: { type: 'PurchaseRecorded', purchaseId: purchase.body.id } });
    expect(events[2].occurredAt).toBe('2023-01-01T00:00:00.000Z');
  });
});

describe('leads', () => {
  it("converting a lead registers a customer with the lead's source", async () => {
    const leadId = await captureLead({ source: 'webinar', attributes: { employees: 40 } });
    expect((await api.post(`/leads/${leadId}/assign`, { ownerId: 'u-7' })).status).toBe(200);
    expect((await api.post(`/leads/${leadId}/qualify`)).status).toBe(200);
    const convert = await api.post(`/leads/${leadId}/convert`, {});
    expect(convert.status).toBe(200);
    expect(convert.body).toEqual({
      id: leadId,
      streamId: `lead-${leadId}`,
      revision: 3,
      position: expect.any(Number),
      customerId: expect.stringMatching(UUID),
    });
    const leadEvents = await t.events(`lead-${leadId}`);
    expect(types(leadEvents)).toEqual(['LeadCaptured', 'LeadAssigned', 'LeadQualified', 'LeadConverted']);
    const { customerId } = leadEvents[3].data as { customerId: string };
    expect(customerId).toBe(convert.body.customerId);
    const customerEvents = await t.events(`customer-${customerId}`);
    expect(types(customerEvents)).toEqual(['CustomerRegistered']);
    expect(customerEvents[0].data).toEqual({
      customerId,
      name: 'Grace Hopper',
      email: 'grace@example.com',
      source: 'webinar',
      leadId,
      ownerId: 'u-7',
      attributes: { employees: 40 },
    });
    expect(customerEvents[0].occurredAt).toBe(leadEvents[3].occurredAt);
    expect(customerEvents[0].causationId).toBe(leadEvents[3].eventId);
    const view = await api.latest(`/customers/${customerId}`);
    expect(view.status).toBe(200);
    expect(view.body).toMatchObject({ source: 'webinar', status: 'prospect', name: 'Grace Hopper', leadId, ownerId: 'u-7' });
    await processManagerCaughtUp();
    expect(await t.events(`customer-${customerId}`)).toHaveLength(1);
  });

  it('converts into an existing customer without registering another; the customer stream names the lead (erasure finds it)', async () => {
    const customerId = await registerCustomer();
    const leadId = await captureLead();
    const convert = await api.post(`/leads/${leadId}/convert`, { customerId });
    expect(convert.status).toBe(200);
    const customerEvents = await t.events(`customer-${customerId}`);
    expect(types(customerEvents)).toEqual(['CustomerRegistered', 'CustomerLeadLinked']);
    expect(customerEvents[1].data).toEqual({ customerId, leadId });
    await processManagerCaughtUp(); // its repeat of the link appends nothing
    expect(await t.events(`customer-${customerId}`)).toHaveLength(2);
    expect((await t.events(`lead-${leadId}`))[1].data).toMatchObject({ customerId });
  });
});

describe('spend', () => {
  it('lands in spend-<channel> without a campaign, in spend-unattributed without a channel, and in the campaign otherwise', async () => {
    const byChannel = await api.post('/spend', { amount: 1500, category: 'marketing', channel: 'paid-search' });
    expect(byChannel.status).toBe(201);
    expect(byChannel.body).toEqual({
      id: expect.stringMatching(UUID),
      streamId: 'spend-paid-search',
      revision: expect.any(Number),
      position: expect.any(Number),
    });
    const [channelEvent] = await t.store.readStream('spend-paid-search', { fromRevision: byChannel.body.revision });
    expect(channelEvent).toMatchObject({ type: 'SpendRecorded', globalPosition: byChannel.body.position });
    expect(channelEvent.data).toEqual({ spendId: byChannel.body.id, amount: 1500, category: 'marketing', channel: 'paid-search' });

    const unattributed = await api.post('/spend', { amount: 200, category: 'sales' });
    expect(unattributed.status).toBe(201);
    expect(unattributed.body.streamId).toBe('spend-unattributed');
    const [unattributedEvent] = await t.store.readStream('spend-unattributed', { fromRevision: unattributed.body.revision });
    expect(unattributedEvent.data).toEqual({ spendId: unattributed.body.id, amount: 200, category: 'sales', channel: null });

    const campaign = await api.post('/campaigns', { name: 'Spring webinars', channel: 'webinar', budget: 10000 });
    expect(campaign.status).toBe(201);
    const onCampaign = await api.post('/spend', { amount: 300, category: 'marketing', campaignId: campaign.body.id });
    expect(onCampaign.status).toBe(201);
    expect(onCampaign.body).toMatchObject({ streamId: `campaign-${campaign.body.id}`, revision: 1 });
    const campaignEvents = await t.events(`campaign-${campaign.body.id}`);
    expect(types(campaignEvents)).toEqual(['CampaignLaunched', 'SpendRecorded']);
    expect(campaignEvents[1].data).toEqual({
      spendId: onCampaign.body.id,
      amount: 300,
      category: 'marketing',
      campaignId: campaign.body.id,
      channel: 'webinar',
    });
  });
});
