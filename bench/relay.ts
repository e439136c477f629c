/**
 * Kafka relay throughput (docs/quality.md: ≥ 20,000 events/s to a local broker). A generated CRM history
 * (all categories, realistic payloads) is seeded into a temp SQLite store once; each run relays
 * it from position 0 to the head into fresh topics (a unique prefix) with a fresh checkpoint,
 * and the figure is events / seconds from `start()` (connect and topic creation included) until
 * the broker has acknowledged the head. Beside it, in the same runs, the reference: a bare
 * idempotent kafkajs producer sending the same messages pre-built in memory. The topics are
 * deleted after each run.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Admin, Kafka, logLevel, Partitioners } from 'kafkajs';
import { SqliteEventStore } from '@chronicle/event-store';
import { KafkaRelay, KafkaRelayOptions, toMessage } from '@chronicle/messaging';
import { SqliteStateStore } from '@chronicle/cluster';
import { upcast } from '@chronicle/domain';
import { generateHistory } from '../apps/cli/src/seed/generator';
import { appendHistory } from '../apps/cli/src/seed/seed';

export interface RelayBenchOptions {
  /** Default: KAFKA_BROKERS, else 127.0.0.1:19092 (test/support/servers/kafka.sh). */
  brokers?: string[];
  events?: number;
  runs?: number;
  batchSize?: number;
  compression?: KafkaRelayOptions['compression'];
  maxRequestBytes?: number;
  log?: (message: string) => void;
}

