import { randomUUID } from 'node:crypto';
import type { Admin, Producer, ProducerBatch } from 'kafkajs';
import { upcast } from '@chronicle/domain';
import { SqliteEventStore } from '@chronicle/event-store';
import { CheckpointRecord, CheckpointStore, Fence, FencedError } from '@chronicle/cluster';
import { appendFixtureHistory, readFixtureHistory } from '../../../test/support/fixture-history';
import { EventEnvelope, parseEnvelope } from './envelope';
import { KafkaClient, KafkaRelay } from './kafka-relay';

/**
 * The relay's rules against a fake kafkajs client (failures on demand); the same rules against a
 * real broker are in kafka-relay.int.spec.ts.
 */
interface Sent {
  producer: number;
  topic: string;
  key: string;
  eventId: string;
  revision: number;
}

class FakeKafka implements KafkaClient {
  readonly sent: Sent[] = [];
  /** Every message as a consumer receives it: the parsed value and the headers. */
  readonly messages: Array<{ envelope: EventEnvelope; headers: unknown }> = [];
  readonly requests: Array<{ producer: number; events: number }> = [];
  readonly topics = new Set<string>();
  producers = 0;
  /** Sends (numbered from 1) that fail: 'lost-ack' = written, then the acknowledgement is lost; 'refused' = not written. */
  readonly failOn = new Map<number, 'lost-ack' | 'refused'>();
  private sends = 0;
  down = false;
  /** Sends of this producer wait until `release` (a relay paused with a request in hand). */
  hold?: { producer: number; released: Promise<void>; release(): void; arrived: Promise<void>; arrive(): void };

  producer(): Producer {
    const id = ++this.producers;
    const fake = {
      connect: async () => {
        if (this.down) throw new Error('Connection refused');
      },
      disconnect: async () => undefined,
      sendBatch: async (batch: ProducerBatch) => {
        if (this.down) throw new Error('Connection refused');
        if (this.hold?.producer === id) {
          this.hold.arrive();
          await this.hold.released;
        }
        expect(batch.acks).toBe(-1);
        const failure = this.failOn.get(++this.sends);
        if (failure === 'refused') throw new Error('Request timed out');
        let events = 0;
        for (const { topic, messages } of batch.topicMessages ?? []) {
          if (!this.topics.has(topic)) throw new Error(`unknown topic ${topic}`);
          for (const m of messages) {
            const envelope = parseEnvelope(m.value);
            this.messages.push({ envelope, headers: m.headers });
            this.sent.push({ producer: id, topic, key: m.key as string, eventId: envelope.eventId, revision: envelope.streamRevision });
            events += 1;
          }
        }
        this.requests.push({ producer: id, events });
        if (failure === 'lost-ack') throw new Error('Connection closed before the response');
        return [];
      },
    };
    return fake as unknown as Producer;
  }

  admin(): Admin {
    const fake = {
      connect: async () => {
        if (this.down) throw new Error('Connection refused');
      },
      disconnect: async () => undefined,
      listTopics: async () => [...this.topics],
      createTopics: async ({ topics }: { topics: Array<{ topic: string }> }) => {
        for (const t of topics) this.topics.add(t.topic);
        return true;
      },
    };
    return fake as unknown as Admin;
  }
}

class MemoryCheckpoints implements CheckpointStore {
  readonly saved: number[] = [];
  failNext = 0;
  private token = 0;
  constructor(private position = 0) {}
  async claim(name: string, fence: Fence): Promise<number> {
    if (fence.token < this.token) throw new FencedError([name]);
    this.token = fence.token;
    return this.position;
  }
  async save(name: string, position: number, fence: Fence): Promise<void> {
    if (fence.token !== this.token) throw new FencedError([name]);
    if (this.failNext > 0) {
      this.failNext -= 1;
      throw new Error('disk I/O error');
    }
    this.position = position;
    this.saved.push(position);
  }
  async checkpoints(): Promise<CheckpointRecord[]> {
    return [{ name: 'relay:kafka', position: this.position, token: this.token, updatedAt: '' }];
  }
  async removeCheckpoint(): Promise<void> {
    throw new Error('the relay never removes its checkpoint');
  }
}

