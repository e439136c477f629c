import { EventEmitter } from 'node:events';
import { performance } from 'node:perf_hooks';
import { Admin, CompressionTypes, Kafka, logLevel, Message, Partitioners, Producer, ProducerConfig, TopicMessages } from 'kafkajs';
import { CheckpointStore, Fence, FencedError, isFencedError, RoleRunner, soloFence } from '@chronicle/cluster';
import { CatchUpConsumer, EventStore, FeedPage } from '@chronicle/event-store';
import { DEFAULT_TOPIC_PREFIX, OutgoingMessage, topicForCategory, toMessage } from './envelope';

export type RelayLogLevel = 'debug' | 'info' | 'warn' | 'error';

export interface KafkaRelayOptions {
  /** `host:port` of one or more brokers. */
  brokers: string[];
  clientId?: string;
  /** Name of the relay's checkpoint in the CheckpointStore, and of its role in a cluster. */
  checkpointName?: string;
  /** Topics are `<prefix>.<category>`; tests use a unique prefix per run. */
  topicPrefix?: string;
  /** Partitions and replication factor of the topics the relay creates. */
  topicPartitions?: number;
  replicationFactor?: number;
  /** Categories whose topics are created at start; any other category's topic is created when first seen. */
  categories?: readonly string[];
  /** Events per page of the feed; a page is published, acknowledged and checkpointed as one unit. */
  batchSize?: number;
  /**
   * A page larger than this (keys, values, headers) goes out in several sequential requests, so no
   * partition's record batch exceeds the broker's default 1 MB message size limit.
   */
  maxRequestBytes?: number;
  compression?: 'none' | 'gzip';
  /** kafkajs's own retries inside one send (idempotent: a retried request is not duplicated). */
  sendRetries?: number;
  requestTimeoutMs?: number;
  connectionTimeoutMs?: number;
  /** Backoff between attempts after a failed page (doubles up to the max). */
  retryInitialMs?: number;
  retryMaxMs?: number;
  log?: (level: RelayLogLevel, message: string) => void;
  /** The kafkajs client to use (tests inject a fake); default: one built from the options above. */
  client?: KafkaClient;
}

/** The part of kafkajs's `Kafka` the relay uses. */
export interface KafkaClient {
  producer(config?: ProducerConfig): Producer;
  admin(): Admin;
}

export interface RelayStatus {
  /** `stopped`: not relaying in this process (in a cluster: another relay holds the role, this one stands by). */
  state: 'stopped' | 'connecting' | 'running' | 'retrying';
  /** The fencing token of the lease it relays under (0: alone, without a lease). */
  token?: number;
  /** True while the last attempt to reach the broker succeeded. */
  connected: boolean;
  /** Position of the last event the broker acknowledged (and the relay stored). */
  checkpoint: number;
  head: number;
  /** head − checkpoint: events appended but not yet acknowledged by Kafka. */
  lag: number;
  /** Throughput over the last 10 seconds. */
  eventsPerSecond: number;
  publishedEvents: number;
  publishedPages: number;
  /** Pages that failed and were resent from the checkpoint, since start. */
  failedAttempts: number;
  lastError?: { message: string; at: string };
  lastPublishedAt?: string;
  topicPrefix: string;
  brokers: string[];
}

/** Emitted as 'published' after each page is acknowledged and checkpointed. */
export interface PublishedPage {
  events: number;
  checkpoint: number;
  seconds: number;
  requests: number;
}

/** A page read from the feed and already cut into requests. */
interface PreparedPage {
  requests: TopicMessages[][];
  readAt: number;
}

export const DEFAULT_RELAY_CHECKPOINT = 'relay:kafka';
const DEFAULT_CATEGORIES = ['customer', 'lead', 'deal', 'campaign', 'spend', 'task'];
const RATE_WINDOW_MS = 10_000;
// Above the API's 1 MiB body limit plus the envelope, so no event the API accepts is refused.
const TOPIC_MAX_MESSAGE_BYTES = 2 * 1024 * 1024;

/**
 * Forwards the event store's global feed to Kafka (docs/kafka.md). The event store is the outbox:
 * the relay reads pages from its stored checkpoint, publishes each page with an idempotent
 * producer (acks = all, one request in flight, so a partition never sees a later batch before
 * an earlier one), and stores the page's checkpoint only after the broker acknowledged it.
 * Any failure (broker down, timeout, checkpoint write) throws the producer away and resends
 * from the checkpoint with a fresh producer: events are never skipped or reordered per key;
 * a page whose acknowledgement was lost is published again (at least once, consumers dedupe
 * by eventId).
 *
 * In a cluster the relay is one role (`runner`): exactly one process relays, the others stand by.
 * Its checkpoint is fenced by the lease's token and a page is only sent while the lease is valid;
 * a holder that lost the role without noticing can send at most the page it had in hand (a
 * duplicate a consumer drops by eventId), and its checkpoint save is refused.
 */
