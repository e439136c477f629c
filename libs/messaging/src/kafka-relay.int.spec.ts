import { ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { RecordedEvent, SqliteEventStore } from '@chronicle/event-store';
import { SqliteStateStore } from '@chronicle/cluster';
import { SEALED_EVENT_STORE } from '@chronicle/infrastructure';
import {
  assertBrokerReachable,
  brokerIsLocalTestServer,
  brokersFromEnv,
  checkDelivery,
  collect,
  Collector,
  deleteTopics,
  DeliveryReport,
  describeDelivery,
  ReceivedRecord,
  kafkaScript,
  uniquePrefix,
} from '../../../test/support/kafka-test';
import request from 'supertest';
import { startTestApp, TestApp } from '../../../test/support/test-app';
import { loadView, WonDealsConsumer } from '../../../examples/consumer/won-deals';
import { ContractValidator } from '../../../examples/consumer/contract';
import { topicForCategory } from './envelope';
import { DEFAULT_RELAY_CHECKPOINT, KafkaRelay } from './kafka-relay';
import { prng } from '../../../test/support/prng';

/**
 * The relay (docs/kafka.md) against a real Apache Kafka broker (KAFKA_BROKERS, default 127.0.0.1:19092 from
 * test/support/servers/kafka.sh): every event arrives at least once, in revision order per key,
 * with the pinned envelope — also across a broker outage and a SIGKILLed relay. The suites run
 * in this one file so that the broker is only stopped while nothing else of ours uses it.
 */
const ROOT = join(__dirname, '..', '..', '..');
const CATEGORIES = ['customer', 'lead', 'deal', 'campaign', 'task'];
const brokers = brokersFromEnv();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function makeStreams(count: number): string[] {
  return Array.from({ length: count }, (_, i) => `${CATEGORIES[i % CATEGORIES.length]}-${randomUUID()}`);
}

/** Appends `count` events to random streams, one append each (FIFO: positions follow the calls). */
async function appendRandom(store: SqliteEventStore, streams: string[], count: number, random: () => number): Promise<void> {
  const appends: Array<Promise<unknown>> = [];
  for (let i = 0; i < count; i++) {
    const streamId = streams[Math.floor(random() * streams.length)];
    const correlationId = randomUUID();
    appends.push(
      store.append(streamId, [
        {
          eventId: randomUUID(),
          type: i % 3 === 0 ? 'TestNoteAdded' : 'TestAmountChanged',
          schemaVersion: 1 + (i % 2),
          data: { i, amount: Math.round(random() * 1e6) / 100, note: `note ${i} ✓ "quoted"` },
          metadata: {
            occurredAt: new Date(Date.UTC(2024, 0, 1) + i * 1000).toISOString(),
            actor: `rep-${i % 7}`,
            correlationId,
            causationId: correlationId,
            ...(i % 5 === 0 ? { idempotencyKey: `k-${i}` } : {}),
          },
        },
      ]),
    );
  }
  await Promise.all(appends);
}

async function allEvents(store: SqliteEventStore): Promise<RecordedEvent[]> {
  const events: RecordedEvent[] = [];
  let position = 0;
  for (;;) {
    const page = await store.readAll({ fromPosition: position, maxCount: 5000 });
    events.push(...page.events);
    position = page.checkpoint;
    if (page.isEnd) return events;
  }
}

function expectDelivered(report: DeliveryReport): void {
  expect(report.unexpected).toEqual([]);
  expect(report.missing).toEqual([]);
  expect(report.orderViolations).toEqual([]);
  expect(report.splitKeys).toEqual([]);
  expect(report.malformed).toEqual([]);
}

/** Consumes the prefix's topics from the beginning with a fresh group until every stored event arrived. */
async function consumeAll(
  prefix: string,
  stored: RecordedEvent[],
  timeoutMs: number,
): Promise<DeliveryReport & { records: ReceivedRecord[] }> {
  const collector = await collect(
    brokers,
    CATEGORIES.map((c) => topicForCategory(c, prefix)),
    `${prefix}-check`,
  );
  try {
    await collector.waitForUnique(stored.length, timeoutMs);
    await sleep(300); // late duplicates of the last page, if any
    return { ...checkDelivery(stored, collector.records, prefix), records: collector.records };
  } finally {
    await collector.stop();
  }
}

const log = (message: string) => process.stdout.write(`${message}\n`);

beforeAll(async () => {
  await assertBrokerReachable(brokers);
}, 30_000);

describe('Kafka relay: 10,000 events across 200 streams (catch-up, then live)', () => {
  const prefix = uniquePrefix('relay');
  let dir: string;
  let store: SqliteEventStore;
  let state: SqliteStateStore;
  let relay: KafkaRelay;
  let collector: Collector | undefined;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'chronicle-relay-int-'));
    store = new SqliteEventStore({ filename: join(dir, 'events.db'), synchronous: 'NORMAL' });
    state = new SqliteStateStore(join(dir, 'state.db'));
  });

  afterAll(async () => {
    await collector?.stop().catch(() => undefined);
    await relay?.stop();
    await store.close();
    await state.close();
    await deleteTopics(brokers, prefix);
    rmSync(dir, { recursive: true, force: true });
  }, 60_000);

  it('delivers every event at least once, in revision order per key, with the envelope and headers', async () => {
    const started = Date.now();
    const random = prng(20_240_101);
    const streams = makeStreams(200);
    await appendRandom(store, streams, 5_000, random);

    relay = new KafkaRelay(store, state, {
      brokers,
      topicPrefix: prefix,
      batchSize: 500,
      log: (level, m) => level !== 'debug' && log(`[relay ${level}] ${m}`),
    });
    await relay.start();
    collector = await collect(
      brokers,
      CATEGORIES.map((c) => topicForCategory(c, prefix)),
      `${prefix}-group`,
    );

    // Live: the other half arrives while the relay and the consumer run.
    for (let i = 0; i < 20; i++) {
      await appendRandom(store, streams, 250, random);
      await sleep(20);
    }
    const head = await store.headPosition();
    expect(head).toBe(10_000);
    await relay.waitFor(head, 60_000);
    await collector.waitForUnique(10_000, 60_000);
    await sleep(300);

    const stored = await allEvents(store);
    expect(new Set(stored.map((e) => e.streamId)).size).toBe(200);
    const report = checkDelivery(stored, collector.records, prefix);
    log(describeDelivery(`relay 10k (${((Date.now() - started) / 1000).toFixed(1)} s)`, report));
    expectDelivered(report);
    expect((await state.checkpoints()).find((c) => c.name === DEFAULT_RELAY_CHECKPOINT)?.position).toBe(head);
    expect(await relay.status()).toMatchObject({ connected: true, lag: 0, checkpoint: head });

    // The relay created the topics itself, with the configured partitions; keys spread over them.
    const admin = new Kafka({ brokers, logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
    const metadata = await admin.fetchTopicMetadata({ topics: CATEGORIES.map((c) => topicForCategory(c, prefix)) });
    await admin.disconnect();
    expect(metadata.topics.map((t) => t.partitions.length)).toEqual(CATEGORIES.map(() => 3));
    expect(new Set(collector.records.map((r) => `${r.topic}/${r.partition}`)).size).toBe(15);
  }, 120_000);
});

