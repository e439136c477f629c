import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, startApiProcess, stopProcess } from '../support/api-process';
import { WebhookReceiver } from '../support/webhook-receiver';

/**
 * A process SIGKILLed while a delivery is on the wire: the next holder of the webhooks role resumes
 * from the subscription's checkpoint, so the batch in flight is delivered again and nothing is lost.
 */

jest.setTimeout(120_000);

const key = `webhook-crash-${randomBytes(12).toString('hex')}`;
let dir: string;
let port: number;
let api: ChildProcess | undefined;
const receiver = new WebhookReceiver();

const start = () =>
  startApiProcess({
    env: {
      DATA_DIR: join(dir, 'data'),
      API_KEYS: `${key}:crash-manager:manager`,
      PORT: String(port),
      LOG_LEVEL: 'warn',
      AUTOMATION: 'off',
      WEBHOOK_ALLOWED_HOSTS: '127.0.0.1',
      WEBHOOK_TIMEOUT_MS: '30000',
      WEBHOOK_BATCH_SIZE: '4',
    },
  });

const call = async (method: string, path: string, body?: unknown) => {
  const res = await fetch(`http://127.0.0.1:${port}${path}`, {
    method,
    headers: { Authorization: `Bearer ${key}`, 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return (await res.json()) as Record<string, any>;
};

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'chronicle-webhook-crash-'));
  port = await freePort();
  await receiver.start();
});
afterAll(async () => {
  if (api && api.exitCode === null) api.kill('SIGKILL');
  await receiver.stop();
  rmSync(dir, { recursive: true, force: true });
});

it('redelivers the batch that was in flight when the holder was killed, and every later event', async () => {
  receiver.answer = () => 'hang';
  api = await start();
  const subscription = await call('POST', '/webhooks', { url: receiver.url('/crash') });
  receiver.secrets.set(subscription.id as string, subscription.secret as string);
  for (let i = 0; i < 10; i++) await call('POST', '/customers', { name: `Customer ${i}`, source: 'web' });
  // The first batch is on the wire, unanswered: kill the process that sent it.
  await receiver.waitUntil(() => receiver.received.length >= 1, 20_000, 'the first delivery');
  const inFlight = receiver.received[0].events.map((e) => e.eventId);
  api.kill('SIGKILL');
  await new Promise((resolve) => api!.once('exit', resolve));

  receiver.answer = () => 'ok';
  api = await start();
  const all = ((await call('GET', '/events?limit=1000')).events as Array<{ eventId: string }>).map((e) => e.eventId);
  expect(all).toHaveLength(10);
  await receiver.waitUntil(() => receiver.firstReceptions('/crash').length === all.length, 30_000, 'every event');
  expect(receiver.firstReceptions('/crash').map((e) => e.eventId)).toEqual(all);
  // The killed batch came again (duplicates from it only), signed as the first time.
  const again = receiver.received.filter((r) => r.answer === 'ok').flatMap((r) => r.events.map((e) => e.eventId));
  expect(again.slice(0, inFlight.length)).toEqual(inFlight);
  expect(again).toEqual(all);
  expect(receiver.received.every((r) => r.signatureValid)).toBe(true);
  await stopProcess(api);
});
