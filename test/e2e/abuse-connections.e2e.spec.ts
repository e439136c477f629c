import { Logger } from '@nestjs/common';
import request from 'supertest';
import { expectNothingAppended } from '../support/http';
import { listen, rawClient, RawClient, statusOf } from '../support/raw-http';
import { startTestApp, TestApp } from '../support/test-app';

// What unauthenticated and slow clients may cost (issue 13, item 3): a request without a valid key
// is answered before its body is read; slow headers and bodies are cut off; connections are capped;
// requests without a valid key are limited per address, and their log lines sampled.
const HEADERS_TIMEOUT_MS = 500;
const REQUEST_TIMEOUT_MS = 1_500;
const MAX_CONNECTIONS = 12;

let t: TestApp;
let port: number;
const sockets: RawClient[] = [];
const open = async () => {
  const client = await rawClient(port);
  sockets.push(client);
  return client;
};

beforeAll(async () => {
  t = await startTestApp({
    env: {
      HTTP_HEADERS_TIMEOUT_MS: String(HEADERS_TIMEOUT_MS),
      HTTP_REQUEST_TIMEOUT_MS: String(REQUEST_TIMEOUT_MS),
      HTTP_MAX_CONNECTIONS: String(MAX_CONNECTIONS),
    },
  });
  port = await listen(t.http);
});
afterEach(() => {
  for (const s of sockets.splice(0)) s.socket.destroy();
});
afterAll(async () => {
  await t?.close();
});

const MIB = 1024 * 1024;
const head = (method: string, path: string, headers: Record<string, string | number>) =>
  `${method} ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\n${Object.entries(headers)
    .map(([k, v]) => `${k}: ${v}\r\n`)
    .join('')}\r\n`;

describe('authentication before the body', () => {
  it.each([
    ['no key', {}],
    ['an unknown key', { Authorization: 'Bearer not-a-known-key-at-all' }],
  ])('answers 401 to a ~1 MiB body with %s while the client is still sending it, and closes the connection', async (_label, auth) => {
    const before = await t.store.headPosition();
    const client = await open();
    await client.write(head('POST', '/customers', { ...auth, 'Content-Type': 'application/json', 'Content-Length': MIB - 100 }));
    await client.write(`{"name":"${'x'.repeat(16 * 1024)}`); // 16 KiB of the 1 MiB: the rest is never sent
    const response = await client.waitFor(/\r\n\r\n\{.*\}$/s, 3_000);
    expect(statusOf(response)).toBe(401);
    expect(response).toMatch(/^connection: close\r$/im);
    expect(JSON.parse(response.slice(response.indexOf('\r\n\r\n') + 4))).toMatchObject({ statusCode: 401, error: 'Unauthorized' });
    await client.closed(3_000);
    expect(await t.store.headPosition()).toBe(before);
  });

  it('waits for the body of a request with a valid key (the 401 above did not)', async () => {
    const body = JSON.stringify({ name: 'Slow but authenticated' });
    const client = await open();
    await client.write(
      head('POST', '/customers', { ...t.as('admin'), 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) }),
    );
    await client.write(body.slice(0, 10));
    await new Promise((r) => setTimeout(r, 300));
    expect(client.received()).toBe('');
    await client.write(body.slice(10));
    expect(statusOf(await client.waitFor(/\r\n\r\n\{.*\}$/s))).toBe(201);
  });

  it('keeps /health and the OpenAPI document open without a key; an unknown route is a 401 too', async () => {
    expect((await request(t.http).get('/health')).status).toBe(200);
    expect((await request(t.http).head('/health')).status).toBe(200);
    expect((await request(t.http).get('/docs-json')).status).toBe(200);
    expect((await request(t.http).get('/docs')).status).toBe(200);
    expect((await request(t.http).get('/no-such-route')).status).toBe(401);
    expect((await request(t.http).get('/no-such-route').set(t.as('admin'))).status).toBe(404);
  });
});