describe('Kafka relay in the embedded API process (KAFKA_BROKERS set)', () => {
  const prefix = uniquePrefix('relay-api');
  let t: TestApp | undefined;

  afterAll(async () => {
    await t?.close();
    await deleteTopics(brokers, prefix);
  }, 60_000);

  it('publishes what the API appends, and reports it on GET /relay and /metrics', async () => {
    t = await startTestApp({ env: { KAFKA_BROKERS: brokers.join(','), KAFKA_TOPIC_PREFIX: prefix, KAFKA_TOPIC_PARTITIONS: '2' } });
    const api = request(t.http);
    const customer = await api
      .post('/customers')
      .set(t.as('rep'))
      .set('x-correlation-id', 'corr-relay-1')
      .send({ name: 'Ada', source: 'web' })
      .expect(201);
    const deal = await api
      .post('/deals')
      .set(t.as('rep'))
      .send({ customerId: customer.body.id, title: 'Licence', amount: 1200 })
      .expect(201);
    await api.post(`/deals/${deal.body.id}/win`).set(t.as('rep')).send({}).expect(200);
    const head = await t.store.headPosition();

    let relay: Record<string, unknown> = {};
    await waitUntilAsync(
      async () => {
        relay = (await api.get('/relay').set(t!.as('service')).expect(200)).body;
        return relay.checkpoint === head;
      },
      30_000,
      'GET /relay to reach the head',
    );
    expect(relay).toMatchObject({ running: true, state: 'running', connected: true, lag: 0, head, topicPrefix: prefix });
    const metrics = (await api.get('/metrics').set(t.as('service')).expect(200)).text;
    expect(metrics).toMatch(/^chronicle_relay_lag_events 0$/m);
    expect(metrics).toMatch(new RegExp(`^chronicle_relay_published_events_total ${head}$`, 'm'));
    expect(metrics).toMatch(/^chronicle_relay_batch_seconds_count [1-9]\d*$/m);
    expect(metrics).toMatch(/^chronicle_relay_broker_connected 1$/m);

    // What the relay publishes: the events as stored, personal fields sealed.
    const stored = await allEvents(t.app.get<SqliteEventStore>(SEALED_EVENT_STORE));
    expect(JSON.stringify(stored)).not.toContain('"name":');
    expect(stored.map((e) => e.type)).toEqual(expect.arrayContaining(['CustomerRegistered', 'DealOpened', 'DealWon', 'CustomerAcquired']));
    const report = await consumeAll(prefix, stored, 30_000);
    expectDelivered(report);
    const registered = report.records.find((r) => r.envelope.type === 'CustomerRegistered')?.envelope;
    expect(registered).toMatchObject({
      actor: t.actors.rep,
      correlationId: 'corr-relay-1',
      streamId: `customer-${customer.body.id}`,
      streamRevision: 0,
      data: { source: 'web', sealed: { subject: `customer-${customer.body.id}`, fields: ['name'] } },
    });
    expect(JSON.stringify(registered)).not.toContain('Ada');
    // Every relayed record, value and headers, matches the published contract (docs/asyncapi.json).
    const contract = ContractValidator.fromFile();
    expect(report.records.flatMap((r) => contract.problems(r.envelope, r.headers).map((p) => `${r.envelope.type}: ${p}`))).toEqual([]);

    // The README's example consumer: its view, and its dedupe when everything is delivered again.
    const dealEvents = stored.filter((e) => e.streamId.startsWith('deal-')).length;
    const stateFile = join(t.dataDir, 'won-deals.json');
    const first = new WonDealsConsumer({ brokers, topicPrefix: prefix, groupId: `${prefix}-won-1`, stateFile });
    await first.start();
    await waitUntil(() => first.view.applied === dealEvents, 30_000, 'the example consumer');
    await first.stop();
    expect(loadView(stateFile)).toMatchObject({
      owners: { [t.actors.rep]: { wonDeals: 1, revenue: 1200 } },
      applied: dealEvents,
      duplicatesSkipped: 0,
    });
    const again = new WonDealsConsumer({ brokers, topicPrefix: prefix, groupId: `${prefix}-won-2`, stateFile });
    await again.start();
    await waitUntil(() => again.view.duplicatesSkipped === dealEvents, 30_000, 'the redelivery');
    await again.stop();
    expect(loadView(stateFile)).toMatchObject({
      owners: { [t.actors.rep]: { wonDeals: 1, revenue: 1200 } },
      applied: dealEvents,
      duplicatesSkipped: dealEvents,
    });
  }, 120_000);
});

