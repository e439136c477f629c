import { client } from '../support/http';
import { startTestApp, TestApp } from '../support/test-app';
import { ReceivedEnvelope, WebhookReceiver } from '../support/webhook-receiver';

/**
 * Webhooks (docs/webhooks.md): signed deliveries of the feed to a local receiver that fails, hangs,
 * goes down and comes back while events flow; every event arrives, in order per stream, duplicates
 * only from retries; dead letters after the configured attempts; replay; pause; isolation; the
 * SSRF policy.
 */

jest.setTimeout(60_000);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Fast retries, a short timeout, small batches: the faults below play out in seconds. */
const env = (maxAttempts: number) => ({
  AUTOMATION: 'off',
  WEBHOOK_ALLOWED_HOSTS: '127.0.0.1',
  WEBHOOK_MAX_ATTEMPTS: String(maxAttempts),
  WEBHOOK_RETRY_BASE_MS: '50',
  WEBHOOK_RETRY_MAX_MS: '200',
  WEBHOOK_TIMEOUT_MS: '400',
  WEBHOOK_BATCH_SIZE: '5',
});

async function subscribe(t: TestApp, receiver: WebhookReceiver, path: string, filters: Record<string, unknown> = {}) {
  const created = await client(t, 'manager').post('/webhooks', { url: receiver.url(path), ...filters });
  expect(created.status).toBe(201);
  receiver.secrets.set(created.body.id, created.body.secret);
  return created.body as { id: string; secret: string };
}

/** Waits until the subscription's checkpoint has reached the head (every event delivered or passed over). */
async function caughtUp(t: TestApp, id: string, timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const head = await t.store.headPosition();
    const view = await client(t, 'manager').get(`/webhooks/${id}`);
    if (view.body.checkpoint >= head && view.body.lag === 0) return view.body;
    if (Date.now() > deadline) throw new Error(`webhook ${id} at ${view.body.checkpoint}, head ${head}`);
    await sleep(100);
  }
}

