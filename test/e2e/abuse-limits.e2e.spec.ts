import { Logger } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import { client, expectNothingAppended } from '../support/http';
import { startTestApp, TestApp } from '../support/test-app';
import { BODY_LIMIT_BYTES } from '../../apps/api/src/app.factory';

// Abuse limits: requests per minute per API key (429 with Retry-After), the body size limit
// (413), bounded free-form fields, security headers, error bodies without internals, and the audit
// of denied requests. Unauthenticated and slow clients: abuse-connections.e2e.spec.ts.
let t: TestApp;
const keysDir = mkdtempSync(join(tmpdir(), 'chronicle-keys-'));
// Two keys handed to one actor (say, two services of one team): each key has its own budget.
const shared = [`shared-a-${randomBytes(12).toString('hex')}`, `shared-b-${randomBytes(12).toString('hex')}`];

beforeAll(async () => {
  const file = join(keysDir, 'keys.json');
  writeFileSync(file, JSON.stringify(shared.map((key) => ({ key, actor: 'shared-rep', role: 'rep' }))));
  t = await startTestApp({ env: { RATE_LIMIT_PER_MINUTE: '5', API_KEYS_FILE: file } });
});
afterAll(async () => {
  await t?.close();
  rmSync(keysDir, { recursive: true, force: true });
});

it('audits denied requests (401, 403) with actor, route and correlation id, never the key', async () => {
  const warn = jest.spyOn(Logger.prototype, 'warn');
  try {
    await request(t.http).get('/reports').set('X-Correlation-Id', 'audit-401');
    await client(t, 'service').post('/customers', { name: 'x' }, { 'X-Correlation-Id': 'audit-403' });
    const lines = warn.mock.calls.map((call) => String(call[0]));
    expect(lines).toEqual(
      expect.arrayContaining([
        '401 GET /reports actor=- ip=127.0.0.1 correlationId=audit-401',
        `403 POST /customers actor=${t.actors.service} role=service correlationId=audit-403`,
      ]),
    );
    for (const key of Object.values(t.keys)) expect(lines.join('\n')).not.toContain(key);
  } finally {
    warn.mockRestore();
  }
});

it('limits each API key to RATE_LIMIT_PER_MINUTE requests, with 429 and Retry-After; other keys and /health go on', async () => {
  const warn = jest.spyOn(Logger.prototype, 'warn');
  try {
    const rep = client(t, 'rep');
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) statuses.push((await rep.get('/customers')).status); // reps have no reports
    expect(statuses).toEqual([200, 200, 200, 200, 200]);

    const limited = await expectNothingAppended(t, () =>
      rep.post('/customers', { name: 'Over the limit' }, { 'X-Correlation-Id': 'audit-429' }),
    );
    expect(limited.status).toBe(429);
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    expect(limited.body).toMatchObject({ statusCode: 429, message: expect.stringContaining('5 requests per minute per API key') });
    // The key's next 429s within the minute are counted, not logged one by one.
    for (let i = 0; i < 5; i++) expect((await rep.get('/customers')).status).toBe(429);
    const lines = warn.mock.calls.map((call) => String(call[0])).filter((line) => line.startsWith('429 '));
    expect(lines).toEqual([`429 POST /customers actor=${t.actors.rep} role=rep correlationId=audit-429`]);

    expect((await client(t, 'analyst').get('/reports')).status).toBe(200); // another key has its own budget
    for (let i = 0; i < 10; i++) expect((await request(t.http).get('/health')).status).toBe(200);
    // A request without a valid key is a 401, whatever the budgets.
    expect((await request(t.http).get('/reports').set('Authorization', 'Bearer nope-nope-nope-nope')).status).toBe(401);
  } finally {
    warn.mockRestore();
  }
});

it('counts per API key, not per actor: two keys of one actor have a budget each; a 403 counts too', async () => {
  const [a, b] = shared.map((key) => ({ Authorization: `Bearer ${key}` }));
  for (let i = 0; i < 4; i++) expect((await request(t.http).get('/customers').set(a)).status).toBe(200);
  expect((await request(t.http).get('/reports/pipeline').set(a)).status).toBe(403); // a rep sees only its own figures: refused, and counted
  expect((await request(t.http).get('/customers').set(a)).status).toBe(429);
  // Same actor, other key: untouched budget.
  for (let i = 0; i < 5; i++) expect((await request(t.http).get('/customers').set(b)).status).toBe(200);
  expect((await request(t.http).get('/customers').set(b)).status).toBe(429);
});

