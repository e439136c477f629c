import { ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { randomUUID } from 'node:crypto';
import type { RecordedEvent } from '@chronicle/event-store';
import { makeKeys } from '../support/test-app';

/**
 * Durability of acknowledged writes: the real server (a child process, SQLITE_SYNCHRONOUS=FULL) is
 * SIGKILLed while commands are in flight and restarted on the same DATA_DIR; every command that was
 * answered 2xx must be there, at the revision and position it was acknowledged with.
 */

jest.setTimeout(60_000);

const ROOT = resolve(__dirname, '../..');
const { keys, env: API_KEYS } = makeKeys();

async function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolvePort(port));
    });
  });
}

interface Server {
  child: ChildProcess;
  base: string;
  output: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

async function startServer(dataDir: string): Promise<Server> {
  const port = await freePort();
  const child = spawn(process.execPath, ['-r', '@swc-node/register', 'apps/api/src/main.ts'], {
    cwd: ROOT,
    env: {
      ...process.env,
      DATA_DIR: dataDir,
      API_KEYS,
      PORT: String(port),
      HOST: '127.0.0.1',
      SQLITE_SYNCHRONOUS: 'FULL',
      LOG_LEVEL: 'error',
      KAFKA_BROKERS: '',
      EVENT_STORE: 'sqlite',
      READ_STORE: 'embedded',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk) => (output += chunk));
  child.stderr.on('data', (chunk) => (output += chunk));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((done) =>
    child.once('exit', (code, signal) => done({ code, signal })),
  );
  const base = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 30_000;
  while (!output.includes('Chronicle is listening on')) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`server exited before listening:\n${output}`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`server did not start within 30 s:\n${output}`);
    }
    await new Promise((r) => setTimeout(r, 25));
  }
  return { child, base, output: () => output, exited };
}

const running = new Set<Server>();
const dirs: string[] = [];
afterAll(async () => {
  for (const server of running) {
    server.child.kill('SIGKILL');
    await server.exited;
  }
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

async function launch(dataDir: string): Promise<Server> {
  const server = await startServer(dataDir);
  running.add(server);
  void server.exited.then(() => running.delete(server));
  return server;
}

function tempDataDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'chronicle-restart-'));
  dirs.push(dir);
  return dir;
}

interface Ack {
  id: string;
  streamId: string;
  revision: number;
  position: number;
}