describe('Kafka relay: broker stopped and killed mid-stream, then restarted on the same data', () => {
  const prefix = uniquePrefix('relay-outage');
  let dir: string;
  let store: SqliteEventStore;
  let state: SqliteStateStore;
  let relay: KafkaRelay | undefined;
  let local = false;
  let appending = false;
  let appender: Promise<void> | undefined;

  beforeAll(async () => {
    local = await brokerIsLocalTestServer();
    dir = mkdtempSync(join(tmpdir(), 'chronicle-relay-outage-'));
    store = new SqliteEventStore({ filename: join(dir, 'events.db'), synchronous: 'NORMAL' });
    state = new SqliteStateStore(join(dir, 'state.db'));
  }, 30_000);

  afterAll(async () => {
    appending = false;
    await appender?.catch(() => undefined);
    await relay?.stop();
    await store.close();
    await state.close();
    // Leave the shared broker running for the other suites, whatever happened above.
    if (local && (await kafkaScript('status')).code !== 0) await kafkaScript('start', { KAFKA_KEEP_DATA: '1' });
    await deleteTopics(brokers, prefix);
    rmSync(dir, { recursive: true, force: true });
  }, 180_000);

  it('loses and reorders nothing (duplicates allowed and counted)', async () => {
    if (!local) {
      log(`skipped: ${brokers.join(',')} is not the broker of test/support/servers/kafka.sh, which this test must stop`);
      return;
    }
    const started = Date.now();
    const random = prng(7);
    const streams = makeStreams(100);
    const failures: string[] = [];
    relay = new KafkaRelay(store, state, {
      brokers,
      topicPrefix: prefix,
      batchSize: 200,
      requestTimeoutMs: 5000,
      connectionTimeoutMs: 1000,
      retryInitialMs: 100,
      retryMaxMs: 1000,
      log: (level, m) => level === 'warn' && failures.push(m),
    });
    appending = true;
    appender = (async () => {
      while (appending) {
        await appendRandom(store, streams, 50, random);
        await sleep(25);
      }
    })();
    await relay.start();

    for (const command of ['stop', 'kill'] as const) {
      const before = relay.checkpoint;
      await waitUntil(() => relay!.checkpoint >= before + 1500, 30_000, 'relay progress before the outage');
      const headAtStop = await store.headPosition();
      const result = await kafkaScript(command);
      expect(result).toMatchObject({ code: 0 });
      log(`broker ${command === 'stop' ? 'stopped' : 'killed'} at relay checkpoint ${relay.checkpoint}, head ${headAtStop}`);
      await waitUntilAsync(async () => !(await relay!.status()).connected, 30_000, 'the relay to notice the outage');
      await sleep(500);
      const restarted = await kafkaScript('start', { KAFKA_KEEP_DATA: '1' });
      if (restarted.code !== 0) throw new Error(`broker did not restart:\n${restarted.output}`);
      const headAtRestart = await store.headPosition();
      expect(headAtRestart).toBeGreaterThan(headAtStop); // events kept coming during the outage
      await relay.waitFor(headAtRestart, 60_000);
      log(
        `broker back after ${command}; relay caught up to ${headAtRestart} (${(await relay.status()).failedAttempts} failed attempts so far)`,
      );
    }
    appending = false;
    await appender;
    const head = await store.headPosition();
    await relay.waitFor(head, 60_000);
    const status = await relay.status();
    expect(status.failedAttempts).toBeGreaterThanOrEqual(2);
    expect(failures.length).toBeGreaterThanOrEqual(2);

    const stored = await allEvents(store);
    const report = await consumeAll(prefix, stored, 60_000);
    log(
      describeDelivery(
        `relay across broker stop + kill (${((Date.now() - started) / 1000).toFixed(1)} s, ${status.failedAttempts} failed attempts)`,
        report,
      ),
    );
    expectDelivered(report);
  }, 240_000);
});