describe('delivery under faults', () => {
  let t: TestApp;
  const receiver = new WebhookReceiver();
  beforeAll(async () => {
    await receiver.start();
    t = await startTestApp({ env: env(100) });
  });
  afterAll(async () => {
    await t?.close();
    await receiver.stop();
  });

  it('delivers every event, in order per stream, signed, while the receiver fails, hangs and restarts', async () => {
    const manager = client(t, 'manager');
    const subscription = await subscribe(t, receiver, '/all');
    // Events flow while the receiver misbehaves: 503s, then no answer at all, then down, then back.
    const writes = (async () => {
      for (let i = 0; i < 12; i++) {
        const customer = (await manager.post('/customers', { name: `Customer ${i}`, email: `c${i}@example.com`, source: 'web' })).body.id;
        await manager.post(`/customers/${customer}/interactions`, { type: 'call', subject: `Call ${i}` });
        await sleep(60);
      }
    })();
    const phases: Array<['ok' | 'fail' | 'hang' | 'down', number]> = [
      ['ok', 200],
      ['fail', 400],
      ['ok', 150],
      ['hang', 900],
      ['down', 600],
      ['ok', 0],
    ];
    for (const [phase, ms] of phases) {
      if (phase === 'down') await receiver.stop();
      else {
        if (!receiver.port || (await fetch(receiver.url('/ping')).catch(() => undefined)) === undefined) await receiver.start();
        receiver.answer = () => phase;
      }
      await sleep(ms);
    }
    await writes;
    await caughtUp(t, subscription.id);

    const all = (await t.store.readAll({ fromPosition: 0, maxCount: 10_000 })).events;
    const first = receiver.firstReceptions('/all');
    // Every event, exactly the store's, first received in the store's order (so in order per stream).
    expect(first.map((e) => e.eventId)).toEqual(all.map((e) => e.eventId));
    const revisions = new Map<string, number>();
    for (const e of first) {
      expect(e.streamRevision).toBe((revisions.get(e.streamId) ?? -1) + 1);
      revisions.set(e.streamId, e.streamRevision);
    }
    const deliveries = receiver.received.filter((r) => r.path === '/all');
    expect(deliveries.every((r) => r.signatureValid)).toBe(true);
    // Every body as the published contract describes it (docs/asyncapi.json, WebhookDelivery).
    expect(deliveries.flatMap((r) => r.contractProblems)).toEqual([]);
    // Faults happened, and every duplicate comes from a retry of a batch (a later attempt, same delivery id).
    const failed = deliveries.filter((r) => r.answer !== 'ok');
    expect(failed.length).toBeGreaterThan(0);
    const okOnce = new Set<string>();
    for (const r of deliveries.filter((d) => d.answer === 'ok')) {
      expect(okOnce.has(r.deliveryId)).toBe(false);
      okOnce.add(r.deliveryId);
    }
    const counts = new Map<string, number>();
    for (const r of deliveries) for (const e of r.events) counts.set(e.eventId, (counts.get(e.eventId) ?? 0) + 1);
    const duplicates = [...counts.values()].reduce((n, c) => n + c - 1, 0);
    expect(duplicates).toBe(failed.reduce((n, r) => n + r.events.length, 0));
    // Personal fields travel sealed, as on Kafka.
    expect(JSON.stringify(deliveries)).not.toContain('c0@example.com');
    expect(first.find((e) => e.type === 'CustomerRegistered')?.data.sealed).toBeDefined();
  });

  it('replays from a position, pauses and resumes', async () => {
    const manager = client(t, 'manager');
    const subscription = await subscribe(t, receiver, '/replay', { categories: ['deal'] });
    const customer = (await manager.post('/customers', { name: 'Deal Customer', source: 'web' })).body.id;
    const deal = (await manager.post('/deals', { customerId: customer, title: 'Licence', amount: 100 })).body;
    await receiver.waitUntil(() => receiver.firstReceptions('/replay').length === 1);
    expect(receiver.firstReceptions('/replay').map((e) => e.type)).toEqual(['DealOpened']);

    const paused = await manager.patch(`/webhooks/${subscription.id}`, { status: 'paused' });
    expect(paused.body.status).toBe('paused');
    await sleep(700); // the holder reads the subscriptions every 500 ms
    await manager.post(`/deals/${deal.id}/win`);
    await sleep(1_200);
    expect(receiver.received.filter((r) => r.path === '/replay').flatMap((r) => r.events.map((e) => e.type))).toEqual(['DealOpened']);
    await manager.patch(`/webhooks/${subscription.id}`, { status: 'active' });
    await receiver.waitUntil(() => receiver.firstReceptions('/replay').length === 2);

    const before = receiver.received.filter((r) => r.path === '/replay').length;
    const replay = await manager.post(`/webhooks/${subscription.id}/replay`, { fromPosition: deal.position - 1 });
    expect(replay.status).toBe(202);
    await receiver.waitUntil(
      () =>
        receiver.received
          .filter((r) => r.path === '/replay')
          .slice(before)
          .flatMap((r) => r.events).length >= 2,
    );
    const again = receiver.received
      .filter((r) => r.path === '/replay')
      .slice(before)
      .flatMap((r) => r.events.map((e: ReceivedEnvelope) => e.type));
    expect(again).toEqual(['DealOpened', 'DealWon']);
    const past = await manager.post(`/webhooks/${subscription.id}/replay`, { fromPosition: 10_000_000 });
    expect([past.status, past.body.message]).toEqual([400, expect.stringMatching(/^fromPosition: 10000000 is past the head of the feed/)]);
  });

  it('a hanging receiver holds back its own subscription only', async () => {
    const manager = client(t, 'manager');
    receiver.answer = (path) => (path === '/slow' ? 'hang' : 'ok');
    await subscribe(t, receiver, '/slow', { categories: ['task'] });
    await subscribe(t, receiver, '/fast', { categories: ['task'] });
    const started = Date.now();
    await manager.post('/tasks', { subject: 'Follow up', dueAt: '2030-01-01T00:00:00Z' });
    await receiver.waitUntil(() => receiver.firstReceptions('/fast').length === 1);
    expect(Date.now() - started).toBeLessThan(3_000);
    expect(receiver.received.some((r) => r.path === '/slow')).toBe(true);
    expect(receiver.firstReceptions('/slow')).toHaveLength(0);
    receiver.answer = () => 'ok';
  });
});