async function call(server: Server, method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> {
  const res = await fetch(`${server.base}${path}`, {
    method,
    headers: { Authorization: `Bearer ${keys.admin}`, ...(body === undefined ? {} : { 'Content-Type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

async function streamEvents(server: Server, streamId: string): Promise<RecordedEvent[]> {
  const events: RecordedEvent[] = [];
  let from: number | null = 0;
  while (from !== null) {
    const res = await call(server, 'GET', `/streams/${streamId}/events?limit=1000&fromRevision=${from}`);
    expect(res.status).toBe(200);
    events.push(...res.body.events);
    from = res.body.nextRevision;
  }
  return events;
}

/** Every acknowledged write is in its stream at the acknowledged revision and position; streams have no gaps. */
async function expectAllAcknowledged(server: Server, acks: Array<Ack & { check: (e: RecordedEvent) => void }>): Promise<void> {
  const byStream = new Map<string, typeof acks>();
  for (const ack of acks) byStream.set(ack.streamId, [...(byStream.get(ack.streamId) ?? []), ack]);
  for (const [streamId, streamAcks] of byStream) {
    const events = await streamEvents(server, streamId);
    expect(events.map((e) => e.streamRevision)).toEqual(events.map((_, i) => i));
    for (const ack of streamAcks) {
      const event = events[ack.revision];
      expect(event).toBeDefined();
      expect({ streamId, revision: event.streamRevision, position: event.globalPosition }).toEqual({
        streamId,
        revision: ack.revision,
        position: ack.position,
      });
      ack.check(event);
    }
  }
}

describe('durability across restarts', () => {
  it('keeps every acknowledged command when the server is SIGKILLed with requests in flight', async () => {
    const dataDir = tempDataDir();
    const server = await launch(dataDir);
    const acks: Array<Ack & { check: (e: RecordedEvent) => void }> = [];

    const customers: string[] = [];
    for (let i = 0; i < 10; i++) {
      const res = await call(server, 'POST', '/customers', { name: `Durable ${i}`, source: 'web' });
      expect(res.status).toBe(201);
      customers.push(res.body.id);
      acks.push({ ...res.body, check: (e) => expect(e).toMatchObject({ type: 'CustomerRegistered', data: { name: `Durable ${i}` } }) });
    }

    // A stream of mixed commands, many in flight at once, until the process is killed.
    let killed = false;
    let failedInFlight = 0;
    let failure: unknown;
    const kinds = ['interaction', 'customer', 'spend', 'interaction'] as const;
    const worker = async (w: number) => {
      for (let i = 0; !killed; i++) {
        const kind = kinds[(w + i) % kinds.length];
        const marker = randomUUID();
        try {
          if (kind === 'interaction') {
            const customerId = customers[(w * 7 + i) % customers.length];
            const res = await call(server, 'POST', `/customers/${customerId}/interactions`, {
              type: 'call',
              direction: 'outbound',
              subject: marker,
            });
            if (res.status !== 201) throw new Error(`unexpected ${res.status}: ${JSON.stringify(res.body)}`);
            acks.push({
              ...res.body,
              check: (e) => expect(e).toMatchObject({ type: 'InteractionLogged', data: { interactionId: res.body.id, subject: marker } }),
            });
          } else if (kind === 'customer') {
            const res = await call(server, 'POST', '/customers', { name: marker, source: 'referral' });
            if (res.status !== 201) throw new Error(`unexpected ${res.status}: ${JSON.stringify(res.body)}`);
            acks.push({ ...res.body, check: (e) => expect(e).toMatchObject({ type: 'CustomerRegistered', data: { name: marker } }) });
          } else {
            const res = await call(server, 'POST', '/spend', {
              amount: 1,
              category: 'marketing',
              channel: 'durability',
              description: marker,
            });
            if (res.status !== 201) throw new Error(`unexpected ${res.status}: ${JSON.stringify(res.body)}`);
            acks.push({
              ...res.body,
              check: (e) => expect(e).toMatchObject({ type: 'SpendRecorded', data: { spendId: res.body.id, description: marker } }),
            });
          }
        } catch (error) {
          if (!killed) failure ??= error;
          else failedInFlight++; // no answer: the process died with this request in flight
          return;
        }
      }
    };
    const workers = Array.from({ length: 32 }, (_, w) => worker(w));
    const acknowledgedBefore = acks.length;
    const deadline = Date.now() + 20_000;
    while (acks.length < acknowledgedBefore + 300 && failure === undefined && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 5));
    killed = true;
    server.child.kill('SIGKILL');
    await Promise.all(workers);
    expect(failure).toBeUndefined();
    expect(acks.length).toBeGreaterThanOrEqual(acknowledgedBefore + 300);
    expect(await server.exited).toEqual({ code: null, signal: 'SIGKILL' });
    expect(failedInFlight).toBeGreaterThan(0); // the kill really hit requests in flight

    const restarted = await launch(dataDir);
    await expectAllAcknowledged(restarted, acks);
    // The store carries on after the last acknowledged position.
    const maxAcked = Math.max(...acks.map((a) => a.position));
    const health = (await fetch(`${restarted.base}/health`).then((r) => r.json())) as { info: { eventStore: { headPosition: number } } };
    expect(health.info.eventStore.headPosition).toBeGreaterThanOrEqual(maxAcked);
    const after = await call(restarted, 'POST', `/customers/${customers[0]}/interactions`, {
      type: 'note',
      direction: 'inbound',
      subject: 'after the crash',
    });
    expect(after.status).toBe(201);
    expect(after.body.position).toBeGreaterThan(maxAcked);
    restarted.child.kill('SIGKILL');
    await restarted.exited;
  });

  it('keeps all data across a clean restart', async () => {
    const dataDir = tempDataDir();
    const server = await launch(dataDir);
    const customer = await call(server, 'POST', '/customers', { name: 'Clean Restart', company: 'Stable Inc', source: 'web' });
    expect(customer.status).toBe(201);
    const customerId = customer.body.id as string;
    const deal = await call(server, 'POST', '/deals', { customerId, title: 'Renewal', amount: 5000 });
    expect(deal.status).toBe(201);
    expect((await call(server, 'POST', `/deals/${deal.body.id}/stage`, { stage: 'proposal' })).status).toBe(200);
    const won = await call(server, 'POST', `/deals/${deal.body.id}/win`);
    expect(won.status).toBe(200);
    // Folded from the streams (at an instant after every write) and the read models (once they
    // have reached the head): both must come back identical after the restart.
    const asOf = new Date(Date.now() + 60_000).toISOString();
    const head = async (s: Server) =>
      ((await fetch(`${s.base}/health`).then((r) => r.json())) as { info: { eventStore: { headPosition: number } } }).info.eventStore
        .headPosition;
    const views = async (s: Server) => ({
      customer: await call(s, 'GET', `/customers/${customerId}?asOf=${asOf}`),
      deal: await call(s, 'GET', `/deals/${deal.body.id}?asOf=${asOf}`),
      customerModel: await call(s, 'GET', `/customers/${customerId}?minPosition=${await head(s)}`),
      dealModel: await call(s, 'GET', `/deals/${deal.body.id}?minPosition=${await head(s)}`),
    });
    const before = {
      ...(await views(server)),
      customerTrail: await streamEvents(server, `customer-${customerId}`),
      dealTrail: await streamEvents(server, `deal-${deal.body.id}`),
    };
    expect(before.customer.body.state).toMatchObject({ status: 'active', company: 'Stable Inc' });
    expect(before.deal.body.state).toMatchObject({ status: 'won', amount: 5000 });
    expect(before.customerModel.body).toMatchObject({
      status: 'active',
      company: 'Stable Inc',
      totals: { wonDeals: { count: 1, amount: 5000 } },
    });
    expect(before.dealModel.body).toMatchObject({ status: 'won', amount: 5000 });

    server.child.kill('SIGTERM');
    await server.exited;

    const restarted = await launch(dataDir);
    const after = await views(restarted);
    expect(after).toEqual({
      customer: before.customer,
      deal: before.deal,
      customerModel: before.customerModel,
      dealModel: before.dealModel,
    });
    expect(await streamEvents(restarted, `customer-${customerId}`)).toEqual(before.customerTrail);
    expect(await streamEvents(restarted, `deal-${deal.body.id}`)).toEqual(before.dealTrail);
    // Still exactly one acquisition after the process manager replayed the feed on start.
    await new Promise((r) => setTimeout(r, 300));
    expect((await streamEvents(restarted, `customer-${customerId}`)).filter((e) => e.type === 'CustomerAcquired')).toHaveLength(1);
    // Writes carry on with the revision the client last saw.
    const next = await call(restarted, 'PATCH', `/customers/${customerId}`, {
      company: 'Still Stable',
      expectedRevision: before.customer.body.revision,
    });
    expect(next.status).toBe(200);
    expect(next.body.revision).toBe(before.customer.body.revision + 1);
    restarted.child.kill('SIGTERM');
    await restarted.exited;
  });
});