export class KafkaRelay extends EventEmitter {
  private readonly options: Required<Omit<KafkaRelayOptions, 'log' | 'client'>>;
  private readonly log: (level: RelayLogLevel, message: string) => void;
  private readonly kafka: KafkaClient;
  private producer?: Producer;
  private admin?: Admin;
  private readonly knownTopics = new Set<string>();
  private consumer?: CatchUpConsumer<PreparedPage>;
  private fence?: Fence;
  private position = 0;
  private state: RelayStatus['state'] = 'stopped';
  private connected = false;
  private publishedEvents = 0;
  private publishedPages = 0;
  private failedAttempts = 0;
  private lastError?: { message: string; at: string };
  private lastPublishedAt?: string;
  private readonly recent: Array<{ at: number; events: number }> = [];
  private startedAt = 0;
  private lastAckAt = 0;
  private caughtUp = false;
  private failedInARow = 0;

  /** Its role, as the RoleCoordinator starts and stops it. */
  readonly runner: RoleRunner = { start: (lease) => this.start(lease), stop: () => this.stop() };

  constructor(
    private readonly eventStore: EventStore,
    private readonly checkpoints: CheckpointStore,
    options: KafkaRelayOptions,
  ) {
    super();
    const { log, client, ...rest } = options;
    if (rest.brokers.length === 0) throw new Error('the Kafka relay needs at least one broker');
    this.options = {
      clientId: 'chronicle-relay',
      checkpointName: DEFAULT_RELAY_CHECKPOINT,
      topicPrefix: DEFAULT_TOPIC_PREFIX,
      topicPartitions: 3,
      replicationFactor: 1,
      categories: DEFAULT_CATEGORIES,
      batchSize: 2000,
      maxRequestBytes: 1_000_000,
      compression: 'none',
      sendRetries: 5,
      requestTimeoutMs: 10_000,
      connectionTimeoutMs: 3_000,
      retryInitialMs: 250,
      retryMaxMs: 5_000,
      ...stripUndefined(rest),
      brokers: rest.brokers,
    };
    this.log = log ?? (() => undefined);
    this.kafka =
      client ??
      new Kafka({
        clientId: this.options.clientId,
        brokers: this.options.brokers,
        connectionTimeout: this.options.connectionTimeoutMs,
        requestTimeout: this.options.requestTimeoutMs,
        retry: { retries: this.options.sendRetries, initialRetryTime: 100, maxRetryTime: 1_000 },
        // kafkajs is chatty during an outage; the relay reports failures itself, once per attempt.
        logLevel: logLevel.WARN,
        logCreator: () => (entry) => {
          // Bounded retries are deliberate: the relay resends from its checkpoint with a new producer.
          if (entry.log.message.startsWith('Limiting retries for the idempotent producer')) return;
          this.log('debug', `kafkajs ${entry.namespace}: ${entry.log.message}`);
        },
      });
  }

  /**
   * Claims the checkpoint (for `fence`: a lease's; alone without one) and starts relaying in the
   * background (does not wait for the broker).
   */
  async start(fence: Fence = soloFence(this.options.checkpointName)): Promise<void> {
    if (this.consumer) return;
    this.fence = fence;
    this.position = await this.checkpoints.claim(this.options.checkpointName, fence);
    this.startedAt = Date.now();
    this.state = 'connecting';
    this.log(
      'info',
      `relaying to ${this.options.brokers.join(',')} (topics ${this.options.topicPrefix}.<category>) from position ${this.position}${fence.token ? ` (lease token ${fence.token})` : ''}`,
    );
    const consumer = new CatchUpConsumer<PreparedPage>({
      name: 'relay',
      store: this.eventStore,
      batchSize: this.options.batchSize,
      checkpoint: async () => {
        this.position = await this.checkpoints.claim(this.options.checkpointName, fence);
        await this.connect();
        if (this.failedInARow > 0)
          this.log('info', `broker reachable again after ${this.failedInARow} failed attempt(s); resending from position ${this.position}`);
        this.failedInARow = 0;
        this.state = 'running';
        return this.position;
      },
      // The following page is read and serialized while this one is on the wire.
      prepare: (page) => ({ requests: this.toRequests(page), readAt: performance.now() }),
      handle: (prepared, page) => this.publish(page, prepared, fence),
      reset: (error) => this.failed(error),
      onFailure: (error) => {
        if (!isFencedError(error)) return 'retry';
        this.log('warn', `relay: ${(error as Error).message}; standing by`);
        this.onLost?.((error as Error).message);
        return 'stop';
      },
      retry: { initialMs: this.options.retryInitialMs, maxMs: this.options.retryMaxMs },
      log: (level, message) => level === 'debug' && this.log('debug', message),
    });
    this.consumer = consumer;
    consumer.start();
    // Ended on its own (fenced): ready to be started again under a new lease.
    void consumer.done.then(async () => {
      if (this.consumer !== consumer) return;
      this.consumer = undefined;
      this.fence = undefined;
      this.state = 'stopped';
      await this.disconnect();
    });
  }

