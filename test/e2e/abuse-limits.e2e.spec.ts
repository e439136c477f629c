import { Logger } from '@nestjs/common';
import request from 'supertest';
import { client, expectNothingAppended } from '../support/http';
import { startTestApp, TestApp } from '../support/test-app';
import { BODY_LIMIT_BYTES } from '../../apps/api/src/app.factory';

// Abuse limits: requests per minute per API key (429 with Retry-After), the body size limit
// (413), security headers, and error bodies without internals.
let t: TestApp;

beforeAll(async () => {
  t = await startTestApp({ env: { RATE_LIMIT_PER_MINUTE: '5' } });
});
afterAll(async () => {
  await t?.close();
});

it('limits each API key to RATE_LIMIT_PER_MINUTE requests, with 429 and Retry-After; other keys and /health go on', async () => {
  const rep = client(t, 'rep');
  const statuses: number[] = [];
  for (let i = 0; i < 5; i++) statuses.push((await rep.get('/customers')).status); // reps have no reports
  expect(statuses).toEqual([200, 200, 200, 200, 200]);

  const limited = await expectNothingAppended(t, () => rep.post('/customers', { name: 'Over the limit' }));
  expect(limited.status).toBe(429);
  expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
  expect(limited.body).toMatchObject({ statusCode: 429, message: expect.stringContaining('5 requests per minute per API key') });

  expect((await client(t, 'analyst').get('/reports')).status).toBe(200); // another key has its own budget
  for (let i = 0; i < 10; i++) expect((await request(t.http).get('/health')).status).toBe(200);
  // A request without a valid key is a 401, whatever the budgets.
  expect((await request(t.http).get('/reports').set('Authorization', 'Bearer nope-nope-nope-nope')).status).toBe(401);
});

it('refuses a body over the size limit with 413 and appends nothing', async () => {
  const admin = client(t, 'admin');
  const big = JSON.stringify({ name: 'x'.repeat(BODY_LIMIT_BYTES + 1) });
  const res = await expectNothingAppended(t, () => admin.raw('post', '/customers', big));
  expect(res.status).toBe(413);
  expect(res.body.statusCode).toBe(413);
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
});

it('audits every denied request (401, 403, 429) with actor, route and correlation id, never the key', async () => {
  const warn = jest.spyOn(Logger.prototype, 'warn');
  try {
    await request(t.http).get('/reports').set('X-Correlation-Id', 'audit-401');
    await client(t, 'service').post('/customers', { name: 'x' }, { 'X-Correlation-Id': 'audit-403' });
    await client(t, 'rep').get('/customers', { 'X-Correlation-Id': 'audit-429' }); // its budget is used up above
    const lines = warn.mock.calls.map((call) => String(call[0]));
    expect(lines).toEqual(
      expect.arrayContaining([
        '401 GET /reports actor=- correlationId=audit-401',
        `403 POST /customers actor=${t.actors.service} role=service correlationId=audit-403`,
        `429 GET /customers actor=${t.actors.rep} role=rep correlationId=audit-429`,
      ]),
    );
    for (const key of Object.values(t.keys)) expect(lines.join('\n')).not.toContain(key);
  } finally {
    warn.mockRestore();
  }
});