export interface RelayBenchResult {
  eventsPerSecond: number[];
  median: number;
  /**
   * Reference measured in the same runs: a bare idempotent kafkajs producer sending the same
   * messages, pre-built in memory (no store read, no JSON, no checkpoint), in requests cut the same way.
   * relay / raw is the share of the client's own ceiling the relay reaches.
   */
  reference: { label: string; eventsPerSecond: number[]; median: number };
  ratio: { perRun: number[]; median: number };
  events: number;
  seconds: number[];
  /** Seeding the store (not part of the figure). */
  seedSeconds: number;
  batchSize: number;
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

export function defaultBrokers(): string[] {
  const brokers = (process.env.KAFKA_BROKERS ?? '')
    .split(',')
    .map((b) => b.trim())
    .filter(Boolean);
  return brokers.length ? brokers : ['127.0.0.1:19092'];
}

export async function benchRelay(options: RelayBenchOptions = {}): Promise<RelayBenchResult> {
  const brokers = options.brokers ?? defaultBrokers();
  const runs = options.runs ?? 3;
  const count = options.events ?? 200_000;
  const batchSize = options.batchSize ?? 2000;
  const log = options.log ?? ((m: string) => process.stderr.write(`[bench relay] ${m}\n`));
  const dir = mkdtempSync(join(tmpdir(), 'chronicle-bench-relay-'));
  const admin = new Kafka({ clientId: 'chronicle-bench', brokers, logLevel: logLevel.NOTHING }).admin();
  try {
    await admin.connect();
    const eventsFile = join(dir, 'events.db');
    const seedStarted = performance.now();
    const seedStore = new SqliteEventStore({ filename: eventsFile, synchronous: 'NORMAL' });
    await appendHistory(seedStore, generateHistory({ events: count, seed: 7, end: new Date('2026-01-01T00:00:00Z') }));
    const head = await seedStore.headPosition();
    await seedStore.close();
    const seedSeconds = (performance.now() - seedStarted) / 1000;
    log(
      `seeded ${head.toLocaleString('en-US')} events in ${seedSeconds.toFixed(1)} s; relaying to ${brokers.join(',')}, page ${batchSize}`,
    );

    const requests = await prebuiltRequests(eventsFile, batchSize, options.maxRequestBytes ?? 1_000_000);
    const eventsPerSecond: number[] = [];
    const raw: number[] = [];
    const seconds: number[] = [];
    for (let run = 0; run < runs; run++) {
      const rawRate = await rawProducerRun(brokers, admin, requests, head, run);
      raw.push(rawRate);
      log(`run ${run + 1}/${runs}: raw kafkajs producer ${Math.round(rawRate).toLocaleString('en-US')} events/s`);
      const prefix = `bench-relay-${Date.now().toString(36)}-${run}`;
      const store = new SqliteEventStore({ filename: eventsFile, upcast });
      const state = new SqliteStateStore(join(dir, `state-${run}.db`));
      const relay = new KafkaRelay(store, state, {
        brokers,
        topicPrefix: prefix,
        batchSize,
        compression: options.compression,
        maxRequestBytes: options.maxRequestBytes,
        log: (level, message) => level !== 'debug' && level !== 'info' && log(`relay ${level}: ${message}`),
      });
      try {
        const started = performance.now();
        await relay.start();
        await relay.waitFor(head, 600_000);
        const elapsed = (performance.now() - started) / 1000;
        const status = await relay.status();
        seconds.push(elapsed);
        eventsPerSecond.push(head / elapsed);
        log(
          `run ${run + 1}/${runs}: ${head.toLocaleString('en-US')} events in ${elapsed.toFixed(2)} s = ${Math.round(head / elapsed).toLocaleString('en-US')} events/s (${status.publishedPages} pages, ${status.failedAttempts} failed attempts)`,
        );
      } finally {
        await relay.stop();
        await store.close();
        await state.close();
        const topics = (await admin.listTopics()).filter((t) => t.startsWith(`${prefix}.`));
        if (topics.length) await admin.deleteTopics({ topics, timeout: 30_000 }).catch(() => undefined);
      }
    }
    const ratios = eventsPerSecond.map((r, i) => r / raw[i]);
    return {
      eventsPerSecond,
      median: median(eventsPerSecond),
      reference: { label: 'raw kafkajs producer, pre-built messages', eventsPerSecond: raw, median: median(raw) },
      ratio: { perRun: ratios, median: median(ratios) },
      events: head,
      seconds,
      seedSeconds,
      batchSize,
    };
  } finally {
    await admin.disconnect().catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  }
}

type Request = Array<{ topic: string; messages: Array<{ key: string; value: string; headers: Record<string, string> }> }>;

/** The feed as the relay would send it: pages of `batchSize`, grouped by topic, cut at `maxRequestBytes`. */
async function prebuiltRequests(eventsFile: string, batchSize: number, maxRequestBytes: number): Promise<Request[]> {
  const store = new SqliteEventStore({ filename: eventsFile, upcast });
  const requests: Request[] = [];
  try {
    let position = 0;
    for (;;) {
      const page = await store.readAll({ fromPosition: position, maxCount: batchSize });
      let byTopic = new Map<string, Request[number]['messages']>();
      let bytes = 0;
      const flush = () => {
        if (bytes > 0) requests.push([...byTopic].map(([topic, messages]) => ({ topic, messages })));
        byTopic = new Map();
        bytes = 0;
      };
      for (const event of page.events) {
        const m = toMessage(event, 'RAW');
        const size = 200 + Buffer.byteLength(m.value) + m.key.length;
        if (bytes > 0 && bytes + size > maxRequestBytes) flush();
        let list = byTopic.get(m.topic);
        if (!list) byTopic.set(m.topic, (list = []));
        list.push({ key: m.key, value: m.value, headers: { ...m.headers } });
        bytes += size;
      }
      flush();
      position = page.checkpoint;
      if (page.isEnd) return requests;
    }
  } finally {
    await store.close();
  }
}

async function rawProducerRun(brokers: string[], admin: Admin, requests: Request[], count: number, run: number): Promise<number> {
  const prefix = `bench-raw-${Date.now().toString(36)}-${run}`;
  const categories = ['customer', 'lead', 'deal', 'campaign', 'spend', 'task'];
  await admin.createTopics({ waitForLeaders: true, topics: categories.map((c) => ({ topic: `${prefix}.${c}`, numPartitions: 3 })) });
  const producer = new Kafka({ clientId: 'chronicle-bench-raw', brokers, logLevel: logLevel.NOTHING }).producer({
    idempotent: true,
    maxInFlightRequests: 1,
    createPartitioner: Partitioners.DefaultPartitioner,
  });
  try {
    await producer.connect();
    const started = performance.now();
    for (const request of requests) {
      await producer.sendBatch({
        acks: -1,
        topicMessages: request.map((t) => ({ topic: t.topic.replace(/^RAW\./, `${prefix}.`), messages: t.messages })),
      });
    }
    return count / ((performance.now() - started) / 1000);
  } finally {
    await producer.disconnect();
    await admin.deleteTopics({ topics: categories.map((c) => `${prefix}.${c}`), timeout: 30_000 }).catch(() => undefined);
  }
}

/** Starts the test broker (test/support/servers/kafka.sh) unless one answers; returns a function that stops what it started. */
export async function ensureLocalKafka(): Promise<() => void> {
  // The repository root: bench/ from source, dist/bench/ when compiled.
  let root = resolve(__dirname, '..');
  if (!existsSync(join(root, 'package.json'))) root = resolve(root, '..');
  const script = join(root, 'test', 'support', 'servers', 'kafka.sh');
  try {
    execFileSync('bash', [script, 'status'], { stdio: 'ignore' });
    return () => undefined;
  } catch {
    execFileSync('bash', [script, 'start'], { stdio: ['ignore', 'ignore', 'inherit'], timeout: 180_000 });
    return () => execFileSync('bash', [script, 'stop'], { stdio: ['ignore', 'ignore', 'inherit'], timeout: 60_000 });
  }
}
