import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, startApiProcess, stopProcess as stop } from '../support/api-process';
import { runChronicle } from '../support/cli';

/**
 * `chronicle projections rebuild` right after the server stopped: it rebuilds at once in its own
 * process (the stopped projector said so in its heartbeat) instead of asking a projector that is
 * gone and waiting 30 s, and it leaves no request behind for the next start to execute unasked.
 */

jest.setTimeout(180_000);

const key = `cli-test-${randomBytes(12).toString('hex')}`;
let dir: string;
let port: number;
const env = () => ({
  ...process.env,
  DATA_DIR: join(dir, 'data'),
  API_KEYS: `${key}:cli-admin:admin`,
  LOG_LEVEL: 'warn',
  PORT: String(port),
  AUTOMATION: 'off',
});

const startApi = () => startApiProcess({ env: env() });

const api = async (path: string, init: RequestInit = {}) => {
  const res = await fetch(`http://127.0.0.1:${port}${path}`, {
    ...init,
    headers: { Authorization: `Bearer ${key}`, 'Content-Type': 'application/json', ...init.headers },
  });
  return { status: res.status, body: (await res.json()) as Record<string, any> };
};

const cli = (...args: string[]) => runChronicle(args, env());

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'chronicle-cli-'));
  port = await freePort();
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

it('rebuilds in its own process at once after a clean stop, and no later start rebuilds again', async () => {
  let server = await startApi();
  const created = await api('/customers', { method: 'POST', body: JSON.stringify({ name: 'Ada Lovelace', source: 'web' }) });
  expect(created.status).toBe(201);
  const generation = async () =>
    (await api('/projections')).body.projections.find((p: { name: string }) => p.name === 'customers').generation as number;
  expect(await generation()).toBe(1);
  await stop(server);

  const rebuilt = await cli('projections', 'rebuild', 'customers');
  expect([rebuilt.code, rebuilt.stderr.includes('within 30 s')]).toEqual([0, false]);
  expect(rebuilt.stdout).toContain('customers: generation 2 live');
  expect(rebuilt.stdout).not.toContain('rebuild requested from the running projector');
  // No wait for a projector that is gone (it used to be 30 s); swc's start-up is most of this.
  expect(rebuilt.ms).toBeLessThan(25_000);

  server = await startApi();
  try {
    // Rebuild requests are polled every second: a request left behind would have started by now.
    await new Promise((r) => setTimeout(r, 3000));
    expect(await generation()).toBe(2);
    expect((await api(`/customers/${created.body.id}`)).status).toBe(200);
  } finally {
    await stop(server);
  }
});
