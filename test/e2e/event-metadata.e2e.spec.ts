import { randomUUID } from 'node:crypto';
import { schemaVersionOf } from '@chronicle/domain';
import { client, UUID } from '../support/http';
import { startTestApp, TestApp } from '../support/test-app';

/**
 * The metadata every stored event carries (docs/domain.md): actor, correlation and causation ids,
 * business and server time, schema version, event id and position.
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
    // The audit trail shows the same metadata, and the version as stored (docs/schema-evolution.md).
    const trail = await client(t, 'service').get(`/streams/${res.body.streamId}/events`);
    expect(trail.status).toBe(200);
    expect(trail.body.events).toEqual([{ ...event, storedSchemaVersion: 1, upcast: false }]);
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
      const res = await (method === 'post'
        ? api.post(url, { ...body, occurredAt: past }, headers)
        : api.patch(url, { ...body, occurredAt: past }, headers));
      expect([method, url, res.status]).toEqual([method, url, status]);
      const [last] = await t.store.readStream(res.body.streamId, { direction: 'backwards', maxCount: 1 });
      expect(last).toMatchObject({
        streamRevision: res.body.revision,
        globalPosition: res.body.position,
        occurredAt: past,
        actor: t.actors.admin,
        correlationId: headers['X-Correlation-Id'],
        causationId: headers['X-Correlation-Id'],
        schemaVersion: schemaVersionOf(last.type),
        eventId: expect.stringMatching(UUID),
      });
      // Written at the current version: nothing was upcast.
      expect(last.storedSchemaVersion).toBeUndefined();
      expect(Date.now() - Date.parse(last.recordedAt)).toBeLessThan(60_000);
    }
  });
});