describe('timeouts and the connection cap', () => {
  it('closes a connection whose headers trickle in, after HTTP_HEADERS_TIMEOUT_MS (408)', async () => {
    const client = await open();
    await client.write('GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n'); // and never the blank line
    const after = await client.closed(HEADERS_TIMEOUT_MS + 3_000);
    expect(after).toBeGreaterThanOrEqual(HEADERS_TIMEOUT_MS - 50);
    expect(statusOf(client.received())).toBe(408);
  });

  it('closes a silent connection after HTTP_HEADERS_TIMEOUT_MS', async () => {
    const client = await open();
    const after = await client.closed(HEADERS_TIMEOUT_MS + 3_000);
    expect(after).toBeGreaterThanOrEqual(HEADERS_TIMEOUT_MS - 50);
  });

  it('closes an authenticated request whose body trickles in, after HTTP_REQUEST_TIMEOUT_MS (408), and appends nothing', async () => {
    await expectNothingAppended(t, async () => {
      const client = await open();
      await client.write(head('POST', '/customers', { ...t.as('admin'), 'Content-Type': 'application/json', 'Content-Length': 100 }));
      await client.write('{"name":"');
      const after = await client.closed(REQUEST_TIMEOUT_MS + 3_000);
      expect(after).toBeGreaterThanOrEqual(REQUEST_TIMEOUT_MS - 50);
      expect(statusOf(client.received())).toBe(408);
    });
  });

  it('holds at most HTTP_MAX_CONNECTIONS connections: the next one is closed at once, and a freed slot is used again', async () => {
    // Kept-alive connections that have each completed a request (so no timeout closes them meanwhile).
    const held: RawClient[] = [];
    for (let i = 0; i < MAX_CONNECTIONS; i++) {
      const client = await open();
      await client.write(head('GET', '/health', {}));
      expect(statusOf(await client.waitFor(/\r\n\r\n\{.*\}$/s))).toBe(200);
      held.push(client);
    }
    const over = await open(); // the TCP handshake is the kernel's; the server closes it at once
    await over.write(head('GET', '/health', {}));
    await over.closed(2_000);
    expect(over.received()).toBe('');

    held[0].socket.destroy();
    await held[0].closed();
    await new Promise((r) => setTimeout(r, 50));
    const again = await open();
    await again.write(head('GET', '/health', { Connection: 'close' }));
    expect(statusOf(await again.waitFor(/\r\n\r\n\{.*\}$/s))).toBe(200);
  });
});

describe('requests without a valid key, per address', () => {
  let limited: TestApp;
  const LIMIT = 5;
  beforeAll(async () => {
    limited = await startTestApp({ env: { UNAUTHENTICATED_LIMIT_PER_MINUTE: String(LIMIT) } });
  });
  afterAll(async () => {
    await limited?.close();
  });

  it('answers 429 with Retry-After past UNAUTHENTICATED_LIMIT_PER_MINUTE, logs one line per address, never the key; valid keys go on', async () => {
    const warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    try {
      const badKey = 'not-a-known-key-but-secret-looking';
      const statuses: number[] = [];
      for (let i = 0; i < LIMIT + 3; i++) {
        const res = await request(limited.http)
          .get('/reports')
          .set('Authorization', `Bearer ${badKey}`)
          .set('X-Correlation-Id', `flood-${i}`);
        statuses.push(res.status);
        if (res.status === 429) {
          expect(Number(res.headers['retry-after'])).toBeGreaterThan(0);
          expect(res.body).toMatchObject({ statusCode: 429, message: expect.stringContaining(`at most ${LIMIT} per minute`) });
        }
      }
      expect(statuses).toEqual([...Array(LIMIT).fill(401), 429, 429, 429]);
      // Without any key too, from the same address.
      expect((await request(limited.http).post('/customers').send({ name: 'x' })).status).toBe(429);
      // A valid key is never limited by this: it has its own budget (RATE_LIMIT_PER_MINUTE).
      expect((await request(limited.http).get('/reports').set(limited.as('analyst'))).status).toBe(200);
      expect((await request(limited.http).get('/health')).status).toBe(200);

      const lines = warn.mock.calls.map((call) => String(call[0])).filter((line) => / actor=- /.test(line));
      expect(lines).toEqual(['401 GET /reports actor=- ip=127.0.0.1 correlationId=flood-0']);
      const all = warn.mock.calls.map((call) => String(call[0])).join('\n');
      expect(all).not.toContain(badKey);
      for (const key of Object.values(limited.keys)) expect(all).not.toContain(key);
    } finally {
      warn.mockRestore();
    }
  });
});
