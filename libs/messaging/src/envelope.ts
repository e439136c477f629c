import { categoryOf } from '@chronicle/domain';
import type { RecordedEvent } from '@chronicle/event-store';

/**
 * The message contract with downstream services (docs/kafka.md). Changing a field's name, type or
 * meaning is a new envelope version: bump ENVELOPE_VERSION, keep producing the old one until
 * consumers moved, and update the pinned test (envelope.unit.spec.ts). Adding a field to an
 * event's `data` is not an envelope change (that is the event's own `schemaVersion`).
 */
export const ENVELOPE_VERSION = 1;
export const DEFAULT_TOPIC_PREFIX = 'crm';

/** Version 1 of the JSON envelope: every metadata field of a stored event, then its data. */
// The JSDoc tags (@asType, @format) go into the published JSON Schema (npm run contract, docs/kafka.md).
export interface EventEnvelopeV1 {
  envelopeVersion: 1;
  eventId: string;
  /** The event type; `data` is that type's schema at `schemaVersion` (docs/asyncapi.json). */
  type: string;
  /** @asType integer */
  schemaVersion: number;
  /** The aggregate's stream, `<category>-<id>`; also the Kafka record key. */
  streamId: string;
  /** @asType integer */
  streamRevision: number;
  /** @asType integer */
  globalPosition: number;
  /**
   * Business time, ISO 8601 UTC.
   * @format date-time
   */
  occurredAt: string;
  /**
   * Server time of the append, ISO 8601 UTC.
   * @format date-time
   */
  recordedAt: string;
  actor: string;
  correlationId: string;
  causationId: string;
  /** Extra metadata kept with the event (e.g. the idempotency key); may be empty. */
  metadata: Record<string, unknown>;
  data: unknown;
}
export type EventEnvelope = EventEnvelopeV1;

/** Kafka record headers (all strings), so a consumer can route or skip without parsing the value. */
export interface EnvelopeHeaders {
  eventId: string;
  type: string;
  schemaVersion: string;
  correlationId: string;
  envelopeVersion: string;
}

export interface OutgoingMessage {
  topic: string;
  /** The stream id: one aggregate's events share a partition, hence their order. */
  key: string;
  value: string;
  headers: EnvelopeHeaders;
}

const TOPIC_NAME = /^[a-zA-Z0-9._-]+$/;

/** `<prefix>.<category>`, category = the stream id before its first '-' (e.g. `crm.deal`). */
export function topicForStream(streamId: string, prefix = DEFAULT_TOPIC_PREFIX): string {
  return topicForCategory(categoryOf(streamId), prefix);
}

export function topicForCategory(category: string, prefix = DEFAULT_TOPIC_PREFIX): string {
  const topic = `${prefix}.${category}`;
  // Kafka refuses other characters; a stream id outside the `<category>-<id>` scheme must not
  // produce a topic the broker rejects forever (the relay would stall on it).
  if (!TOPIC_NAME.test(topic) || topic.length > 249)
    throw new Error(`stream category "${category}" does not make a valid Kafka topic name ("${topic}")`);
  return topic;
}

export function toEnvelope(event: RecordedEvent): EventEnvelopeV1 {
  // Field order is fixed: the JSON reads the same for every event.
  return {
    envelopeVersion: ENVELOPE_VERSION,
    eventId: event.eventId,
    type: event.type,
    schemaVersion: event.schemaVersion,
    streamId: event.streamId,
    streamRevision: event.streamRevision,
    globalPosition: event.globalPosition,
    occurredAt: event.occurredAt,
    recordedAt: event.recordedAt,
    actor: event.actor,
    correlationId: event.correlationId,
    causationId: event.causationId,
    metadata: event.metadata ?? {},
    data: event.data,
  };
}

export function envelopeHeaders(event: RecordedEvent): EnvelopeHeaders {
  return {
    eventId: event.eventId,
    type: event.type,
    schemaVersion: String(event.schemaVersion),
    correlationId: event.correlationId,
    envelopeVersion: String(ENVELOPE_VERSION),
  };
}

export function toMessage(event: RecordedEvent, prefix = DEFAULT_TOPIC_PREFIX): OutgoingMessage {
  return {
    topic: topicForStream(event.streamId, prefix),
    key: event.streamId,
    value: JSON.stringify(toEnvelope(event)),
    headers: envelopeHeaders(event),
  };
}

export class EnvelopeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'EnvelopeError';
  }
}

const STRING_FIELDS = ['eventId', 'type', 'streamId', 'occurredAt', 'recordedAt', 'actor', 'correlationId', 'causationId'] as const;
const INTEGER_FIELDS = ['schemaVersion', 'streamRevision', 'globalPosition'] as const;

/**
 * For consumers: parses a record value and checks it is an envelope this code understands.
 * An unknown `envelopeVersion` is refused rather than half-read.
 */
export function parseEnvelope(value: Buffer | string | null): EventEnvelopeV1 {
  if (value === null) throw new EnvelopeError('empty record value (a tombstone is not an event)');
  let parsed: unknown;
  try {
    parsed = JSON.parse(typeof value === 'string' ? value : value.toString('utf8'));
  } catch (error) {
    throw new EnvelopeError(`record value is not JSON: ${(error as Error).message}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new EnvelopeError('record value is not a JSON object');
  const e = parsed as Record<string, unknown>;
  if (e.envelopeVersion !== ENVELOPE_VERSION)
    throw new EnvelopeError(`unsupported envelopeVersion ${JSON.stringify(e.envelopeVersion)} (this consumer reads ${ENVELOPE_VERSION})`);
  for (const field of STRING_FIELDS) if (typeof e[field] !== 'string') throw new EnvelopeError(`${field} must be a string`);
  for (const field of INTEGER_FIELDS) if (!Number.isInteger(e[field])) throw new EnvelopeError(`${field} must be an integer`);
  if (typeof e.metadata !== 'object' || e.metadata === null || Array.isArray(e.metadata))
    throw new EnvelopeError('metadata must be an object');
  if (!('data' in e)) throw new EnvelopeError('data is missing');
  return e as unknown as EventEnvelopeV1;
}
