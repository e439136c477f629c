/**
 * Helpers for the relay's integration tests against a real broker: the broker address, the
 * test-server script, a consumer group that records everything it receives, and the delivery
 * check (every event present, order per key, duplicates counted).
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { Consumer, IHeaders, Kafka, logLevel } from 'kafkajs';
import type { RecordedEvent } from '@chronicle/event-store';
import { parseEnvelope, toEnvelope, topicForStream, EventEnvelope } from '@chronicle/messaging';

export const KAFKA_SCRIPT = join(__dirname, 'servers', 'kafka.sh');

export function brokersFromEnv(): string[] {
  const list = (process.env.KAFKA_BROKERS ?? '')
    .split(',')
    .map((b) => b.trim())
    .filter(Boolean);
  return list.length ? list : ['127.0.0.1:19092'];
}

/** A topic prefix no earlier run used: topics are never shared between runs. */
export function uniquePrefix(label: string): string {
  return `test-${label}-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
}

/** Runs test/support/servers/kafka.sh <command> (bounded), for the port of the first broker. */
export function kafkaScript(
  command: 'start' | 'stop' | 'kill' | 'restart' | 'status',
  env: NodeJS.ProcessEnv = {},
  timeoutMs = 150_000,
): Promise<{ code: number; output: string }> {
  const port = brokersFromEnv()[0].split(':')[1];
  return new Promise((resolve) => {
    execFile(
      'bash',
      [KAFKA_SCRIPT, command],
      { env: { ...process.env, KAFKA_PORT: port, ...env }, timeout: timeoutMs },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
        resolve({ code, output: `${stdout}${stderr}` });
      },
    );
  });
}

/** True when the broker under test is the one test/support/servers/kafka.sh runs (fault tests need to stop it). */
export async function brokerIsLocalTestServer(): Promise<boolean> {
  const [host] = brokersFromEnv()[0].split(':');
  if (host !== '127.0.0.1' && host !== 'localhost') return false;
  return (await kafkaScript('status', {}, 20_000)).code === 0;
}

export async function assertBrokerReachable(brokers: string[]): Promise<void> {
  const admin = new Kafka({
    clientId: 'chronicle-test',
    brokers,
    logLevel: logLevel.NOTHING,
    connectionTimeout: 2000,
    retry: { retries: 2 },
  }).admin();
  try {
    await admin.connect();
    await admin.listTopics();
  } catch (error) {
    throw new Error(
      `no Kafka broker at ${brokers.join(',')} (${(error as Error).message}); start one with test/support/servers/kafka.sh start, or run npm run test:integration`,
    );
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

export async function deleteTopics(brokers: string[], prefix: string): Promise<void> {
  const admin = new Kafka({
    clientId: 'chronicle-test',
    brokers,
    logLevel: logLevel.NOTHING,
    connectionTimeout: 2000,
    retry: { retries: 3 },
  }).admin();
  try {
    await admin.connect();
    const topics = (await admin.listTopics()).filter((t) => t.startsWith(`${prefix}.`));
    if (topics.length) await admin.deleteTopics({ topics, timeout: 20_000 });
  } catch {
    // Best effort: the topics have a unique prefix, so leftovers never disturb another run.
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

export interface ReceivedRecord {
  topic: string;
  partition: number;
  offset: string;
  key: string;
  headers: Record<string, string>;
  envelope: EventEnvelope;
}

export interface Collector {
  records: ReceivedRecord[];
  /** Distinct event ids received so far. */
  unique(): number;
  waitForUnique(count: number, timeoutMs: number): Promise<void>;
  stop(): Promise<void>;
}

/** Waits until the relay has created `topics` (a consumer must not auto-create them with the broker's defaults). */
export async function waitForTopics(brokers: string[], topics: string[], timeoutMs: number): Promise<void> {
  const admin = new Kafka({ clientId: 'chronicle-test', brokers, logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  try {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const existing = new Set(await admin.listTopics());
      if (topics.every((t) => existing.has(t))) return;
      if (Date.now() > deadline)
        throw new Error(`topics ${topics.filter((t) => !existing.has(t)).join(', ')} not created within ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 100));
    }
  } finally {
    await admin.disconnect();
  }
}

