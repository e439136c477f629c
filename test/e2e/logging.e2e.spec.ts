import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, startApiProcess, stopProcess } from '../support/api-process';

/**
 * Logs (docs/operations.md, "Logs"): the API as a process in production mode writes JSON lines,
 * one per request with method, route pattern, status, duration, actor and correlation id, and
 * never an API key or a customer's personal data, whatever the session does with them.
 */
describe('logs', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'chronicle-logs-'));
  const adminKey = `log-test-admin-${Date.now().toString(36)}-secretvalue`;
  const wrongKey = `log-test-wrong-${Date.now().toString(36)}-othersystemkey`;
  const email = `ada.lovelace.${Date.now().toString(36)}@example.com`;
  let output = '';
  let child: ChildProcess | undefined;
  let url = '';

  beforeAll(async () => {
    const port = await freePort();
    url = `http://127.0.0.1:${port}`;
    child = await startApiProcess({
      env: {
        PORT: String(port),
        HOST: '127.0.0.1',
        DATA_DIR: dataDir,
        API_KEYS: `${adminKey}:ada-admin:admin`,
        LOG_LEVEL: 'debug',
        NODE_ENV: 'production',
        LOG_FORMAT: '',
      },
      onOutput: (text) => (output += text),
    });
  }, 120_000);

  afterAll(async () => {
    await stopProcess(child);
    rmSync(dataDir, { recursive: true, force: true });
  });

  const send = (method: string, path: string, key: string | undefined, body?: unknown, headers: Record<string, string> = {}) =>
    fetch(url + path, {
      method,
      headers: { ...(key ? { authorization: `Bearer ${key}` } : {}), ...(body ? { 'content-type': 'application/json' } : {}), ...headers },
      body: body === undefined ? undefined : JSON.stringify(body),
    });

  it('writes JSON request lines without keys or personal data', async () => {
    const created = await send(
      'POST',
      '/customers',
      adminKey,
      { name: 'Ada Lovelace', email, source: 'web' },
      { 'x-correlation-id': 'corr-logs-1' },
    );
    expect(created.status).toBe(201);
    const { id } = (await created.json()) as { id: string };
    expect((await send('GET', `/customers/${id}?minPosition=0`, adminKey)).status).toBe(200);
    expect((await send('GET', `/customers?email=${encodeURIComponent(email)}`, adminKey)).status).toBeLessThan(500);
    // A wrong key (401), the email in a field that refuses it (400), in the query of an unknown route (404),
    // as the Authorization header itself, and a bad correlation id.
    expect((await send('GET', `/customers/${id}`, wrongKey)).status).toBe(401);
    expect((await send('POST', '/customers', adminKey, { name: 'Ada', email, source: email, phone: { email } })).status).toBe(400);
    expect((await send('PATCH', `/customers/${id}`, adminKey, { email: `${email}@@not-an-email` })).status).toBe(400);
    expect((await send('GET', `/nowhere?email=${encodeURIComponent(email)}&key=${adminKey}`, adminKey)).status).toBe(404);
    expect((await send('GET', '/customers', email)).status).toBe(401);
    expect((await send('GET', '/customers', adminKey, undefined, { 'x-correlation-id': `bad id ${email}` })).status).toBe(400);
    await new Promise((r) => setTimeout(r, 300));

    const lines = output.split('\n').filter((line) => line.trim() !== '');
    // Every line is JSON (no ANSI colours, no banner in another format).
    const parsed = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    // eslint-disable-next-line no-control-regex
    expect(output).not.toMatch(/\x1b\[/);
    const requests = parsed.filter((line) => line.msg === 'request');
    expect(requests.find((line) => line.correlationId === 'corr-logs-1')).toMatchObject({
      level: 'info',
      app: 'api',
      method: 'POST',
      route: '/customers',
      status: 201,
      actor: 'ada-admin',
      durationMs: expect.any(Number),
    });
    expect(requests.find((line) => line.status === 401 && line.route === '/customers/:id')).toMatchObject({
      method: 'GET',
      actor: '-',
      correlationId: expect.any(String),
    });
    expect(requests.find((line) => line.status === 404)).toMatchObject({ route: '(unmatched)', actor: 'ada-admin' });
    // The 401's Access line is bound to the request's correlation id too.
    const denied = requests.find((line) => line.status === 401)!;
    expect(parsed.some((line) => line.context === 'Access' && line.correlationId === denied.correlationId)).toBe(true);

    // Never a key, never the email (whole or its local part), never a customer's name.
    expect(output).not.toContain(adminKey);
    expect(output).not.toContain(wrongKey);
    expect(output).not.toContain(email);
    expect(output).not.toContain(email.split('@')[0]);
    expect(output).not.toContain('Lovelace');
    expect(output.toLowerCase()).not.toContain('bearer');
  }, 60_000);
});
