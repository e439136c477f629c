import { categoryOf } from '@chronicle/domain';

/**
 * The event-store port. Two adapters implement it: SQLite (embedded default) and EventStoreDB
 * (production); both run the same contract suite (contract/event-store.contract.ts).
 *
 * Revisions are per stream and start at 0. Positions are global, start at 1, and increase in
 * commit order; position 0 means "before the first event". A checkpoint is the position of the
 * last event actually processed, and reads "from" a position return the events after it.
 */

/** Branded expected-revision constants (as in Emmett), or the exact revision of the last event. */
export const ExpectedRevision = {
  Any: 'any',
  NoStream: 'no-stream',
  StreamExists: 'exists',
} as const;
export type ExpectedRevision = (typeof ExpectedRevision)[keyof typeof ExpectedRevision] | number;

export interface EventMetadata {
  /** Business time, ISO 8601 (reports use it). */
  occurredAt: string;
  actor: string;
  correlationId: string;
  causationId: string;
  /** Anything else worth keeping with the event (e.g. the idempotency key). */
  [extra: string]: unknown;
}

export interface NewEvent {
  eventId: string;
  type: string;
  data: unknown;
  metadata: EventMetadata;
  schemaVersion?: number;
}

export interface RecordedEvent<Data = unknown> {
  eventId: string;
  type: string;
  /** The version of `data` as read: the current one when the store's upcast brought it up to date. */
  schemaVersion: number;
  /**
   * The version the event is stored with, present only when it was upcast on read (then below
   * `schemaVersion`). The audit trail shows it; everything else reads the upcast event.
   */
  storedSchemaVersion?: number;
  streamId: string;
  streamRevision: number;
  globalPosition: number;
  occurredAt: string;
  /** Server time of the append. */
  recordedAt: string;
  actor: string;
  correlationId: string;
  causationId: string;
  data: Data;
  /** Extra metadata beyond the fields above (may be empty). */
  metadata: Record<string, unknown>;
}

export interface AppendResult {
  streamId: string;
  /** Revision of the last event appended (the stream's new revision). */
  nextExpectedRevision: number;
  /** Global position of the last event appended. */
  position: number;
}

export interface AppendOptions {
  expectedRevision?: ExpectedRevision;
}

export interface ReadStreamOptions {
  direction?: 'forwards' | 'backwards';
  /** Inclusive; forwards default 0, backwards default the last revision. */
  fromRevision?: number;
  maxCount?: number;
}

/** Server-side filters for the global feed. Events of categories starting with `$` are never returned. */
export interface EventFilter {
  /** Stream categories (`customer`, `deal`, …). */
  categories?: string[];
  types?: string[];
}

export interface ReadAllOptions {
  /** Exclusive: events with a position greater than this. Default 0 (from the start). */
  fromPosition?: number;
  maxCount?: number;
  filter?: EventFilter;
}

/** A page of the global feed. `checkpoint` ≥ the last event's position: with a filter, it tells how far the scan went. */
export interface FeedPage {
  events: RecordedEvent[];
  checkpoint: number;
  /** True when the page reached the end of the feed as it stood when read. */
  isEnd: boolean;
}

export interface SubscribeOptions extends ReadAllOptions {
  /** Largest batch handed to the consumer at once. */
  maxBatch?: number;
}

/**
 * A catch-up-then-live subscription to the global feed, delivered as batches in global order.
 * Each batch's `checkpoint` may be stored as the position to resume from after it is processed.
 */
export interface Subscription extends AsyncIterable<FeedPage> {
  close(): Promise<void>;
}

export class WrongExpectedRevisionError extends Error {
  constructor(
    readonly streamId: string,
    readonly expected: ExpectedRevision,
    /** The stream's actual revision; -1 when the stream does not exist. */
    readonly actual: number,
  ) {
    super(`${streamId}: expected revision ${String(expected)} but the stream is at ${actual < 0 ? 'no stream' : actual}`);
    this.name = 'WrongExpectedRevisionError';
  }
}

/**
 * A feed position that is no event's position in this store. SQLite positions are dense integers,
 * so any one is valid there; EventStoreDB refuses a $all position that is not a record boundary.
 * Feed positions are meant to be handed back as given (0: the start).
 */
export class UnknownPositionError extends Error {
  constructor(readonly position: number) {
    super(`${position} is not a position of this event store: use 0 (the start) or a checkpoint the feed handed out`);
    this.name = 'UnknownPositionError';
  }
}

export class EventStoreClosedError extends Error {
  constructor() {
    super('the event store is closed');
    this.name = 'EventStoreClosedError';
  }
}

export interface StreamHead {
  revision: number;
  type: string;
}

export interface EventStore {
  append(streamId: string, events: NewEvent[], options?: AppendOptions): Promise<AppendResult>;
  readStream(streamId: string, options?: ReadStreamOptions): Promise<RecordedEvent[]>;
  /** The stream's last revision, or -1 when it does not exist. Cheap: does not read the stream. */
  streamRevision(streamId: string): Promise<number>;
  /**
   * The stream's last revision and the type of its last event; undefined when it does not exist.
   * Cheap where the store can (no payload read, nothing decrypted): a decision on existence alone
   * uses it to see how a stream ends (a merged customer's, say).
   */
  streamHead(streamId: string): Promise<StreamHead | undefined>;
  readAll(options?: ReadAllOptions): Promise<FeedPage>;
  /** Position of the last event in the store (0 when empty). */
  headPosition(): Promise<number>;
  subscribeToAll(options?: SubscribeOptions): Subscription;
  close(): Promise<void>;
}

export function matchesFilter(event: Pick<RecordedEvent, 'streamId' | 'type'>, filter?: EventFilter): boolean {
  if (event.streamId.startsWith('$') || event.type.startsWith('$')) return false;
  if (!filter) return true;
  if (filter.categories && !filter.categories.includes(categoryOf(event.streamId))) return false;
  if (filter.types && !filter.types.includes(event.type)) return false;
  return true;
}
