import request from 'supertest';
import { randomUUID } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { AcquisitionProcessManager } from '@chronicle/commands';
import type { RecordedEvent } from '@chronicle/event-store';
import { client, expectNothingAppended, UUID } from '../support/http';
import { listen } from '../support/raw-http';
import { startTestApp, TestApp } from '../support/test-app';

let t: TestApp;
let api: ReturnType<typeof client>;

beforeAll(async () => {
  t = await startTestApp();
  api = client(t, 'admin');
});
afterAll(async () => {
  await t?.close();
});

const types = (events: RecordedEvent[]) => events.map((e) => e.type);

/** A request with exactly these headers (as the admin) and this body: no Content-Length unless given, as curl -X POST sends. */
async function rawRequest(app: TestApp, method: string, path: string, headers: Record<string, string>, body?: string) {
  const port = await listen(app.http);
  return new Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: any }>((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, method, path, headers: { ...app.as('admin'), ...headers } }, (res) => {
      let text = '';
      res.on('data', (chunk) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: text ? JSON.parse(text) : undefined }));
    });
    req.on('error', reject);
    // Node would add Transfer-Encoding: chunked to a request ended without a length; flushing the
    // headers first and ending with nothing sends none of them (useChunkedEncodingByDefault off).
    (req as unknown as { useChunkedEncodingByDefault: boolean }).useChunkedEncodingByDefault = false;
    req.end(body);
  });
}
const iso = (ms: number) => new Date(ms).toISOString();

async function registerCustomer(body: Record<string, unknown> = {}): Promise<string> {
  const res = await api.post('/customers', { name: 'Ada Lovelace', source: 'web', ...body });
  expect(res.status).toBe(201);
  return res.body.id;
}

async function openDeal(customerId: string, body: Record<string, unknown> = {}): Promise<string> {
  const res = await api.post('/deals', { customerId, title: 'Annual licence', amount: 24000, ...body });
  expect(res.status).toBe(201);
  return res.body.id;
}

async function captureLead(body: Record<string, unknown> = {}): Promise<string> {
  const res = await api.post('/leads', { name: 'Grace Hopper', email: 'grace@example.com', source: 'webinar', ...body });
  expect(res.status).toBe(201);
  return res.body.id;
}

async function createTask(body: Record<string, unknown> = {}): Promise<string> {
  const res = await api.post('/tasks', { subject: 'Call back', dueAt: '2030-01-01T09:00:00Z', ...body });
  expect(res.status).toBe(201);
  return res.body.id;
}