describe('Kafka relay: the relay process SIGKILLed mid-stream and restarted', () => {
  const prefix = uniquePrefix('relay-kill');
  let dir: string;
  let eventsFile: string;
  let stateFile: string;
  let store: SqliteEventStore;
  const children = new Set<ChildProcess>();

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'chronicle-relay-kill-'));
    eventsFile = join(dir, 'events.db');
    stateFile = join(dir, 'state.db');
    store = new SqliteEventStore({ filename: eventsFile, synchronous: 'NORMAL' });
  });

  afterAll(async () => {
    for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await store.close();
    await deleteTopics(brokers, prefix);
    rmSync(dir, { recursive: true, force: true });
  }, 60_000);

  function startRelay(): {
    child: ChildProcess;
    checkpoints: number[];
    exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
    output: () => string;
    reached(position: number, timeoutMs: number): Promise<void>;
  } {
    const child = spawn(process.execPath, ['-r', '@swc-node/register', 'test/support/relay-child.ts', eventsFile, stateFile, '500'], {
      cwd: ROOT,
      env: { ...process.env, KAFKA_BROKERS: brokers.join(','), KAFKA_TOPIC_PREFIX: prefix },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.add(child);
    const checkpoints: number[] = [];
    let output = '';
    const listeners = new Set<() => void>();
    let buffered = '';
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      buffered += chunk.toString();
      const lines = buffered.split('\n');
      buffered = lines.pop()!;
      for (const line of lines) {
        const m = /^checkpoint (\d+)$/.exec(line);
        if (m) checkpoints.push(Number(m[1]));
      }
      for (const listener of listeners) listener();
    });
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
      child.on('exit', (code, signal) => {
        children.delete(child);
        resolve({ code, signal });
      }),
    );
    return {
      child,
      checkpoints,
      exited,
      output: () => output,
      reached: (position, timeoutMs) =>
        new Promise<void>((resolve, reject) => {
          const timer = setTimeout(
            () => reject(new Error(`relay child did not reach ${position} in ${timeoutMs} ms:\n${output.slice(-3000)}`)),
            timeoutMs,
          );
          const check = () => {
            if ((checkpoints.at(-1) ?? 0) >= position) {
              clearTimeout(timer);
              listeners.delete(check);
              resolve();
            }
          };
          listeners.add(check);
          void exited.then(() => check());
          check();
        }),
    };
  }

  const storedCheckpoint = async () => {
    const s = new SqliteStateStore(stateFile);
    try {
      return (await s.checkpoints()).find((c) => c.name === DEFAULT_RELAY_CHECKPOINT)?.position ?? 0;
    } finally {
      await s.close();
    }
  };

  it('loses and reorders nothing after three SIGKILLs (duplicates allowed and counted)', async () => {
    const started = Date.now();
    const random = prng(99);
    const streams = makeStreams(200);
    await appendRandom(store, streams, 40_000, random);
    const kills: Array<{ at: number; head: number }> = [];

    for (let k = 0; k < 3; k++) {
      const head = await store.headPosition();
      const from = await storedCheckpoint();
      const run = startRelay();
      // Kill somewhere in the middle of the remaining backlog, a random moment within a page.
      const target = from + Math.floor((head - from) * (0.2 + 0.5 * random()));
      await run.reached(target, 60_000);
      await sleep(Math.floor(random() * 40));
      run.child.kill('SIGKILL');
      expect(await run.exited).toMatchObject({ signal: 'SIGKILL' });
      const at = await storedCheckpoint();
      kills.push({ at, head });
      expect(at).toBeLessThan(head); // killed mid-stream
      expect(at).toBeGreaterThanOrEqual(from);
      // The store keeps growing while no relay runs.
      await appendRandom(store, streams, 1000, random);
    }

    const head = await store.headPosition();
    const last = startRelay();
    await last.reached(head, 60_000);
    last.child.kill('SIGTERM');
    expect(await last.exited).toMatchObject({ code: 0 });
    expect(last.output()).toContain('stopped');
    expect(await storedCheckpoint()).toBe(head);

    const stored = await allEvents(store);
    expect(stored).toHaveLength(43_000);
    const report = await consumeAll(prefix, stored, 90_000);
    log(
      describeDelivery(
        `relay across 3 SIGKILLs at checkpoints ${kills.map((k) => `${k.at}/${k.head}`).join(', ')} (${((Date.now() - started) / 1000).toFixed(1)} s)`,
        report,
      ),
    );
    expectDelivered(report);
  }, 240_000);
});

async function waitUntilAsync(condition: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

async function waitUntil(condition: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}