/** A consumer group reading `topics` (which must exist) from the beginning, recording every record in arrival order. */
export async function collect(brokers: string[], topics: string[], groupId: string): Promise<Collector> {
  await waitForTopics(brokers, topics, 30_000);
  const kafka = new Kafka({ clientId: 'chronicle-test-consumer', brokers, logLevel: logLevel.NOTHING });
  const consumer: Consumer = kafka.consumer({
    groupId,
    allowAutoTopicCreation: false,
    sessionTimeout: 10_000,
    heartbeatInterval: 1000,
    retry: { retries: 10 },
  });
  const records: ReceivedRecord[] = [];
  const ids = new Set<string>();
  await consumer.connect();
  await consumer.subscribe({ topics, fromBeginning: true });
  await consumer.run({
    eachBatch: async ({ batch }) => {
      for (const m of batch.messages) {
        const envelope = parseEnvelope(m.value);
        records.push({
          topic: batch.topic,
          partition: batch.partition,
          offset: m.offset,
          key: m.key!.toString(),
          headers: headerStrings(m.headers),
          envelope,
        });
        ids.add(envelope.eventId);
      }
    },
  });
  return {
    records,
    unique: () => ids.size,
    async waitForUnique(count, timeoutMs) {
      const deadline = Date.now() + timeoutMs;
      while (ids.size < count) {
        if (Date.now() > deadline) throw new Error(`consumer received ${ids.size} of ${count} events within ${timeoutMs} ms`);
        await new Promise((r) => setTimeout(r, 100));
      }
    },
    stop: () => consumer.disconnect(),
  };
}

function headerStrings(headers: IHeaders | undefined): Record<string, string> {
  return Object.fromEntries(Object.entries(headers ?? {}).map(([k, v]) => [k, Buffer.isBuffer(v) ? v.toString() : String(v)]));
}

export interface DeliveryReport {
  expected: number;
  received: number;
  missing: string[];
  /** Records whose eventId had been received before. */
  duplicates: Array<{ eventId: string; key: string; revision: number; partition: number; offset: string }>;
  /** First occurrences not in revision order 0, 1, 2, … for their key. */
  orderViolations: string[];
  /** Keys seen on more than one partition. */
  splitKeys: string[];
  /** Records whose envelope, headers, key or topic do not match the stored event. */
  malformed: string[];
  unexpected: string[];
}

/**
 * Checks what a consumer received against the event store: every stored event present, with the
 * envelope and headers the relay promises; per key one partition and first occurrences in
 * revision order; duplicates (allowed: at least once) are listed.
 */
export function checkDelivery(stored: RecordedEvent[], records: ReceivedRecord[], prefix: string): DeliveryReport {
  const byId = new Map(stored.map((e) => [e.eventId, e]));
  const seen = new Set<string>();
  const next = new Map<string, number>();
  const partitionOf = new Map<string, number>();
  const report: DeliveryReport = {
    expected: stored.length,
    received: records.length,
    missing: [],
    duplicates: [],
    orderViolations: [],
    splitKeys: [],
    malformed: [],
    unexpected: [],
  };
  for (const r of records) {
    const event = byId.get(r.envelope.eventId);
    if (!event) {
      report.unexpected.push(r.envelope.eventId);
      continue;
    }
    const p = partitionOf.get(r.key);
    if (p === undefined) partitionOf.set(r.key, r.partition);
    else if (p !== r.partition && !report.splitKeys.includes(r.key)) report.splitKeys.push(r.key);
    if (seen.has(event.eventId)) {
      report.duplicates.push({
        eventId: event.eventId,
        key: r.key,
        revision: event.streamRevision,
        partition: r.partition,
        offset: r.offset,
      });
      continue;
    }
    seen.add(event.eventId);
    const expectedRevision = next.get(r.key) ?? 0;
    if (event.streamRevision !== expectedRevision)
      report.orderViolations.push(`${r.key}: revision ${event.streamRevision} arrived when ${expectedRevision} was expected`);
    next.set(r.key, Math.max(expectedRevision, event.streamRevision + 1));
    const problems: string[] = [];
    if (r.key !== event.streamId) problems.push(`key ${r.key}`);
    if (r.topic !== topicForStream(event.streamId, prefix)) problems.push(`topic ${r.topic}`);
    if (JSON.stringify(r.envelope) !== JSON.stringify(toEnvelope(event))) problems.push('envelope differs from the stored event');
    const headers = {
      eventId: event.eventId,
      type: event.type,
      schemaVersion: String(event.schemaVersion),
      correlationId: event.correlationId,
      envelopeVersion: '1',
    };
    if (JSON.stringify(r.headers) !== JSON.stringify(headers)) problems.push(`headers ${JSON.stringify(r.headers)}`);
    if (problems.length) report.malformed.push(`${event.eventId}: ${problems.join('; ')}`);
  }
  report.missing = stored.filter((e) => !seen.has(e.eventId)).map((e) => `${e.streamId}@${e.streamRevision} (${e.eventId})`);
  return report;
}

/** One line for the test log, with the duplicates listed (at most `limit`). */
export function describeDelivery(label: string, report: DeliveryReport, limit = 20): string {
  const lines = [
    `${label}: ${report.expected} events stored, ${report.received} records received, ${report.missing.length} missing, ` +
      `${report.duplicates.length} duplicates, ${report.orderViolations.length} order violations, ${report.malformed.length} malformed`,
  ];
  for (const d of report.duplicates.slice(0, limit))
    lines.push(`  duplicate ${d.key}@${d.revision} ${d.eventId} (partition ${d.partition}, offset ${d.offset})`);
  if (report.duplicates.length > limit) lines.push(`  … and ${report.duplicates.length - limit} more duplicates`);
  return lines.join('\n');
}