/** Waits until the acquisition process manager has handled everything in the store. */
async function processManagerCaughtUp(): Promise<void> {
  const pm = t.app.get(AcquisitionProcessManager);
  // The last event the process manager reacts to: a filtered feed (EventStoreDB) need not report
  // checkpoints beyond it, so "caught up" means "past the last DealWon / LeadConverted".
  let last = 0;
  for (let from = 0; ; ) {
    const page = await t.store.readAll({ fromPosition: from, maxCount: 1000, filter: { types: ['DealWon', 'LeadConverted'] } });
    if (page.events.length) last = page.events[page.events.length - 1].globalPosition;
    from = page.checkpoint;
    if (page.isEnd) break;
  }
  const deadline = Date.now() + 5000;
  while (pm.checkpoint < last) {
    if (Date.now() > deadline) throw new Error(`process manager stuck at ${pm.checkpoint}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('the README example session', () => {
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
    expect(deal.body).toEqual({ id: expect.stringMatching(UUID), streamId: `deal-${deal.body.id}`, revision: 0, position: expect.any(Number) });
    expect(deal.body.position).toBeGreaterThan(customer.body.position);
    const dealId = deal.body.id as string;
    const [opened] = await t.events(`deal-${dealId}`);
    // The deal's source defaults to the customer's; the owner to the caller; the stage to the pipeline's first.
    expect(opened.data).toEqual({ dealId, customerId, title: 'Annual licence', amount: 24000, ownerId: t.actors.admin, source: 'web', stage: 'qualification' });

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
    expect(call.body).toEqual({ id: expect.stringMatching(UUID), streamId: `customer-${customerId}`, revision: 2, position: expect.any(Number) });
    const [interaction] = await t.store.readStream(`customer-${customerId}`, { fromRevision: 2 });
    expect(interaction.occurredAt).toBe('2024-03-01T09:30:00.000Z');
    expect(interaction.data).toEqual({ customerId, interactionId: call.body.id, type: 'call', direction: 'outbound', subject: 'Kick-off' });

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
      expect(event).toMatchObject({ actor: t.actors.admin, schemaVersion: 1, streamId: `deal-${dealId}`, eventId: expect.stringMatching(UUID) });
    }
    // The idempotency key is kept with the event it produced.
    expect(trail.body.events[3].metadata).toEqual({ idempotencyKey: 'win-1' });

    const view = await api.latest(`/deals/${dealId}`);
    expect(view.status).toBe(200);
    expect(view.body).toMatchObject({ id: dealId, customerId, stage: 'won', status: 'won', amount: 26000, closedFromStage: 'proposal' });
    // Folded from the stream (with the revision for If-Match) when asked for an instant.
    const folded = await api.get(`/deals/${dealId}?asOf=${new Date().toISOString()}`);
    expect(folded.body).toMatchObject({ id: dealId, streamId: `deal-${dealId}`, revision: 3, state: { stage: 'won', status: 'won', amount: 26000 } });

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

describe('event metadata', () => {
  it('stores actor, correlation and causation ids, business and server time, schema version, event id and position', async () => {
    const started = Date.now();
    const res = await client(t, 'rep').post(
      '/customers',
      { name: 'Metadata Test', source: 'referral', occurredAt: '2019-07-04T12:00:00+02:00' },
      { 'X-Correlation-Id': 'corr-42', 'X-Causation-Id': 'cause-7' },
    );
    expect(res.status).toBe(201);
    expect(res.headers['x-correlation-id']).toBe('corr-42');
    const [event] = await t.events(res.body.streamId);
    expect(event).toEqual({
      eventId: expect.stringMatching(UUID),
      type: 'CustomerRegistered',
      schemaVersion: 1,
      streamId: res.body.streamId,
      streamRevision: 0,
      globalPosition: res.body.position,
      occurredAt: '2019-07-04T10:00:00.000Z',
      recordedAt: expect.any(String),
      actor: t.actors.rep,
      correlationId: 'corr-42',
      causationId: 'cause-7',
      data: { customerId: res.body.id, name: 'Metadata Test', source: 'referral', ownerId: t.actors.rep },
      metadata: {},
    });
    const recordedAt = Date.parse(event.recordedAt);
    expect(recordedAt).toBeGreaterThanOrEqual(started - 1);
    expect(recordedAt).toBeLessThanOrEqual(Date.now() + 1);
    // The audit trail shows the same metadata.
    const trail = await client(t, 'service').get(`/streams/${res.body.streamId}/events`);
    expect(trail.status).toBe(200);
    expect(trail.body.events).toEqual([event]);
  });

  it('generates a correlation id when none is sent, and uses it as the causation id', async () => {
    const started = Date.now();
    const res = await api.post('/customers', { name: 'No Headers' });
    expect(res.status).toBe(201);
    const correlationId = res.headers['x-correlation-id'];
    expect(correlationId).toMatch(UUID);
    const [event] = await t.events(res.body.streamId);
    expect(event.correlationId).toBe(correlationId);
    expect(event.causationId).toBe(correlationId);
    expect(event.actor).toBe(t.actors.admin);
    // Without occurredAt, business time is now.
    expect(Date.parse(event.occurredAt)).toBeGreaterThanOrEqual(started - 1);
    expect(Date.parse(event.occurredAt)).toBeLessThanOrEqual(Date.parse(event.recordedAt));
    expect(event.data).toMatchObject({ source: 'direct' });
    const other = await api.post('/customers', { name: 'No Headers Either' });
    expect(other.headers['x-correlation-id']).not.toBe(correlationId);
  });

  it('keeps a past occurredAt and every other field on every kind of event', async () => {
    const headers = { 'X-Correlation-Id': `session-${randomUUID()}` };
    const past = '2021-05-05T05:05:05.000Z';
    const customerId = randomUUID();
    const dealId = randomUUID();
    const leadId = randomUUID();
    const campaignId = randomUUID();
    const taskId = randomUUID();
    const writes: Array<[string, string, Record<string, unknown>, number]> = [
      ['post', '/customers', { id: customerId, name: 'All Kinds', source: 'web' }, 201],
      ['patch', `/customers/${customerId}`, { company: 'Kinds Ltd' }, 200],
      ['post', `/customers/${customerId}/purchases`, { amount: 10 }, 201],
      ['post', `/customers/${customerId}/churn`, { reason: 'price' }, 200],
      ['post', `/customers/${customerId}/reactivate`, {}, 200],
      ['post', `/customers/${customerId}/interactions`, { type: 'email', direction: 'inbound', subject: 'Hi' }, 201],
      ['post', '/leads', { id: leadId, name: 'Lead', source: 'web' }, 201],
      ['post', `/leads/${leadId}/assign`, { ownerId: 'u-2' }, 200],
      ['post', `/leads/${leadId}/qualify`, {}, 200],
      ['post', '/deals', { id: dealId, customerId, title: 'T', amount: 5 }, 201],
      ['post', `/deals/${dealId}/stage`, { stage: 'proposal' }, 200],
      ['patch', `/deals/${dealId}`, { amount: 7, expectedCloseDate: '2021-12-31' }, 200],
      ['post', `/deals/${dealId}/lose`, { reason: 'competitor' }, 200],
      ['post', '/campaigns', { id: campaignId, name: 'C', channel: 'email' }, 201],
      ['post', '/spend', { amount: 3, category: 'marketing', campaignId }, 201],
      ['post', '/tasks', { id: taskId, subject: 'S', dueAt: '2021-06-01' }, 201],
      ['post', `/tasks/${taskId}/complete`, {}, 200],
    ];
    for (const [method, url, body, status] of writes) {
      const res = await (method === 'post' ? api.post(url, { ...body, occurredAt: past }, headers) : api.patch(url, { ...body, occurredAt: past }, headers));
      expect([method, url, res.status]).toEqual([method, url, status]);
      const [last] = await t.store.readStream(res.body.streamId, { direction: 'backwards', maxCount: 1 });
      expect(last).toMatchObject({
        streamRevision: res.body.revision,
        globalPosition: res.body.position,
        occurredAt: past,
        actor: t.actors.admin,
        correlationId: headers['X-Correlation-Id'],
        causationId: headers['X-Correlation-Id'],
        schemaVersion: 1,
        eventId: expect.stringMatching(UUID),
      });
      expect(Date.now() - Date.parse(last.recordedAt)).toBeLessThan(60_000);
    }
  });
});

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
    expect(view.body).toMatchObject({ status: 'active', acquiredAt: '2024-05-01T10:00:00.000Z', totals: { purchases: { count: 1, amount: 99.5 } } });
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
    expect(convert.body).toEqual({ id: leadId, streamId: `lead-${leadId}`, revision: 3, position: expect.any(Number), customerId: expect.stringMatching(UUID) });
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
    expect(byChannel.body).toEqual({ id: expect.stringMatching(UUID), streamId: 'spend-paid-search', revision: expect.any(Number), position: expect.any(Number) });
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
    expect(campaignEvents[1].data).toEqual({ spendId: onCampaign.body.id, amount: 300, category: 'marketing', campaignId: campaign.body.id, channel: 'webinar' });
  });
});

describe('Idempotency-Key', () => {
  it('replays the first result of a retried command, with Idempotent-Replayed: true, appending nothing', async () => {
    const body = { name: 'Idempotent Ivy', source: 'web' };
    const first = await api.post('/customers', body, { 'Idempotency-Key': 'register-ivy' });
    expect(first.status).toBe(201);
    expect(first.headers['idempotent-replayed']).toBeUndefined();
    for (let i = 0; i < 3; i++) {
      const retry = await expectNothingAppended(t, () => api.post('/customers', body, { 'Idempotency-Key': 'register-ivy' }));
      expect(retry.status).toBe(201);
      expect(retry.headers['idempotent-replayed']).toBe('true');
      expect(retry.body).toEqual(first.body);
    }
    expect(await t.events(first.body.streamId)).toHaveLength(1);
    const [event] = await t.events(first.body.streamId);
    expect(event.metadata).toEqual({ idempotencyKey: 'register-ivy' });
  });

  it('refuses the same key on a different request with 422, appending nothing', async () => {
    const first = await api.post('/customers', { name: 'Key Owner' }, { 'Idempotency-Key': 'reused-key' });
    expect(first.status).toBe(201);
    const otherBody = await expectNothingAppended(t, () => api.post('/customers', { name: 'Someone Else' }, { 'Idempotency-Key': 'reused-key' }));
    expect(otherBody.status).toBe(422);
    expect(otherBody.body.message).toContain('reused-key');
    const otherRoute = await expectNothingAppended(t, () =>
      api.post(`/customers/${first.body.id}/interactions`, { type: 'note', direction: 'inbound', subject: 'x' }, { 'Idempotency-Key': 'reused-key' }),
    );
    expect(otherRoute.status).toBe(422);
  });

  it('keeps keys per actor: the same key from another API key is a new command', async () => {
    const mine = await api.post('/customers', { name: 'Per Actor' }, { 'Idempotency-Key': 'per-actor' });
    const theirs = await client(t, 'rep').post('/customers', { name: 'Per Actor' }, { 'Idempotency-Key': 'per-actor' });
    expect(mine.status).toBe(201);
    expect(theirs.status).toBe(201);
    expect(theirs.headers['idempotent-replayed']).toBeUndefined();
    expect(theirs.body.id).not.toBe(mine.body.id);
  });

  it('appends once for concurrent identical retries', async () => {
    const customerId = await registerCustomer();
    const before = await t.store.headPosition();
    const body = { type: 'call', direction: 'inbound', subject: 'Retry storm' };
    const responses = await Promise.all(
      Array.from({ length: 12 }, () => api.post(`/customers/${customerId}/interactions`, body, { 'Idempotency-Key': 'storm-1' })),
    );
    expect(responses.map((r) => r.status)).toEqual(Array(12).fill(201));
    for (const r of responses) expect(r.body).toEqual(responses[0].body);
    expect(responses.filter((r) => r.headers['idempotent-replayed'] === 'true')).toHaveLength(11);
    // One event appended (positions are not consecutive on every store, so count the events).
    const appended = await t.store.readAll({ fromPosition: before, maxCount: 100 });
    expect(appended.events.map((e) => e.type)).toEqual(['InteractionLogged']);
    expect(types(await t.events(`customer-${customerId}`))).toEqual(['CustomerRegistered', 'InteractionLogged']);
  });

  it('does not remember a failed command: the key can be used again once the request is valid', async () => {
    const bad = await api.post('/customers', { name: '' }, { 'Idempotency-Key': 'first-failed' });
    expect(bad.status).toBe(400);
    const good = await api.post('/customers', { name: 'Second Try' }, { 'Idempotency-Key': 'first-failed' });
    expect(good.status).toBe(201);
    expect(good.headers['idempotent-replayed']).toBeUndefined();
  });

  it('refuses a malformed key with 400', async () => {
    const res = await expectNothingAppended(t, () => api.post('/customers', { name: 'x' }, { 'Idempotency-Key': 'has space' }));
    expect(res.status).toBe(400);
  });
});

describe('?asOf= views', () => {
  it('shows a customer as it was at a past instant, and 404 before its registration', async () => {
    const id = randomUUID();
    expect((await api.post('/customers', { id, name: 'Time Traveller', company: 'Old Co', source: 'web', occurredAt: '2024-01-10T00:00:00Z' })).status).toBe(201);
    expect((await api.patch(`/customers/${id}`, { company: 'New Co', occurredAt: '2024-02-10T00:00:00Z' })).status).toBe(200);
    expect((await api.post(`/customers/${id}/purchases`, { amount: 50, occurredAt: '2024-03-10T00:00:00Z' })).status).toBe(201);
    expect((await api.post(`/customers/${id}/churn`, { reason: 'budget', occurredAt: '2024-04-10T00:00:00Z' })).status).toBe(200);

    expect((await api.get(`/customers/${id}?asOf=2024-01-09T23:59:59Z`)).status).toBe(404);
    const early = await api.get(`/customers/${id}?asOf=2024-01-20T00:00:00Z`);
    expect(early.status).toBe(200);
    expect(early.body).toMatchObject({ id, revision: 0, asOf: '2024-01-20T00:00:00.000Z', state: { company: 'Old Co', status: 'prospect', purchases: { count: 0 } } });
    const middle = await api.get(`/customers/${id}?asOf=2024-02-20`);
    expect(middle.body).toMatchObject({ revision: 1, state: { company: 'New Co', status: 'prospect' } });
    const acquired = await api.get(`/customers/${id}?asOf=2024-03-10T00:00:00Z`); // inclusive
    expect(acquired.body).toMatchObject({ revision: 3, state: { status: 'active', purchases: { count: 1, total: 50 } } });
    // A date-time without an offset is UTC, whatever the server's zone.
    const noOffset = await api.get(`/customers/${id}?asOf=2024-03-09T23:59:59`);
    expect(noOffset.body).toMatchObject({ revision: 1, asOf: '2024-03-09T23:59:59.000Z', state: { status: 'prospect' } });
    const now = await api.latest(`/customers/${id}`);
    expect(now.body).toMatchObject({ id, status: 'churned', company: 'New Co', churnReason: 'budget', churnedAt: '2024-04-10T00:00:00.000Z' });
  });

  it('shows a deal with its stage and amount before later changes', async () => {
    const customerId = await registerCustomer({ occurredAt: '2024-01-01T00:00:00Z' });
    const dealId = randomUUID();
    expect((await api.post('/deals', { id: dealId, customerId, title: 'Past deal', amount: 1000, occurredAt: '2024-01-10T00:00:00Z' })).status).toBe(201);
    expect((await api.post(`/deals/${dealId}/stage`, { stage: 'proposal', occurredAt: '2024-02-10T00:00:00Z' })).status).toBe(200);
    expect((await api.patch(`/deals/${dealId}`, { amount: 2000, occurredAt: '2024-03-10T00:00:00Z' })).status).toBe(200);
    expect((await api.post(`/deals/${dealId}/win`, { occurredAt: '2024-04-10T00:00:00Z' })).status).toBe(200);

    expect((await api.get(`/deals/${dealId}?asOf=2024-01-05T00:00:00Z`)).status).toBe(404);
    const asOf = async (instant: string) => (await api.get(`/deals/${dealId}?asOf=${instant}`)).body;
    expect(await asOf('2024-02-01T00:00:00Z')).toMatchObject({ revision: 0, state: { stage: 'qualification', amount: 1000, status: 'open' } });
    expect(await asOf('2024-03-01T00:00:00Z')).toMatchObject({ revision: 1, state: { stage: 'proposal', amount: 1000, status: 'open' } });
    expect(await asOf('2024-03-15T00:00:00Z')).toMatchObject({ revision: 2, state: { stage: 'proposal', amount: 2000, status: 'open' } });
    expect(await asOf('2024-05-01T00:00:00Z')).toMatchObject({ revision: 3, state: { stage: 'won', amount: 2000, status: 'won', closedAt: '2024-04-10T00:00:00.000Z' } });
  });

  it('refuses an asOf that is not an instant with 400', async () => {
    const customerId = await registerCustomer();
    for (const bad of ['yesterday', '2024-02-30', '2024-W10-1', '']) {
      const res = await api.get(`/customers/${customerId}?asOf=${encodeURIComponent(bad)}`);
      expect([bad, res.status]).toEqual([bad, 400]);
    }
  });
});

describe('audit trail', () => {
  it('pages forwards and backwards with limit, fromRevision and nextRevision', async () => {
    const customerId = await registerCustomer();
    for (let i = 0; i < 6; i++) {
      expect((await api.post(`/customers/${customerId}/interactions`, { type: 'note', direction: 'outbound', subject: `note ${i}` })).status).toBe(201);
    }
    const streamId = `customer-${customerId}`;
    const page = async (query: string) => {
      const res = await client(t, 'service').get(`/streams/${streamId}/events?${query}`);
      expect(res.status).toBe(200);
      return { revisions: res.body.events.map((e: RecordedEvent) => e.streamRevision), next: res.body.nextRevision, direction: res.body.direction };
    };
    expect(await page('limit=3')).toEqual({ revisions: [0, 1, 2], next: 3, direction: 'forwards' });
    expect(await page('limit=3&fromRevision=3')).toEqual({ revisions: [3, 4, 5], next: 6, direction: 'forwards' });
    expect(await page('limit=3&fromRevision=6')).toEqual({ revisions: [6], next: null, direction: 'forwards' });
    expect(await page('limit=3&fromRevision=7')).toEqual({ revisions: [], next: null, direction: 'forwards' });
    expect(await page('')).toEqual({ revisions: [0, 1, 2, 3, 4, 5, 6], next: null, direction: 'forwards' });
    expect(await page('direction=backwards&limit=3')).toEqual({ revisions: [6, 5, 4], next: 3, direction: 'backwards' });
    expect(await page('direction=backwards&limit=3&fromRevision=3')).toEqual({ revisions: [3, 2, 1], next: 0, direction: 'backwards' });
    expect(await page('direction=backwards&limit=3&fromRevision=0')).toEqual({ revisions: [0], next: null, direction: 'backwards' });

    for (const bad of ['limit=0', 'limit=1001', 'limit=x', 'fromRevision=-1', 'fromRevision=1e308', 'direction=sideways', 'unknown=1']) {
      const res = await api.get(`/streams/${streamId}/events?${bad}`);
      expect([bad, res.status]).toEqual([bad, 400]);
    }
    expect((await api.get(`/streams/customer-${randomUUID()}/events`)).status).toBe(404);
    expect((await api.get('/streams/not%20a%20stream/events')).status).toBe(400);
  });
});

describe('operations', () => {
  it('serves an OpenAPI document listing every write route', async () => {
    const res = await request(t.http).get('/docs-json');
    expect(res.status).toBe(200);
    expect(res.body.openapi).toMatch(/^3\./);
    const writes: Array<[string, string]> = [
      ['post', '/customers'],
      ['patch', '/customers/{id}'],
      ['post', '/customers/{id}/churn'],
      ['post', '/customers/{id}/reactivate'],
      ['post', '/customers/{id}/purchases'],
      ['post', '/customers/{id}/interactions'],
      ['post', '/leads'],
      ['post', '/leads/{id}/qualify'],
      ['post', '/leads/{id}/disqualify'],
      ['post', '/leads/{id}/convert'],
      ['post', '/leads/{id}/assign'],
      ['post', '/deals'],
      ['post', '/deals/{id}/stage'],
      ['patch', '/deals/{id}'],
      ['post', '/deals/{id}/win'],
      ['post', '/deals/{id}/lose'],
      ['post', '/campaigns'],
      ['post', '/spend'],
      ['post', '/tasks'],
      ['post', '/tasks/{id}/complete'],
    ];
    for (const [method, path] of writes) {
      expect([method, path, res.body.paths?.[path]?.[method] !== undefined]).toEqual([method, path, true]);
    }
    expect(res.body.paths['/streams/{streamId}/events']?.get).toBeDefined();
  });

  it('answers /health without a key', async () => {
    const res = await request(t.http).get('/health');
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ status: 'ok', info: { eventStore: { status: 'up', headPosition: expect.any(Number) } } });
  });
});

describe('status codes (SPEC §4)', () => {
  describe('400: malformed or invalid requests', () => {
    it('refuses malformed JSON', async () => {
      const res = await expectNothingAppended(t, () => api.raw('post', '/customers', '{"name": "Ada",'));
      expect(res.status).toBe(400);
      expect(res.body).toMatchObject({ statusCode: 400, error: 'Bad Request', correlationId: expect.any(String) });
    });

    it('refuses a body that is not a JSON object', async () => {
      const customerId = await registerCustomer();
      for (const body of ['[]', '[{"name":"Ada"}]', '"Ada"', '42', 'true', 'null']) {
        const res = await expectNothingAppended(t, () => api.raw('post', '/customers', body));
        expect([body, res.status]).toEqual([body, 400]);
        const onExisting = await expectNothingAppended(t, () => api.raw('patch', `/customers/${customerId}`, body));
        expect([body, onExisting.status]).toEqual([body, 400]);
      }
    });


    it('refuses an unknown field, naming it', async () => {
      const res = await expectNothingAppended(t, () => api.post('/customers', { name: 'Ada', favouriteColour: 'green' }));
      expect(res.status).toBe(400);
      expect(res.body.message).toContain('favouriteColour');
      const customerId = await registerCustomer();
      for (const field of ['constructor', 'toString', 'hasOwnProperty']) {
        const sneaky = await expectNothingAppended(t, () => api.raw('patch', `/customers/${customerId}`, `{"company":"X","${field}":"y"}`));
        expect([field, sneaky.status]).toEqual([field, 400]);
        expect(sneaky.body.message).toContain(field);
      }
      const proto = await expectNothingAppended(t, () => api.raw('post', '/customers', '{"name":"x","__proto__":{"admin":true}}'));
      expect(proto.status).toBe(400);
    });

    it('refuses an invalid field, naming it in the message', async () => {
      const customerId = await registerCustomer();
      const cases: Array<[string, string, Record<string, unknown>, string]> = [
        ['post', '/deals', { customerId, title: 'Negative', amount: -1 }, 'amount'],
        ['post', '/deals', { customerId, title: 'Text', amount: '100' }, 'amount'],
        ['post', '/customers', { name: 'Ada', email: 'not-an-email' }, 'email'],
        ['post', '/customers', { name: 'Ada', source: 'Paid Search' }, 'source'],
        ['post', '/customers', { name: 42 }, 'name'],
        ['post', `/customers/${customerId}/interactions`, { type: 'telegram', direction: 'inbound', subject: 'x' }, 'type'],
        ['post', `/customers/${customerId}/purchases`, { amount: 1e300 }, 'amount'],
        ['patch', `/customers/${customerId}`, { name: null }, 'name'],
        ['post', '/tasks', { subject: 'S', dueAt: '2024-02-30' }, 'dueAt'],
        ['post', '/spend', { amount: 1, category: 'travel' }, 'category'],
        ['post', `/customers/${customerId}/churn`, { reason: 'x', expectedRevision: -1 }, 'expectedRevision'],
        ['post', `/customers/${customerId}/churn`, { reason: 'x', expectedRevision: 1e308 }, 'expectedRevision'],
      ];
      for (const [method, url, body, field] of cases) {
        const res = await expectNothingAppended(t, () => (method === 'post' ? api.post(url, body) : api.patch(url, body)));
        expect([url, body, res.status]).toEqual([url, body, 400]);
        expect(res.body.message).toMatch(new RegExp(`^(.*; )?${field}: `));
      }
    });

    it('refuses a body nested deeper than any command needs, before anything walks it', async () => {
      const deep = '{"name":"x","attributes":' + '{"a":'.repeat(10_000) + '1' + '}'.repeat(10_000) + '}';
      const res = await expectNothingAppended(t, () => api.raw('post', '/customers', deep, { 'Idempotency-Key': 'deep' }));
      expect(res.status).toBe(400);
      // Free-form attributes may nest 3 levels (abuse-limits.e2e.spec.ts has their every bound).
      const fine = await api.post('/customers', { name: 'Nested', attributes: { a: { b: [1, 'two', true, null] } } });
      expect(fine.status).toBe(201);
      expect((await t.events(fine.body.streamId))[0].data).toMatchObject({ attributes: { a: { b: [1, 'two', true, null] } } });
    });

    it('refuses a bad If-Match', async () => {
      const customerId = await registerCustomer();
      for (const value of ['abc', '-1', '1.5', '0x1', '']) {
        const res = await expectNothingAppended(t, () => api.patch(`/customers/${customerId}`, { company: 'X' }, { 'If-Match': value }));
        expect([value, res.status]).toEqual([value, 400]);
      }
      // An ETag-style quoted revision is fine.
      expect((await api.patch(`/customers/${customerId}`, { company: 'X' }, { 'If-Match': '"0"' })).status).toBe(200);
      // If-Match and expectedRevision must agree.
      const disagree = await expectNothingAppended(t, () => api.patch(`/customers/${customerId}`, { company: 'Y', expectedRevision: 0 }, { 'If-Match': '1' }));
      expect(disagree.status).toBe(400);
    });

    it('refuses occurredAt more than 5 minutes in the future, and accepts a little clock skew', async () => {
      const tooLate = iso(Date.now() + 10 * 60_000);
      const res = await expectNothingAppended(t, () => api.post('/customers', { name: 'Future', occurredAt: tooLate }));
      expect(res.status).toBe(400);
      expect(res.body.message).toContain('occurredAt');
      const skewed = iso(Date.now() + 2 * 60_000);
      const ok = await api.post('/customers', { name: 'Skewed', occurredAt: skewed });
      expect(ok.status).toBe(201);
      expect((await t.events(ok.body.streamId))[0].occurredAt).toBe(skewed);
      for (const bogus of ['2024-02-30T00:00:00Z', '+275760-09-13T00:00:00Z', 'yesterday', '2024-W10-1', 1700000000000]) {
        const bad = await expectNothingAppended(t, () => api.post('/customers', { name: 'Bogus', occurredAt: bogus }));
        expect([bogus, bad.status]).toEqual([bogus, 400]);
      }
    });

    it('refuses an id that is not a UUID, on commands and on reads', async () => {
      for (const [method, url] of [
        ['patch', '/customers/123'],
        ['post', '/customers/not-a-uuid/churn'],
        ['post', '/deals/123/win'],
        ['post', '/leads/abc/qualify'],
        ['post', '/tasks/1/complete'],
        ['get', '/customers/123'],
        ['get', '/deals/xyz'],
      ] as const) {
        const res = await expectNothingAppended(t, () => (method === 'get' ? api.get(url) : method === 'post' ? api.post(url, { reason: 'x' }) : api.patch(url, {})));
        expect([url, res.status]).toEqual([url, 400]);
      }
      const clientId = await expectNothingAppended(t, () => api.post('/customers', { id: 'my-id', name: 'x' }));
      expect(clientId.status).toBe(400);
      expect(clientId.body.message).toContain('id');
    });

    it('refuses a bad X-Correlation-Id', async () => {
      const res = await expectNothingAppended(t, () => api.post('/customers', { name: 'x' }, { 'X-Correlation-Id': 'x'.repeat(200) }));
      expect(res.status).toBe(400);
    });
  });

  describe('415 and empty bodies: bodies are JSON, and an empty one is no body', () => {
    it('refuses every other content type with 415, a DELETE and a GET included, and appends nothing', async () => {
      const customerId = await registerCustomer();
      const cases: Array<[string, string, string | undefined, Record<string, string>]> = [
        ['post', '/customers', '{"name":"Ada"}', { 'Content-Type': 'text/plain' }],
        ['post', '/customers', 'name=Ada', { 'Content-Type': 'application/x-www-form-urlencoded' }],
        ['post', '/customers', '{"name":"Ada"}', { 'Content-Type': 'application/merge-patch+json' }],
        ['patch', `/customers/${customerId}`, '{"company":"X"}', { 'Content-Type': 'application/merge-patch+json' }],
        ['post', '/customers', '{"name":"Ada"}', { 'Content-Type': 'application/json; charset=iso-8859-1' }],
        ['delete', `/customers/${customerId}/personal-data`, '{}', { 'Content-Type': 'text/plain' }],
        ['delete', `/customers/${customerId}/personal-data`, undefined, { 'Content-Type': 'text/plain' }],
        ['get', `/customers/${customerId}`, undefined, { 'Content-Type': 'text/plain' }],
      ];
      for (const [method, url, body, headers] of cases) {
        const res = await expectNothingAppended(t, async () => {
          const r = request(t.http)[method as 'post'](url).set(t.as('admin')).set(headers);
          return body === undefined ? r : r.send(body);
        });
        expect([method, url, headers, res.status]).toEqual([method, url, headers, 415]);
        expect(res.body).toMatchObject({ statusCode: 415, error: 'Unsupported Media Type', message: expect.stringMatching(/application\/json/), correlationId: expect.any(String) });
      }
      // A body without a Content-Type is no JSON either.
      const untyped = await expectNothingAppended(t, () => rawRequest(t, 'POST', '/customers', { 'Content-Length': '14' }, '{"name":"Ada"}'));
      expect(untyped.status).toBe(415);
      // The customer is still there: the DELETEs above erased nothing.
      expect((await api.latest(`/customers/${customerId}`)).body).toMatchObject({ name: 'Ada Lovelace' });
    });

    it('accepts application/json in any case, with charset=utf-8', async () => {
      for (const type of ['application/json; charset=utf-8', 'Application/JSON', 'application/json;charset="UTF-8"']) {
        const res = await request(t.http).post('/customers').set(t.as('admin')).set('Content-Type', type).send('{"name":"Ada"}');
        expect([type, res.status]).toEqual([type, 201]);
      }
    });

    it("runs the README's win step: curl's POST with Content-Type: application/json and no body", async () => {
      const dealId = await openDeal(await registerCustomer());
      // curl -H 'Content-Type: application/json' -X POST …/win sends neither a body nor a Content-Length.
      const json = { 'Content-Type': 'application/json', 'Idempotency-Key': 'readme-win-1' };
      const won = await rawRequest(t, 'POST', `/deals/${dealId}/win`, json);
      expect([won.status, won.body]).toEqual([200, expect.objectContaining({ streamId: `deal-${dealId}` })]);
      const retry = await rawRequest(t, 'POST', `/deals/${dealId}/win`, json);
      expect(retry.status).toBe(200);
      expect(retry.headers['idempotent-replayed']).toBe('true');
      // Content-Length: 0 is no body as well.
      const other = await openDeal(await registerCustomer());
      expect((await rawRequest(t, 'POST', `/deals/${other}/win`, { 'Content-Type': 'application/json', 'Content-Length': '0' })).status).toBe(200);
      const lead = await captureLead();
      expect((await rawRequest(t, 'POST', `/leads/${lead}/qualify`, { 'Content-Type': 'application/json', 'Content-Length': '0' })).status).toBe(200);
    });

    it('treats an empty JSON body as no body: a body-less DELETE works, a route that needs a body names the missing fields', async () => {
      const customerId = await registerCustomer();
      const erased = await rawRequest(t, 'DELETE', `/customers/${customerId}/personal-data`, { 'Content-Type': 'application/json' });
      expect(erased.status).toBe(200);
      const empty = await expectNothingAppended(t, () => rawRequest(t, 'POST', '/customers', { 'Content-Type': 'application/json', 'Content-Length': '0' }));
      expect(empty.status).toBe(400);
      expect(empty.body.message).toMatch(/^name: /);
      const dealId = await openDeal(await registerCustomer());
      const lose = await expectNothingAppended(t, () => rawRequest(t, 'POST', `/deals/${dealId}/lose`, { 'Content-Type': 'application/json' }));
      expect(lose.status).toBe(400);
      expect(lose.body.message).toMatch(/^reason: /);
    });
  });

  describe('401: no or unknown credentials', () => {
    it('refuses a request without a key or with an unknown one; /health stays open', async () => {
      const customerId = await registerCustomer();
      const noKey = await expectNothingAppended(t, () => request(t.http).post('/customers').send({ name: 'x' }));
      expect(noKey.status).toBe(401);
      const unknown = await expectNothingAppended(t, () => request(t.http).post('/customers').set('Authorization', 'Bearer not-a-known-key-at-all').send({ name: 'x' }));
      expect(unknown.status).toBe(401);
      const basic = await request(t.http).get(`/customers/${customerId}`).set('Authorization', `Basic ${t.keys.admin}`);
      expect(basic.status).toBe(401);
      expect((await request(t.http).get(`/customers/${customerId}`)).status).toBe(401);
      expect((await request(t.http).get(`/streams/customer-${customerId}/events`)).status).toBe(401);
      expect((await request(t.http).get('/health')).status).toBe(200);
    });
  });

  describe('403: the role may not do this', () => {
    it('refuses writes by analyst and service keys, lets the analyst read and the rep write', async () => {
      const customerId = await registerCustomer();
      for (const role of ['analyst', 'service'] as const) {
        const as = client(t, role);
        const writes = [
          () => as.post('/customers', { name: 'x' }),
          () => as.patch(`/customers/${customerId}`, { company: 'x' }),
          () => as.post(`/customers/${customerId}/interactions`, { type: 'note', direction: 'inbound', subject: 'x' }),
          () => as.post('/spend', { amount: 1, category: 'sales' }),
        ];
        for (const write of writes) {
          const res = await expectNothingAppended(t, write);
          expect([role, res.status]).toEqual([role, 403]);
        }
      }
      const read = await client(t, 'analyst').latest(`/customers/${customerId}`);
      expect(read.status).toBe(200);
      expect(read.body.name).toBe('A***'); // analysts see personal fields masked (personal-data.e2e.spec.ts)
      expect((await client(t, 'service').get(`/streams/customer-${customerId}/events`)).status).toBe(200);
      expect((await client(t, 'rep').post('/customers', { name: 'By a rep' })).status).toBe(201);
      expect((await client(t, 'manager').post(`/customers/${customerId}/interactions`, { type: 'note', direction: 'inbound', subject: 'x' })).status).toBe(201);
    });
  });

  describe('404: unknown aggregate', () => {
    it('answers 404 for an unknown customer, deal, lead or task, on commands and reads', async () => {
      const unknown = randomUUID();
      const cases: Array<[string, string, Record<string, unknown> | undefined]> = [
        ['patch', `/customers/${unknown}`, { company: 'x' }],
        ['post', `/customers/${unknown}/churn`, { reason: 'x' }],
        ['post', `/customers/${unknown}/reactivate`, {}],
        ['post', `/customers/${unknown}/purchases`, { amount: 1 }],
        ['post', `/customers/${unknown}/interactions`, { type: 'call', direction: 'inbound', subject: 'x' }],
        ['post', `/deals/${unknown}/stage`, { stage: 'proposal' }],
        ['patch', `/deals/${unknown}`, { amount: 1 }],
        ['post', `/deals/${unknown}/win`, undefined],
        ['post', `/deals/${unknown}/lose`, { reason: 'x' }],
        ['post', `/leads/${unknown}/qualify`, {}],
        ['post', `/leads/${unknown}/disqualify`, { reason: 'x' }],
        ['post', `/leads/${unknown}/convert`, {}],
        ['post', `/leads/${unknown}/assign`, { ownerId: 'u-1' }],
        ['post', `/tasks/${unknown}/complete`, {}],
        ['get', `/customers/${unknown}`, undefined],
        ['get', `/deals/${unknown}`, undefined],
        ['get', `/customers/${unknown}?asOf=2024-01-01T00:00:00Z`, undefined],
        ['get', `/deals/${unknown}?asOf=2024-01-01T00:00:00Z`, undefined],
        ['get', `/customers/${unknown}/timeline`, undefined],
        ['get', `/leads/${unknown}`, undefined],
        ['get', `/tasks/${unknown}`, undefined],
        ['get', `/streams/customer-${unknown}/events`, undefined],
        ['get', `/streams/task-${unknown}/events`, undefined],
      ];
      for (const [method, url, body] of cases) {
        const res = await expectNothingAppended(t, () => (method === 'get' ? api.get(url) : method === 'post' ? api.post(url, body) : api.patch(url, body)));
        expect([method, url, res.status]).toEqual([method, url, 404]);
        expect(res.body).toMatchObject({ statusCode: 404, message: expect.stringContaining(unknown) });
      }
      // Converting an unknown lead must not register a customer either.
      expect(await t.events(`customer-${unknown}`)).toEqual([]);
    }, 30_000); // 24 requests, each also reading the head twice: slow on the EventStoreDB double under load
  });

  describe('409: concurrency conflicts', () => {
    it('refuses a stale If-Match and a stale expectedRevision', async () => {
      const customerId = await registerCustomer();
      expect((await api.patch(`/customers/${customerId}`, { company: 'First' }, { 'If-Match': '0' })).status).toBe(200);
      const staleHeader = await expectNothingAppended(t, () => api.patch(`/customers/${customerId}`, { company: 'Second' }, { 'If-Match': '0' }));
      expect(staleHeader.status).toBe(409);
      expect(staleHeader.body).toMatchObject({ currentRevision: 1 });
      const staleBody = await expectNothingAppended(t, () => api.patch(`/customers/${customerId}`, { company: 'Second', expectedRevision: 0 }));
      expect(staleBody.status).toBe(409);
      const ahead = await expectNothingAppended(t, () => api.post(`/customers/${customerId}/interactions`, { type: 'call', direction: 'inbound', subject: 'x', expectedRevision: 5 }));
      expect(ahead.status).toBe(409);
      const current = await api.patch(`/customers/${customerId}`, { company: 'Second', expectedRevision: 1 });
      expect(current.status).toBe(200);
      expect(current.body.revision).toBe(2);
      const dealId = await openDeal(customerId);
      const staleWin = await expectNothingAppended(t, () => api.post(`/deals/${dealId}/win`, { expectedRevision: 3 }));
      expect(staleWin.status).toBe(409);
    });

    it('refuses to create an aggregate whose client-supplied id exists', async () => {
      const id = randomUUID();
      expect((await api.post('/customers', { id, name: 'Original' })).status).toBe(201);
      const again = await expectNothingAppended(t, () => api.post('/customers', { id, name: 'Impostor' }));
      expect(again.status).toBe(409);
      expect((await t.events(`customer-${id}`)).map((e) => (e.data as { name: string }).name)).toEqual(['Original']);
      const leadId = await captureLead();
      expect((await expectNothingAppended(t, () => api.post('/leads', { id: leadId, name: 'Again', source: 'web' }))).status).toBe(409);
    });
  });

  describe('422: business rules', () => {
    it('refuses each broken rule, appending nothing', async () => {
      const prospect = await registerCustomer();
      const active = await registerCustomer();
      expect((await api.post(`/customers/${active}/purchases`, { amount: 10 })).status).toBe(201);
      const closedDeal = await openDeal(active);
      expect((await api.post(`/deals/${closedDeal}/lose`, { reason: 'price' })).status).toBe(200);
      const openDealId = await openDeal(active);
      const convertedLead = await captureLead();
      expect((await api.post(`/leads/${convertedLead}/convert`, {})).status).toBe(200);
      const doneTask = await createTask({ customerId: active });
      expect((await api.post(`/tasks/${doneTask}/complete`, { outcome: 'done' })).status).toBe(200);

      const cases: Array<[string, string, string, Record<string, unknown>]> = [
        ['churn a prospect', 'post', `/customers/${prospect}/churn`, { reason: 'x' }],
        ['reactivate an active customer', 'post', `/customers/${active}/reactivate`, {}],
        ['move a closed deal', 'post', `/deals/${closedDeal}/stage`, { stage: 'proposal' }],
        ['change the amount of a closed deal', 'patch', `/deals/${closedDeal}`, { amount: 5 }],
        ['win a lost deal', 'post', `/deals/${closedDeal}/win`, {}],
        ['an unknown stage', 'post', `/deals/${openDealId}/stage`, { stage: 'demo' }],
        ['close a deal through a stage', 'post', `/deals/${openDealId}/stage`, { stage: 'won' }],
        ['open a deal in an unknown stage', 'post', '/deals', { customerId: active, title: 'x', amount: 1, stage: 'demo' }],
        ['disqualify a converted lead', 'post', `/leads/${convertedLead}/disqualify`, { reason: 'x' }],
        ['complete a task twice', 'post', `/tasks/${doneTask}/complete`, {}],
        ['spend on an unknown campaign', 'post', '/spend', { amount: 5, category: 'marketing', campaignId: randomUUID() }],
        ['a deal for an unknown customer', 'post', '/deals', { customerId: randomUUID(), title: 'x', amount: 1 }],
        ['a task on an unknown deal', 'post', '/tasks', { subject: 'x', dueAt: '2030-01-01', dealId: randomUUID() }],
        ["a deal change before the deal's last one in business time", 'patch', `/deals/${openDealId}`, { amount: 9, occurredAt: '2001-01-01T00:00:00Z' }],
        ['churn before the acquisition in business time', 'post', `/customers/${active}/churn`, { reason: 'x', occurredAt: '2001-01-01T00:00:00Z' }],
      ];
      for (const [rule, method, url, body] of cases) {
        const res = await expectNothingAppended(t, () => (method === 'post' ? api.post(url, body) : api.patch(url, body)));
        expect([rule, res.status]).toEqual([rule, 422]);
        expect(res.body).toMatchObject({ statusCode: 422, error: 'Unprocessable Entity', code: expect.any(String), message: expect.any(String) });
      }
    });
  });
});