describe('dead letters, redirects and the address policy', () => {
  let t: TestApp;
  const receiver = new WebhookReceiver();
  beforeAll(async () => {
    await receiver.start();
    t = await startTestApp({ env: env(2) });
  });
  afterAll(async () => {
    await t?.close();
    await receiver.stop();
  });

  it('after the configured attempts a batch becomes a dead letter with the last status and error; a retry delivers it', async () => {
    const manager = client(t, 'manager');
    receiver.answer = (path) => (path === '/broken' ? 'fail' : 'ok');
    const subscription = await subscribe(t, receiver, '/broken', { eventTypes: ['CampaignLaunched'] });
    const launched = await manager.post('/campaigns', { name: 'Spring', channel: 'webinar' });
    const view = await caughtUp(t, subscription.id);
    expect(view.deadLetters).toEqual([
      {
        id: expect.any(String),
        subscriptionId: subscription.id,
        events: 1,
        fromPosition: launched.body.position,
        toPosition: launched.body.position,
        attempts: 2,
        lastStatus: 503,
        lastError: 'HTTP 503',
        failedAt: expect.any(String),
      },
    ]);
    expect(receiver.received.filter((r) => r.path === '/broken').map((r) => r.attempt)).toEqual([1, 2]);
    const metrics = (await client(t, 'admin').get('/metrics')).text;
    expect(metrics).toContain(`chronicle_webhook_dead_letters{subscription="${subscription.id}"} 1`);
    expect(metrics).toContain(`chronicle_webhook_failed_attempts{subscription="${subscription.id}"} 2`);
    expect(metrics).toContain(`chronicle_role_lag_events{role="webhook:${subscription.id}"} 0`);

    const failedAgain = await manager.post(`/webhooks/${subscription.id}/dead-letters/${view.deadLetters[0].id}/retry`);
    expect(failedAgain.body).toMatchObject({ delivered: false, attempts: 3, lastStatus: 503 });
    receiver.answer = () => 'ok';
    const retried = await manager.post(`/webhooks/${subscription.id}/dead-letters/${view.deadLetters[0].id}/retry`);
    expect(retried.body).toEqual({ delivered: true, status: 204, attempts: 4 });
    expect((await manager.get(`/webhooks/${subscription.id}`)).body.deadLetters).toEqual([]);
    const last = receiver.received.at(-1)!;
    expect([last.deliveryId, last.signatureValid, last.events.map((e) => e.globalPosition)]).toEqual([
      view.deadLetters[0].id,
      true,
      [launched.body.position],
    ]);
  });

  it('does not follow redirects', async () => {
    const manager = client(t, 'manager');
    receiver.answer = (path) => (path === '/moved' ? 'redirect' : 'ok');
    const subscription = await subscribe(t, receiver, '/moved', { eventTypes: ['SpendRecorded'] });
    await manager.post('/spend', { amount: 10, category: 'marketing', channel: 'web' });
    const view = await caughtUp(t, subscription.id);
    expect(view.deadLetters.map((l: { lastStatus: number; lastError: string }) => [l.lastStatus, l.lastError])).toEqual([
      [302, 'redirects are not followed (302)'],
    ]);
    expect(receiver.received.some((r) => r.path === '/redirected')).toBe(false);
  });

  it('refuses URLs to private, loopback and link-local addresses that WEBHOOK_ALLOWED_HOSTS does not name', async () => {
    const manager = client(t, 'manager');
    for (const url of ['http://10.0.0.1/hook', 'http://169.254.169.254/latest', 'http://[::1]:8080/', 'http://127.0.0.2/']) {
      const refused = await manager.post('/webhooks', { url });
      expect([url, refused.status, refused.body.message]).toEqual([
        url,
        400,
        expect.stringMatching(/^url: .* is not a public address; WEBHOOK_ALLOWED_HOSTS/),
      ]);
    }
    const localhost = await manager.post('/webhooks', { url: 'http://localhost:9/' });
    expect(localhost.body.message).toBe('url: localhost is a loopback name; WEBHOOK_ALLOWED_HOSTS must name it');
    for (const [body, message] of [
      [{ url: 'ftp://example.com/' }, 'url: must be an http or https URL'],
      [{ url: 'https://u:p@example.com/' }, 'url: must not carry credentials (sign with the secret instead)'],
      [{ url: receiver.url('/x'), eventTypes: ['DealWonn'] }, expect.stringContaining('eventTypes: each must be one of the event types')],
      [{ url: receiver.url('/x'), secret: 'short' }, expect.stringContaining('secret')],
    ] as const) {
      const refused = await manager.post('/webhooks', body);
      expect([refused.status, JSON.stringify(refused.body.message)]).toEqual([
        400,
        expect.stringContaining(typeof message === 'string' ? message : ''),
      ]);
      if (typeof message !== 'string') expect(refused.body.message).toEqual(message);
    }
  });

  it('answers junk in every field with a 400 naming it, never a 5xx, and keeps nothing', async () => {
    const manager = client(t, 'manager');
    const before = (await manager.get('/webhooks')).body.webhooks.length;
    const junk: unknown[] = [
      null,
      0,
      -1,
      Number.POSITIVE_INFINITY,
      true,
      '',
      ' ',
      'x'.repeat(5000),
      [],
      [null],
      ['x'],
      {},
      { $gt: '' },
      '\u0000',
    ];
    const bodies = [
      ...['url', 'eventTypes', 'categories', 'secret', 'unknownField', 'constructor'].flatMap((field) =>
        junk.map((value) => ({ url: receiver.url('/junk'), [field]: value })),
      ),
      ...junk.map((url) => ({ url })),
    ];
    for (const body of bodies) {
      const res = await manager.post('/webhooks', body);
      // Some junk is acceptable as a value (an empty filter list): those create a subscription.
      expect([JSON.stringify(body).slice(0, 80), res.status < 500]).toEqual([JSON.stringify(body).slice(0, 80), true]);
      if (res.status === 201) await manager.delete(`/webhooks/${res.body.id}`);
      else expect([res.status, typeof res.body.message]).toEqual([400, 'string']);
    }
    const created = await subscribe(t, receiver, '/junk');
    for (const value of junk) {
      for (const field of ['url', 'status', 'eventTypes']) {
        const res = await manager.patch(`/webhooks/${created.id}`, { [field]: value });
        expect(res.status).toBeLessThan(500);
      }
      const replay = await manager.post(`/webhooks/${created.id}/replay`, { fromPosition: value });
      expect(replay.status).toBe(value === 0 ? 202 : 400);
    }
    await manager.delete(`/webhooks/${created.id}`);
    expect((await manager.get('/webhooks')).body.webhooks).toHaveLength(before);
  });

  it('is for managers and admins; the secret is shown once; PATCH changes, DELETE removes', async () => {
    const manager = client(t, 'manager');
    for (const role of ['rep', 'analyst', 'service'] as const)
      expect([role, (await client(t, role).get('/webhooks')).status]).toEqual([role, 403]);
    const created = await subscribe(t, receiver, '/crud', { eventTypes: ['DealWon'], secret: 'my-own-secret-0123456789' });
    expect(created.secret).toBe('my-own-secret-0123456789');
    const listed = await manager.get('/webhooks');
    expect(JSON.stringify(listed.body)).not.toContain('my-own-secret');
    expect((await client(t, 'admin').get(`/webhooks/${created.id}`)).body).toMatchObject({
      id: created.id,
      eventTypes: ['DealWon'],
      status: 'active',
    });
    const changed = await manager.patch(`/webhooks/${created.id}`, { eventTypes: [], categories: ['deal'] });
    expect(changed.body).toMatchObject({ categories: ['deal'] });
    expect(changed.body.eventTypes).toBeUndefined();
    expect((await manager.delete(`/webhooks/${created.id}`)).status).toBe(204);
    expect((await manager.get(`/webhooks/${created.id}`)).status).toBe(404);
    expect((await manager.delete(`/webhooks/${created.id}`)).status).toBe(404);
  });
});
