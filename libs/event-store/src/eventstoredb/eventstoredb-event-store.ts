import {
  ANY,
  AllStreamRecordedEvent,
  AllStreamResolvedEvent,
  AllStreamSubscription,
  AppendExpectedRevision,
  BACKWARDS,
  END,
  eventTypeFilter,
  EventStoreDBClient,
  excludeSystemEvents,
  Filter,
  FORWARDS,
  jsonEvent,
  JSONType,
  NO_STREAM,
  Position,
  ReadPosition,
  RecordedEvent as EsdbRecordedEvent,
  START,
  STREAM_EXISTS,
  StreamNotFoundError,
  streamNameFilter,
  WrongExpectedVersionError,
} from '@eventstore/db-client';
import {
  AppendOptions,
  AppendResult,
  EventFilter,
  EventStore,
  EventStoreClosedError,
  ExpectedRevision,
  FeedPage,
  matchesFilter,
  NewEvent,
  ReadAllOptions,
  ReadStreamOptions,
  RecordedEvent,
  StreamHead,
  SubscribeOptions,
  Subscription,
  UnknownPositionError,
  WrongExpectedRevisionError,
} from '../event-store';
import type { Upcast } from '../sqlite/sqlite-event-store';

export interface EventStoreDbEventStoreOptions {
  /** e.g. `esdb://localhost:2113?tls=false` (dev) or `esdb+discover://node1:2113?tls=true&tlsCAFile=…` (production). */
  connectionString: string;
  upcast?: Upcast;
  /** Backoff between resubscriptions after a dropped subscription: doubles from `initialDelayMs` up to `maxDelayMs`. */
  reconnect?: { initialDelayMs?: number; maxDelayMs?: number };
  /**
   * Server-side filtered subscriptions report a checkpoint every `checkpointInterval × 32` events
   * they scanned (EventStoreDB's checkpoint interval multiplier × its default search window).
   */
  checkpointInterval?: number;
  /** Most raw $all events one readAll page scans looking for `maxCount` matching ones. */
  scanWindow?: number;
}

/** Metadata keys the adapter owns; everything else in the stored metadata is returned as `metadata`. */
const OWN_METADATA_KEYS = ['occurredAt', 'actor', 'correlationId', 'causationId', 'schemaVersion', '$correlationId', '$causationId'];

/** A checkpoint the server reported, pushed into the subscription's own stream so it stays in order with the events. */
interface CheckpointMarker {
  readonly checkpoint: Position;
}
const isMarker = (item: unknown): item is CheckpointMarker => typeof item === 'object' && item !== null && 'checkpoint' in item;

/** How long a page of a busy feed waits for its next event (see feed()). */
const GATHER_MS = 20;
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** gRPC status codes after which a subscription is worth resuming: the connection or the server went away, not the request. */
const TRANSIENT_CODES = new Set([
  1 /* CANCELLED */, 2 /* UNKNOWN */, 4 /* DEADLINE_EXCEEDED */, 8 /* RESOURCE_EXHAUSTED */, 10 /* ABORTED */, 13 /* INTERNAL */,
  14 /* UNAVAILABLE */,
]);
const TRANSIENT_TYPES = new Set(['unavailable', 'cancelled', 'deadline-exceeded', 'timeout', 'not-leader', 'unknown']);

function isTransient(error: unknown): boolean {
  if (!error || typeof error !== 'object') return false;
  const { code, type } = error as { code?: unknown; type?: unknown };
  if (typeof type === 'string') return TRANSIENT_TYPES.has(type);
  if (typeof code === 'number') return TRANSIENT_CODES.has(code);
  return code === 'ERR_STREAM_PREMATURE_CLOSE';
}

/**
 * The production event store: EventStoreDB (or KurrentDB) through @eventstore/db-client.
 *
 * Global positions are $all COMMIT positions. For every event appended through gRPC (a
 * self-committed prepare record) EventStoreDB reports (commit, prepare) = (its log position, its
 * log position): unique, increasing in $all order and far below 2^53. A position is resumed as
 * {commit: p, prepare: p}. Every position this adapter hands out is the position of an event it has
 * seen, never a raw server checkpoint, which can point at a record boundary ahead of an event not
 * yet delivered (see docs/eventstoredb.md).
 */