  /** Told when a checkpoint save finds the role taken over (the coordinator then lets the lease go). */
  onLost?: (reason: string) => void;

  /** Stops after the page in flight (its checkpoint is stored if the broker acknowledged it). */
  async stop(): Promise<void> {
    const consumer = this.consumer;
    if (!consumer) return;
    await consumer.stop();
    await this.disconnect();
    this.consumer = undefined;
    this.fence = undefined;
    this.state = 'stopped';
  }

  /** Position of the last event acknowledged by the broker. */
  get checkpoint(): number {
    return this.position;
  }

  async status(): Promise<RelayStatus> {
    const head = await this.eventStore.headPosition();
    return {
      state: this.state,
      token: this.fence?.token,
      connected: this.connected,
      checkpoint: this.position,
      head,
      lag: Math.max(0, head - this.position),
      eventsPerSecond: this.eventsPerSecond(),
      publishedEvents: this.publishedEvents,
      publishedPages: this.publishedPages,
      failedAttempts: this.failedAttempts,
      lastError: this.lastError,
      lastPublishedAt: this.lastPublishedAt,
      topicPrefix: this.options.topicPrefix,
      brokers: [...this.options.brokers],
    };
  }

  /** Resolves once the checkpoint reaches `position` (tests, benchmarks, read-your-writes for consumers). */
  waitFor(position: number, timeoutMs: number): Promise<void> {
    if (this.position >= position) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.off('published', check);
        reject(
          new Error(
            `relay checkpoint ${this.position} did not reach ${position} within ${timeoutMs} ms (last error: ${this.lastError?.message ?? 'none'})`,
          ),
        );
      }, timeoutMs);
      const check = () => {
        if (this.position < position) return;
        clearTimeout(timer);
        this.off('published', check);
        resolve();
      };
      this.on('published', check);
    });
  }

  /** After a failed attempt: a fresh producer for the resend, and the failure in the status. */
  private async failed(error: unknown): Promise<void> {
    if (!this.consumer || isFencedError(error)) {
      await this.disconnect();
      return;
    }
    this.failedInARow += 1;
    this.failedAttempts += 1;
    this.connected = false;
    this.caughtUp = false;
    this.state = 'retrying';
    this.lastError = { message: (error as Error).message, at: new Date().toISOString() };
    const message = `publishing from position ${this.position} failed (${(error as Error).message}); retrying`;
    // The first failure, then about once a minute while it lasts (the status has every one).
    this.log(
      this.failedInARow % 12 === 1 ? 'warn' : 'debug',
      this.failedInARow > 1 ? `${message} (attempt ${this.failedInARow})` : message,
    );
    this.emit('failed', error);
    // A fresh producer (new producer id) for the resend: the old one's sequence numbers may
    // disagree with what the broker stored if the failed request was in fact written.
    await this.disconnect();
  }

  private async connect(): Promise<void> {
    if (this.producer) return;
    const producer = this.kafka.producer({
      idempotent: true,
      maxInFlightRequests: 1,
      allowAutoTopicCreation: false,
      createPartitioner: Partitioners.DefaultPartitioner,
      retry: { retries: this.options.sendRetries, initialRetryTime: 100, maxRetryTime: 1_000 },
    });
    const admin = this.kafka.admin();
    this.producer = producer;
    this.admin = admin;
    await admin.connect();
    await producer.connect();
    await this.ensureTopics(this.options.categories.map((c) => topicForCategory(c, this.options.topicPrefix)));
    this.connected = true;
  }

  private async disconnect(): Promise<void> {
    const { producer, admin } = this;
    this.producer = undefined;
    this.admin = undefined;
    this.knownTopics.clear();
    await Promise.allSettled([producer?.disconnect(), admin?.disconnect()]);
  }

  /** Creates the topics that do not exist yet (auto-creation is off in production brokers). */
  private async ensureTopics(topics: string[]): Promise<void> {
    const unknown = topics.filter((t) => !this.knownTopics.has(t));
    if (unknown.length === 0) return;
    const existing = new Set(await this.admin!.listTopics());
    const missing = unknown.filter((t) => !existing.has(t));
    if (missing.length > 0) {
      await this.admin!.createTopics({
        waitForLeaders: true,
        topics: missing.map((topic) => ({
          topic,
          numPartitions: this.options.topicPartitions,
          replicationFactor: this.options.replicationFactor,
          configEntries: [{ name: 'max.message.bytes', value: String(TOPIC_MAX_MESSAGE_BYTES) }],
        })),
      });
      this.log(
        'info',
        `created topic(s) ${missing.join(', ')} (${this.options.topicPartitions} partitions, replication factor ${this.options.replicationFactor})`,
      );
    }
    for (const t of unknown) this.knownTopics.add(t);
  }

  private async publish(page: FeedPage, { requests: chunks, readAt }: PreparedPage, fence: Fence): Promise<void> {
    const started = Math.max(readAt, this.lastAckAt);
    let requests = 0;
    if (page.events.length > 0) {
      // Once the lease may have passed to another relay, send nothing more.
      if (!fence.valid()) throw new FencedError([fence.role], 'its lease lapsed');
      const producer = this.producer!;
      const compression = this.options.compression === 'gzip' ? CompressionTypes.GZIP : CompressionTypes.None;
      await this.ensureTopics([...new Set(chunks.flatMap((c) => c.map((t) => t.topic)))]);
      // Sequential: the next request leaves only after the previous one was acknowledged.
      for (const topicMessages of chunks) {
        await producer.sendBatch({ topicMessages, acks: -1, compression, timeout: this.options.requestTimeoutMs });
        requests += 1;
      }
    }
    // Only what the broker acknowledged moves the checkpoint.
    await this.checkpoints.save(this.options.checkpointName, page.checkpoint, fence);
    this.position = page.checkpoint;
    this.connected = true;
    this.lastAckAt = performance.now();
    const seconds = (this.lastAckAt - started) / 1000;
    this.publishedEvents += page.events.length;
    this.publishedPages += 1;
    this.lastPublishedAt = new Date().toISOString();
    this.recent.push({ at: Date.now(), events: page.events.length });
    this.trimRecent();
    if (page.isEnd && !this.caughtUp) {
      this.caughtUp = true;
      this.log(
        'info',
        `caught up with the event store at position ${page.checkpoint} (${this.publishedEvents} events published since start)`,
      );
    }
    this.emit('published', { events: page.events.length, checkpoint: page.checkpoint, seconds, requests } satisfies PublishedPage);
  }

  /** Groups a page by topic, in feed order, cut into requests of at most maxRequestBytes. */
  private toRequests(page: FeedPage): TopicMessages[][] {
    const requests: TopicMessages[][] = [];
    let byTopic = new Map<string, Message[]>();
    let bytes = 0;
    for (const event of page.events) {
      const message = toMessage(event, this.options.topicPrefix);
      const size = recordBytes(message);
      if (bytes > 0 && bytes + size > this.options.maxRequestBytes) {
        requests.push(toTopicMessages(byTopic));
        byTopic = new Map();
        bytes = 0;
      }
      let list = byTopic.get(message.topic);
      if (!list) byTopic.set(message.topic, (list = []));
      list.push({ key: message.key, value: message.value, headers: { ...message.headers } });
      bytes += size;
    }
    if (bytes > 0) requests.push(toTopicMessages(byTopic));
    return requests;
  }

  private eventsPerSecond(): number {
    this.trimRecent();
    const total = this.recent.reduce((n, r) => n + r.events, 0);
    const window = Math.min(RATE_WINDOW_MS, Math.max(1, Date.now() - this.startedAt));
    return Math.round((total / window) * 1000);
  }

  private trimRecent(): void {
    const cutoff = Date.now() - RATE_WINDOW_MS;
    while (this.recent.length > 0 && this.recent[0].at < cutoff) this.recent.shift();
  }
}

/** Bytes of one record in a batch: key, value, headers and the varint/attribute overhead (generously). */
function recordBytes(message: OutgoingMessage): number {
  let size = 24 + Buffer.byteLength(message.key) + Buffer.byteLength(message.value);
  for (const [key, value] of Object.entries(message.headers)) size += 4 + key.length + Buffer.byteLength(value);
  return size;
}

function toTopicMessages(byTopic: Map<string, Message[]>): TopicMessages[] {
  return [...byTopic.entries()].map(([topic, messages]) => ({ topic, messages }));
}

function stripUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
