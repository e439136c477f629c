import { client, expectNothingAppended } from '../support/http';
import { sessionHelpers, types } from '../support/session';
import { startTestApp, TestApp } from '../support/test-app';

/**
 * Idempotency-Key: a retried command answers its first result and appends nothing (docs/http-api.md).
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
    const otherBody = await expectNothingAppended(t, () =>
      api.post('/customers', { name: 'Someone Else' }, { 'Idempotency-Key': 'reused-key' }),
    );
    expect(otherBody.status).toBe(422);
    expect(otherBody.body.message).toContain('reused-key');
    const otherRoute = await expectNothingAppended(t, () =>
      api.post(
        `/customers/${first.body.id}/interactions`,
        { type: 'note', direction: 'inbound', subject: 'x' },
        { 'Idempotency-Key': 'reused-key' },
      ),
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