export class EventStoreDbEventStore implements EventStore {
  private readonly client: EventStoreDBClient;
  private readonly upcast?: Upcast;
  private readonly initialDelayMs: number;
  private readonly maxDelayMs: number;
  private readonly checkpointInterval: number;
  private readonly scanWindow: number;
  private readonly subscriptions = new Set<Subscription>();
  private closed = false;

  constructor(options: EventStoreDbEventStoreOptions) {
    this.client = EventStoreDBClient.connectionString(options.connectionString);
    this.upcast = options.upcast;
    this.initialDelayMs = options.reconnect?.initialDelayMs ?? 100;
    this.maxDelayMs = options.reconnect?.maxDelayMs ?? 5000;
    this.checkpointInterval = options.checkpointInterval ?? 10;
    this.scanWindow = options.scanWindow ?? 4096;
  }

  async append(streamId: string, events: NewEvent[], options: AppendOptions = {}): Promise<AppendResult> {
    this.assertOpen();
    if (events.length === 0) throw new Error('append needs at least one event');
    const expected = options.expectedRevision ?? ExpectedRevision.Any;
    try {
      const result = await this.client.appendToStream(streamId, events.map(toEventData), { expectedRevision: toExpected(expected) });
      const nextExpectedRevision = Number(result.nextExpectedRevision);
      // The server reports the last event's position; an idempotent replay may come back without one.
      const position = result.position ? Number(result.position.commit) : await this.positionOfRevision(streamId, nextExpectedRevision);
      return { streamId, nextExpectedRevision, position };
    } catch (error) {
      if (error instanceof WrongExpectedVersionError) {
        const actual = error.actualVersion === NO_STREAM ? -1 : Number(error.actualVersion);
        throw new WrongExpectedRevisionError(streamId, expected, actual);
      }
      throw error;
    }
  }

  async readStream(streamId: string, options: ReadStreamOptions = {}): Promise<RecordedEvent[]> {
    this.assertOpen();
    const backwards = options.direction === 'backwards';
    const read = this.client.readStream(streamId, {
      direction: backwards ? BACKWARDS : FORWARDS,
      fromRevision: options.fromRevision !== undefined ? BigInt(options.fromRevision) : backwards ? END : START,
      maxCount: options.maxCount ?? Number.MAX_SAFE_INTEGER,
    });
    const events: RecordedEvent[] = [];
    try {
      for await (const resolved of read) if (resolved.event) events.push(this.toRecorded(resolved.event));
    } catch (error) {
      if (error instanceof StreamNotFoundError) return [];
      throw error;
    }
    return events;
  }

  async streamRevision(streamId: string): Promise<number> {
    const [last] = await this.readStream(streamId, { direction: 'backwards', maxCount: 1 });
    return last ? last.streamRevision : -1;
  }

  async streamHead(streamId: string): Promise<StreamHead | undefined> {
    const [last] = await this.readStream(streamId, { direction: 'backwards', maxCount: 1 });
    return last && { revision: last.streamRevision, type: last.type };
  }