describe('bounded bodies', () => {
  // A fresh app: the budgets of the one above are used up.
  let u: TestApp;
  let api: ReturnType<typeof client>;
  beforeAll(async () => {
    u = await startTestApp();
    api = client(u, 'admin');
  });
  afterAll(async () => {
    await u?.close();
  });

  it('refuses a body over the size limit with 413 and appends nothing', async () => {
    const big = JSON.stringify({ name: 'x'.repeat(BODY_LIMIT_BYTES + 1) });
    const res = await expectNothingAppended(u, () => api.raw('post', '/customers', big));
    expect(res.status).toBe(413);
    expect(res.body.statusCode).toBe(413);
  });

  it('refuses 110,000 attributes (942 KB) quickly with a 400 naming the field and the limit, while /health answers', async () => {
    const attributes = Object.fromEntries(Array.from({ length: 110_000 }, (_, i) => [i.toString(36), i % 10]));
    const body = JSON.stringify({ name: 'Ada', attributes });
    expect(body.length).toBeGreaterThan(900_000);
    expect(body.length).toBeLessThan(BODY_LIMIT_BYTES);
    const started = Date.now();
    const [res, health] = await Promise.all([
      expectNothingAppended(u, () => api.raw('post', '/customers', body)),
      (async () => {
        await new Promise((r) => setTimeout(r, 20));
        const at = Date.now();
        const h = await request(u.http).get('/health');
        return { status: h.status, ms: Date.now() - at };
      })(),
    ]);
    const ms = Date.now() - started;
    expect(res.status).toBe(400);
    // Refused from the text, before it is parsed: the scan stops at the 101st key.
    expect(res.body.message).toBe('attributes: attributes must have at most 100 keys and array items in all, at every level');
    // It took 7 s, and /health waited as long (class-transformer's copy is quadratic in the keys).
    expect(ms).toBeLessThan(2_000);
    expect(health).toEqual({ status: 200, ms: expect.any(Number) });
    expect(health.ms).toBeLessThan(2_000);
  });

  it('accepts a maximal legal body (every field at its longest, attributes at every limit)', async () => {
    const attributes = Object.fromEntries(Array.from({ length: 100 }, (_, i) => [String(i).padStart(64, 'k'), 'v'.repeat(1000)]));
    const body = {
      name: 'N'.repeat(200),
      email: `${'e'.repeat(60)}@example.com`,
      phone: '1'.repeat(50),
      company: 'C'.repeat(200),
      industry: 'i'.repeat(100),
      region: 'r'.repeat(100),
      source: 's'.repeat(64),
      ownerId: 'o'.repeat(200),
      attributes,
    };
    const res = await api.post('/customers', body);
    expect(res.status).toBe(201);
    expect((await u.events(res.body.streamId))[0].data).toMatchObject({ attributes });
    const lead = await api.post('/leads', { name: 'Lead', source: 'web', attributes: { nested: { list: [1, 'two', true, null] } } });
    expect(lead.status).toBe(201);
  });

  it('names each limit of a free-form field, on every route that takes one', async () => {
    const customer = (await api.post('/customers', { name: 'Ada' })).body.id as string;
    const cases: Array<[string, Record<string, unknown>, RegExp]> = [
      ['101 keys', Object.fromEntries(Array.from({ length: 101 }, (_, i) => [`k${i}`, i])), /at most 100 keys and array items/],
      ['a long list', { list: Array(100).fill('x') }, /at most 100 keys and array items/],
      ['4 levels', { a: { b: { c: { d: 1 } } } }, /not be nested more than 3 levels deep/],
      ['a 65-character key', { ['k'.repeat(65)]: 1 }, /keys must be at most 64 characters/],
      ['a 1,001-character string', { notes: 'x'.repeat(1001) }, /string values must be at most 1000 characters/],
    ];
    for (const [label, attributes, problem] of cases) {
      for (const [method, url, extra] of [
        ['post', '/customers', { name: 'Ada' }],
        ['patch', `/customers/${customer}`, {}],
        ['post', '/leads', { name: 'Lead', source: 'web' }],
      ] as const) {
        const res = await expectNothingAppended(u, () =>
          method === 'post' ? api.post(url, { ...extra, attributes }) : api.patch(url, { ...extra, attributes }),
        );
        expect([label, url, res.status]).toEqual([label, url, 400]);
        expect([label, url, res.body.message]).toEqual([
          label,
          url,
          expect.stringMatching(new RegExp(`^attributes: attributes .*${problem.source}`)),
        ]);
      }
    }
  });

  it('bounds every other object or array in a body, and lists at most 20 problems', async () => {
    const list = await expectNothingAppended(u, () => api.post('/customers', { name: Array(5_000).fill('x') }));
    expect(list.status).toBe(400);
    expect(list.body.message).toMatch(/^name: name must have at most 100 keys and array items/);
    // 100 fields pass the text's bound; the pipe lists 20 of the 99 unknown ones.
    const unknown = Object.fromEntries(Array.from({ length: 99 }, (_, i) => [`field${i}`, 1]));
    const many = await expectNothingAppended(u, () => api.post('/customers', { name: 'Ada', ...unknown }));
    expect(many.status).toBe(400);
    expect(many.body.fields).toHaveLength(20);
    expect(many.body.message).toMatch(/; and 79 more fields$/);
    const tooMany = await expectNothingAppended(u, () => api.post('/customers', { name: 'Ada', ...unknown, one: 1, two: 2 }));
    expect([tooMany.status, tooMany.body.message]).toEqual([400, 'body: must have at most 100 fields']);
    // A 400-element array nested in an otherwise valid structure is refused from the text as well.
    const nested = await expectNothingAppended(u, () =>
      api.post('/goals', { kpi: 'winRate', target: 0.3, deadline: '2030-01-01T00:00:00Z', segment: { owner: Array(400).fill('x') } }),
    );
    expect([nested.status, nested.body.message]).toEqual([
      400,
      expect.stringMatching(/^segment: segment must have at most 100 keys and array items/),
    ]);
  });
});

it('sends security headers and never a stack trace', async () => {
  const res = await request(t.http).get('/health');
  expect(res.headers['x-content-type-options']).toBe('nosniff');
  expect(res.headers['strict-transport-security']).toMatch(/max-age=\d+/);
  expect(res.headers['x-frame-options']).toBe('SAMEORIGIN');
  expect(res.headers['x-powered-by']).toBeUndefined();
  const bad = await client(t, 'manager').raw('post', '/customers', '{"name":');
  expect(bad.status).toBe(400);
  expect(JSON.stringify(bad.body)).not.toMatch(/at .*\.(js|ts):\d+/);
  // A 401 answered before the body is read carries them too.
  const denied = await request(t.http).post('/customers').send({ name: 'x' });
  expect(denied.status).toBe(401);
  expect(denied.headers['x-content-type-options']).toBe('nosniff');
});