async function seed(store: SqliteEventStore, streams: string[], perStream: number): Promise<void> {
  const appends: Array<Promise<unknown>> = [];
  for (let r = 0; r < perStream; r++) {
    for (const streamId of streams) {
      appends.push(
        store.append(streamId, [
          {
            eventId: randomUUID(),
            type: 'Happened',
            data: { r },
            metadata: { occurredAt: new Date().toISOString(), actor: 'test', correlationId: 'c', causationId: 'c' },
          },
        ]),
      );
    }
  }
  await Promise.all(appends);
}

/** Sorted event ids (a request groups a page by topic, so only the order per key is kept). */
const ids = (events: Array<{ eventId: string }>) => events.map((e) => e.eventId).sort();

/** Per key, the first occurrences must be revisions 0, 1, 2, … in order; repeats are duplicates. */
function checkOrder(sent: Sent[]): { duplicates: number; violations: string[]; lastRevision: Map<string, number> } {
  const next = new Map<string, number>();
  const seen = new Set<string>();
  let duplicates = 0;
  const violations: string[] = [];
  for (const s of sent) {
    if (seen.has(s.eventId)) {
      duplicates += 1;
      continue;
    }
    seen.add(s.eventId);
    const expected = next.get(s.key) ?? 0;
    if (s.revision !== expected) violations.push(`${s.key}: got revision ${s.revision}, expected ${expected}`);
    next.set(s.key, s.revision + 1);
  }
  return { duplicates, violations, lastRevision: new Map([...next].map(([k, v]) => [k, v - 1])) };
}