  /**
   * One page of $all after `fromPosition`. The client reads $all without server-side filters, so the
   * page scans raw events (system ones included) in chunks, up to `scanWindow` of them, for
   * `maxCount` matches; the checkpoint is the last event scanned, so it passes filtered-out events.
   */
  async readAll(options: ReadAllOptions = {}): Promise<FeedPage> {
    this.assertOpen();
    const from = options.fromPosition ?? 0;
    const maxCount = options.maxCount ?? 1000;
    const chunk = Math.max(maxCount, 256);
    const scanLimit = Math.max(maxCount, this.scanWindow);
    const events: RecordedEvent[] = [];
    let checkpoint = from;
    let scanned = 0;
    for (;;) {
      // Forward reads include the event at the start position itself: ask for one more and drop it.
      const requested = chunk + (checkpoint > 0 ? 1 : 0);
      const read = await readFully(
        this.client.readAll({ fromPosition: toReadPosition(checkpoint), direction: FORWARDS, maxCount: requested }),
      ).catch((error: unknown) => {
        throw isUnknownPosition(error, checkpoint) ? new UnknownPositionError(checkpoint) : error;
      });
      for (const { event } of read) {
        if (!event) continue;
        const position = positionOf(event);
        if (position <= checkpoint) continue;
        checkpoint = position;
        scanned += 1;
        if (!matchesFilter(event, options.filter)) continue;
        events.push(this.toRecorded(event));
        if (events.length >= maxCount) return { events, checkpoint, isEnd: false };
      }
      if (read.length < requested) return { events, checkpoint, isEnd: true };
      if (scanned >= scanLimit) return { events, checkpoint, isEnd: false };
    }
  }

  async headPosition(): Promise<number> {
    this.assertOpen();
    const pageSize = 256;
    let from: ReadPosition = END;
    for (;;) {
      const read: AllStreamResolvedEvent[] = await readFully(
        this.client.readAll({ fromPosition: from, direction: BACKWARDS, maxCount: pageSize }),
      );
      const head = read.find(({ event }) => event && matchesFilter(event))?.event; // system events do not count
      if (head) return positionOf(head);
      const last = read.at(-1)?.event;
      if (read.length < pageSize || !last) return 0;
      from = { commit: last.position.commit, prepare: last.position.commit }; // backwards reads exclude `from`
    }
  }

  subscribeToAll(options: SubscribeOptions = {}): Subscription {
    this.assertOpen();
    const control: SubscriptionControl = { closed: false };
    const iterator = this.feed(options, control);
    const subscription: Subscription = {
      [Symbol.asyncIterator]: () => iterator,
      close: async () => {
        control.closed = true;
        control.wake?.();
        await stopSubscription(control.current);
        await iterator.return(undefined);
        this.subscriptions.delete(subscription);
      },
    };
    this.subscriptions.add(subscription);
    return subscription;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all([...this.subscriptions].map((s) => s.close()));
    await this.client.dispose();
  }

  /**
   * Catch-up-then-live over a server-side filtered $all subscription. `position` is the position of
   * the last event handed to the consumer or skipped by the filter; after a dropped connection the
   * subscription resumes after it, so the consumer sees no gap and no duplicate.
   */
  private async *feed(options: SubscribeOptions, control: SubscriptionControl): AsyncGenerator<FeedPage> {
    const maxBatch = options.maxBatch ?? 1000;
    let position = options.fromPosition ?? 0;
    let yielded = position;
    let failures = 0;
    while (!control.closed) {
      const subscription = this.client.subscribeToAll({
        fromPosition: toReadPosition(position),
        filter: this.serverFilter(options.filter),
      });
      subscription.on('error', () => undefined); // errors are read through the iterator below; this keeps late ones from crashing the process
      let caughtUp = false;
      subscription.on('caughtUp', () => (caughtUp = true));
      control.current = subscription;
      const items = subscription[Symbol.asyncIterator]() as AsyncIterator<AllStreamResolvedEvent | CheckpointMarker>;
      let batch: RecordedEvent[] = [];
      let failure: unknown;
      /** The next item, when a page waited for it (below). */
      let pending: Promise<IteratorResult<AllStreamResolvedEvent | CheckpointMarker>> | undefined;
      try {
        for (;;) {
          const next = await (pending ?? items.next());
          pending = undefined;
          if (next.done || control.closed) break;
          const item = next.value;
          if (isMarker(item)) {
            const checkpoint = await this.lastEventBefore(item.checkpoint, position);
            if (checkpoint > position) position = checkpoint;
          } else if (item.event && positionOf(item.event) > position) {
            // (An event at or before `position` was handed over before a reconnection: dropped.)
            position = positionOf(item.event);
            if (matchesFilter(item.event, options.filter)) batch.push(this.toRecorded(item.event));
          }
          failures = 0;
          let more = subscription.readableLength > 0;
          // The subscription buffers `readableHighWaterMark` items (16): a consumer slower than the
          // feed (catching up, or behind the live feed) finds the buffer empty after each 16 and would
          // get pages of 16 events, each a commit of its own. A page that emptied a full buffer waits
          // briefly for the next item; a quiet live feed (fewer items) is handed over at once.
          if (!more && batch.length >= subscription.readableHighWaterMark && batch.length < maxBatch) {
            const asked = items.next();
            asked.catch(() => undefined); // awaited at the top of the loop, which sees its failure
            pending = asked;
            more = (await Promise.race([asked, sleep(GATHER_MS).then(() => undefined)])) !== undefined;
          }
          if (batch.length >= maxBatch || (!more && (batch.length > 0 || position > yielded))) {
            yielded = position;
            const page: FeedPage = { events: batch, checkpoint: position, isEnd: caughtUp && !more };
            batch = [];
            yield page;
          }
        }
      } catch (error) {
        failure = error;
      } finally {
        control.current = undefined;
        await stopSubscription(subscription);
      }
      if (batch.length > 0) {
        // Delivered by the server before the drop: hand them over, then resume after them.
        yielded = position;
        yield { events: batch, checkpoint: position, isEnd: false };
      }
      if (control.closed) return;
      // (The client reports an unknown position as an UnknownError, which counts as transient: not this one.)
      if (failure !== undefined && isUnknownPosition(failure, position)) throw new UnknownPositionError(position);
      // eslint-disable-next-line @typescript-eslint/only-throw-error -- the subscription's own error, passed on
      if (failure !== undefined && !isTransient(failure)) throw failure;
      // Dropped (or ended by the server): back off, then resubscribe after `position`.
      const delay = Math.min(this.maxDelayMs, this.initialDelayMs * 2 ** failures);
      failures += 1;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, delay);
        control.wake = done;
        function done() {
          clearTimeout(timer);
          control.wake = undefined;
          resolve();
        }
      });
    }
  }

  /**
   * EventStoreDB filters on one thing, stream name or event type: categories go to the server as
   * stream-name prefixes, otherwise types as an event-type regex, otherwise system events are
   * excluded. `matchesFilter` then applies the whole filter on this side.
   */
  private serverFilter(filter: EventFilter | undefined): Filter {
    const checkpointReached = (subscription: AllStreamSubscription, position: Position) => {
      // Pushed into the subscription's own stream, behind the events that preceded it.
      subscription.push({ checkpoint: position } satisfies CheckpointMarker);
    };
    const common = { checkpointInterval: this.checkpointInterval, checkpointReached };
    if (filter?.categories && filter.categories.length > 0) {
      return streamNameFilter({ prefixes: filter.categories.map((category) => `${category}-`), ...common });
    }
    if (filter?.types && filter.types.length > 0) {
      return eventTypeFilter({ regex: `^(?:${filter.types.map(escapeRegex).join('|')})$`, ...common });
    }
    return excludeSystemEvents(common);
  }

  /**
   * The position of the last event strictly before a server checkpoint. A checkpoint only says that
   * everything before it was scanned; it may be a pre-position (X, 0) or the log's end, where the
   * next, undelivered event will be written. The event before it is safe to resume after.
   */
  private async lastEventBefore(checkpoint: Position, current: number): Promise<number> {
    if (Number(checkpoint.commit) <= current) return current;
    try {
      const [before] = await readFully(
        this.client.readAll({ fromPosition: { commit: checkpoint.commit, prepare: checkpoint.commit }, direction: BACKWARDS, maxCount: 1 }),
      );
      return before?.event ? positionOf(before.event) : current;
    } catch {
      return current; // an unreadable checkpoint is skipped: the next event or checkpoint moves on
    }
  }

  private async positionOfRevision(streamId: string, revision: number): Promise<number> {
    const [event] = await this.readStream(streamId, { fromRevision: revision, maxCount: 1 });
    return event?.globalPosition ?? 0;
  }

  private toRecorded(event: EsdbRecordedEvent): RecordedEvent {
    const stored = isRecord(event.metadata) ? event.metadata : {};
    const extra: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(stored)) if (!OWN_METADATA_KEYS.includes(key)) extra[key] = value;
    let data: unknown = event.data;
    const storedSchemaVersion = typeof stored.schemaVersion === 'number' ? stored.schemaVersion : 1;
    let schemaVersion = storedSchemaVersion;
    if (this.upcast) ({ data, schemaVersion } = this.upcast(event.type, schemaVersion, data));
    const recorded: RecordedEvent = {
      eventId: event.id,
      type: event.type,
      schemaVersion,
      streamId: event.streamId,
      streamRevision: Number(event.revision),
      globalPosition: positionOf(event),
      occurredAt: text(stored.occurredAt),
      recordedAt: event.created.toISOString(),
      actor: text(stored.actor),
      correlationId: text(stored.correlationId),
      causationId: text(stored.causationId),
      data,
      metadata: extra,
    };
    if (schemaVersion !== storedSchemaVersion) recorded.storedSchemaVersion = storedSchemaVersion;
    return recorded;
  }

  private assertOpen(): void {
    if (this.closed) throw new EventStoreClosedError();
  }
}