describe('KafkaRelay (fake broker)', () => {
  const streams = ['customer-a', 'deal-b', 'lead-c', 'deal-d', 'task-e'];
  let store: SqliteEventStore;
  let kafka: FakeKafka;
  let relay: KafkaRelay | undefined;

  beforeEach(() => {
    store = new SqliteEventStore({ filename: ':memory:', pollIntervalMs: 20 });
    kafka = new FakeKafka();
  });
  afterEach(async () => {
    await relay?.stop();
    relay = undefined;
    await store.close();
  });

  const makeRelay = (checkpoints: CheckpointStore, options: Partial<ConstructorParameters<typeof KafkaRelay>[2]> = {}) =>
    (relay = new KafkaRelay(store, checkpoints, {
      brokers: ['fake:9092'],
      client: kafka,
      batchSize: 7,
      retryInitialMs: 5,
      retryMaxMs: 20,
      ...options,
    }));

  it('publishes every event to crm.<category>, keyed by stream, in order per stream, checkpointing after each acknowledged page', async () => {
    await seed(store, streams, 10);
    const checkpoints = new MemoryCheckpoints();
    const r = makeRelay(checkpoints);
    await r.start();
    await r.waitFor(50, 5000);
    expect(kafka.sent.map((s) => s.topic)).toEqual(kafka.sent.map((s) => `crm.${s.key.split('-')[0]}`));
    expect(new Set(kafka.sent.map((s) => s.eventId)).size).toBe(50);
    expect(checkOrder(kafka.sent)).toMatchObject({ duplicates: 0, violations: [] });
    // One checkpoint per page of 7, each the last position of its page.
    expect(checkpoints.saved).toEqual([7, 14, 21, 28, 35, 42, 49, 50]);
    expect([...kafka.topics].sort()).toEqual(['crm.campaign', 'crm.customer', 'crm.deal', 'crm.lead', 'crm.spend', 'crm.task']);
  });

  it('relays appends made after it caught up (live)', async () => {
    const r = makeRelay(new MemoryCheckpoints());
    await r.start();
    await seed(store, streams, 3);
    await r.waitFor(15, 5000);
    await seed(store, ['spend-paid-search'], 2);
    await r.waitFor(17, 5000);
    expect(kafka.sent.filter((s) => s.topic === 'crm.spend')).toHaveLength(2);
    expect(checkOrder(kafka.sent).violations).toEqual([]);
  });

  it('resumes after the stored checkpoint', async () => {
    await seed(store, streams, 4);
    const r = makeRelay(new MemoryCheckpoints(12));
    await r.start();
    await r.waitFor(20, 5000);
    expect(kafka.sent).toHaveLength(8);
    expect(ids(kafka.sent)).toEqual(ids((await store.readAll({ fromPosition: 12 })).events));
  });

  it.each(['lost-ack', 'refused'] as const)(
    'after a failed send (%s) resends the same page from the checkpoint with a new producer',
    async (failure) => {
      await seed(store, streams, 6);
      const checkpoints = new MemoryCheckpoints();
      kafka.failOn.set(3, failure);
      const r = makeRelay(checkpoints);
      const failed = jest.fn();
      r.on('failed', failed);
      await r.start();
      await r.waitFor(30, 5000);
      expect(failed).toHaveBeenCalledTimes(1);
      expect(kafka.producers).toBe(2);
      // The third page (positions 15–21) never moved the checkpoint; it was sent again by producer 2.
      expect(checkpoints.saved).toEqual([7, 14, 21, 28, 30]);
      const { duplicates, violations } = checkOrder(kafka.sent);
      expect(violations).toEqual([]);
      expect(duplicates).toBe(failure === 'lost-ack' ? 7 : 0);
      expect(new Set(kafka.sent.map((s) => s.eventId)).size).toBe(30);
      expect((await r.status()).failedAttempts).toBe(1);
    },
  );

  it('keeps retrying while the broker is down, skipping nothing, and reports it', async () => {
    await seed(store, streams, 2);
    kafka.down = true;
    const r = makeRelay(new MemoryCheckpoints());
    await r.start();
    await new Promise((resolve) => setTimeout(resolve, 100));
    const down = await r.status();
    expect(down).toMatchObject({ connected: false, state: 'retrying', checkpoint: 0, head: 10, lag: 10 });
    expect(down.failedAttempts).toBeGreaterThan(1);
    expect(down.lastError?.message).toMatch(/Connection refused/);
    kafka.down = false;
    await r.waitFor(10, 5000);
    expect(await r.status()).toMatchObject({ connected: true, state: 'running', lag: 0 });
    expect(ids(kafka.sent)).toEqual(ids((await store.readAll()).events));
    expect(checkOrder(kafka.sent)).toMatchObject({ duplicates: 0, violations: [] });
  });

  it('does not advance when the checkpoint cannot be stored, and resends', async () => {
    await seed(store, streams, 2);
    const checkpoints = new MemoryCheckpoints();
    checkpoints.failNext = 1;
    const r = makeRelay(checkpoints);
    await r.start();
    await r.waitFor(10, 5000);
    expect(checkpoints.saved).toEqual([7, 10]);
    expect(checkOrder(kafka.sent)).toMatchObject({ duplicates: 7, violations: [] });
  });

  it('cuts a page larger than maxRequestBytes into sequential requests, in order', async () => {
    await seed(store, streams, 10);
    const r = makeRelay(new MemoryCheckpoints(), { batchSize: 50, maxRequestBytes: 2000 });
    await r.start();
    await r.waitFor(50, 5000);
    expect(kafka.requests.length).toBeGreaterThan(5);
    expect(kafka.requests.every((q) => q.events < 50)).toBe(true);
    expect(ids(kafka.sent)).toEqual(ids((await store.readAll()).events));
    expect(checkOrder(kafka.sent)).toMatchObject({ duplicates: 0, violations: [] });
  });

  it('under leases: a relay whose lease lapsed with a page in hand sends only that page again, its checkpoint is refused, and it stands by', async () => {
    await seed(store, streams, 6);
    const checkpoints = new MemoryCheckpoints();
    const lease = (token: number) => {
      const fence = { role: 'relay:kafka', token, isValid: true, valid: () => fence.isValid };
      return fence;
    };
    const first = makeRelay(checkpoints);
    const lost = jest.fn();
    first.onLost = lost;
    const firstLease = lease(1);
    await first.start(firstLease);
    await first.waitFor(14, 5000);
    // The first relay pauses inside a send (SIGSTOP, a long GC) …
    let release!: () => void;
    let arrive!: () => void;
    const released = new Promise<void>((r) => (release = r));
    const arrived = new Promise<void>((r) => (arrive = r));
    kafka.hold = { producer: 1, released, release, arrived, arrive };
    await seed(store, streams, 2);
    await arrived;
    // … its lease lapses and another relay takes the role over with token 2, from the stored checkpoint.
    firstLease.isValid = false;
    const second = new KafkaRelay(store, checkpoints, {
      brokers: ['fake:9092'],
      client: kafka,
      batchSize: 7,
      retryInitialMs: 5,
      retryMaxMs: 20,
    });
    await second.start(lease(2));
    await second.waitFor(40, 5000);
    // The first one wakes up: its page in hand goes out (a duplicate), its save is refused, it stops.
    release();
    await new Promise((r) => setTimeout(r, 50));
    expect(lost).toHaveBeenCalledTimes(1);
    expect((await first.status()).state).toBe('stopped');
    await seed(store, streams, 1);
    await second.waitFor(45, 5000);
    expect(kafka.requests.filter((q) => q.producer === 1)).toHaveLength(3); // two pages, then the one in hand: nothing after
    const { duplicates, violations } = checkOrder(kafka.sent);
    expect(violations).toEqual([]);
    expect(duplicates).toBe(7); // exactly the page in hand
    expect(new Set(kafka.sent.map((s) => s.eventId)).size).toBe(45);
    expect(checkpoints.saved.at(-1)).toBe(45);
    await second.stop();
  });

  it('publishes an event stored at an old schema version upcast: the envelope and header say the current version, data is its shape', async () => {
    // The relay's store upcasts on read (libs/infrastructure event-store.factory.ts), as here.
    await store.close();
    store = new SqliteEventStore({ filename: ':memory:', pollIntervalMs: 20, upcast });
    const history = readFixtureHistory('v1-interactions'); // InteractionLogged stored at schema version 1
    await appendFixtureHistory(store, history);
    const r = makeRelay(new MemoryCheckpoints());
    await r.start();
    await r.waitFor(history.length, 5000);
    const published = kafka.messages.filter((m) => m.envelope.type === 'InteractionLogged');
    expect(published).toHaveLength(5);
    for (const { envelope, headers } of published) {
      const stored = history.find((e) => e.eventId === envelope.eventId)!;
      expect([stored.schemaVersion, envelope.schemaVersion, (headers as { schemaVersion: string }).schemaVersion]).toEqual([1, 2, '2']);
      expect(envelope.data).toEqual({ ...stored.data, channel: expect.objectContaining({ medium: expect.any(String) }) });
    }
    const call = published.find((m) => (m.envelope.data as { type: string }).type === 'call')!;
    expect((call.envelope.data as { channel: unknown }).channel).toEqual({ medium: 'voice', live: true });
    // A type without an upcaster goes out as stored.
    const registered = kafka.messages.find((m) => m.envelope.type === 'CustomerRegistered')!;
    expect(registered.envelope.schemaVersion).toBe(1);
  });

  it('stops cleanly and can report status after stopping', async () => {
    await seed(store, streams, 1);
    const r = makeRelay(new MemoryCheckpoints());
    await r.start();
    await r.waitFor(5, 5000);
    await r.stop();
    expect(await r.status()).toMatchObject({ state: 'stopped', checkpoint: 5, lag: 0, publishedEvents: 5 });
  });
});