interface SubscriptionControl {
  closed: boolean;
  current?: AllStreamSubscription;
  wake?: () => void;
}

async function stopSubscription(subscription: AllStreamSubscription | undefined): Promise<void> {
  if (!subscription) return;
  await subscription.unsubscribe().catch(() => undefined);
  subscription.destroy();
}

/**
 * Reads a streaming read to its end. Breaking out early is not an option: once the server has sent
 * everything, cancelling is a no-op and the unread rest keeps the call open, so dispose() would hang.
 */
async function readFully<T>(read: AsyncIterable<T>): Promise<T[]> {
  const items: T[] = [];
  for await (const item of read) items.push(item);
  return items;
}

/** The server refuses a $all position that is not a record boundary with INVALID_ARGUMENT. */
function isUnknownPosition(error: unknown, position: number): boolean {
  return position > 0 && !!error && typeof error === 'object' && (error as { code?: unknown }).code === 3; /* INVALID_ARGUMENT */
}

function positionOf(event: EsdbRecordedEvent | AllStreamRecordedEvent): number {
  if (!event.position)
    throw new Error(`event ${event.id} in ${event.streamId} came without a $all position (EventStoreDB 22.6 or later reports it)`);
  return Number(event.position.commit);
}

function toReadPosition(position: number): ReadPosition {
  return position > 0 ? { commit: BigInt(position), prepare: BigInt(position) } : START;
}

function toExpected(expected: ExpectedRevision): AppendExpectedRevision {
  switch (expected) {
    case ExpectedRevision.Any:
      return ANY;
    case ExpectedRevision.NoStream:
      return NO_STREAM;
    case ExpectedRevision.StreamExists:
      return STREAM_EXISTS;
    default:
      return BigInt(expected);
  }
}

function toEventData(event: NewEvent) {
  const { occurredAt, actor, correlationId, causationId, ...extra } = event.metadata;
  return jsonEvent({
    id: event.eventId,
    type: event.type,
    data: (event.data ?? {}) as JSONType,
    metadata: {
      ...extra,
      occurredAt,
      actor,
      correlationId,
      causationId,
      schemaVersion: event.schemaVersion ?? 1,
      // EventStoreDB's own names, so its $by_correlation_id projection and UI links work too.
      $correlationId: correlationId,
      $causationId: causationId,
    },
  });
}

/** A metadata field written as a string by the appender ('' where it is missing). */
function text(value: unknown): string {
  return value === undefined || value === null ? '' : typeof value === 'string' ? value : JSON.stringify(value);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !(value instanceof Uint8Array) && !Array.isArray(value);
}

function escapeRegex(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
