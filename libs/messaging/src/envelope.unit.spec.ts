import type { RecordedEvent } from '@chronicle/event-store';
import { ENVELOPE_VERSION, EnvelopeError, envelopeHeaders, parseEnvelope, toEnvelope, toMessage, topicForStream } from './envelope';

/**
 * PINS the Kafka contract with downstream services (docs/kafka.md). If a test here fails, you changed
 * what consumers receive: that is a new envelope version (ENVELOPE_VERSION, the README's
 * "How services integrate", docs/kafka.md), never a silent edit of the expectations below.
 */
const event: RecordedEvent = {
  eventId: '6f1c2b8e-8d7a-4c1e-9a53-0b5f7f2d1e01',
  type: 'DealWon',
  schemaVersion: 2,
  streamId: 'deal-0b1e7c52-3f0d-4e43-a1a4-9c3b7f6d2e10',
  streamRevision: 4,
  globalPosition: 1234,
  occurredAt: '2025-03-01T09:30:00.000Z',
  recordedAt: '2025-03-01T09:30:01.250Z',
  actor: 'rep-07',
  correlationId: 'corr-1',
  causationId: 'cause-1',
  data: { dealId: '0b1e7c52-3f0d-4e43-a1a4-9c3b7f6d2e10', customerId: 'c-1', amount: 24000, stage: 'negotiation' },
  metadata: { idempotencyKey: 'win-1' },
};

describe('envelope v1 (pinned)', () => {
  it('is version 1', () => {
    expect(ENVELOPE_VERSION).toBe(1);
  });

  it('has exactly these fields, in this order, with these types', () => {
    const envelope = toEnvelope(event);
    expect(
      Object.entries(envelope).map(([name, value]) => [name, Array.isArray(value) ? 'array' : value === null ? 'null' : typeof value]),
    ).toEqual([
      ['envelopeVersion', 'number'],
      ['eventId', 'string'],
      ['type', 'string'],
      ['schemaVersion', 'number'],
      ['streamId', 'string'],
      ['streamRevision', 'number'],
      ['globalPosition', 'number'],
      ['occurredAt', 'string'],
      ['recordedAt', 'string'],
      ['actor', 'string'],
      ['correlationId', 'string'],
      ['causationId', 'string'],
      ['metadata', 'object'],
      ['data', 'object'],
    ]);
  });

  it('serializes to exactly this JSON', () => {
    expect(toMessage(event).value).toBe(
      '{"envelopeVersion":1,"eventId":"6f1c2b8e-8d7a-4c1e-9a53-0b5f7f2d1e01","type":"DealWon","schemaVersion":2,' +
        '"streamId":"deal-0b1e7c52-3f0d-4e43-a1a4-9c3b7f6d2e10","streamRevision":4,"globalPosition":1234,' +
        '"occurredAt":"2025-03-01T09:30:00.000Z","recordedAt":"2025-03-01T09:30:01.250Z","actor":"rep-07",' +
        '"correlationId":"corr-1","causationId":"cause-1","metadata":{"idempotencyKey":"win-1"},' +
        '"data":{"dealId":"0b1e7c52-3f0d-4e43-a1a4-9c3b7f6d2e10","customerId":"c-1","amount":24000,"stage":"negotiation"}}',
    );
  });

  it('goes to topic crm.<category> with the stream id as key', () => {
    const message = toMessage(event);
    expect(message.topic).toBe('crm.deal');
    expect(message.key).toBe(event.streamId);
    expect(topicForStream('customer-1')).toBe('crm.customer');
    expect(topicForStream('spend-paid-search')).toBe('crm.spend');
    expect(topicForStream('lead-1', 'test-run-7')).toBe('test-run-7.lead');
    expect(() => topicForStream('bad category-1')).toThrow(/valid Kafka topic/);
  });

  it('carries exactly these headers, all strings', () => {
    expect(envelopeHeaders(event)).toEqual({
      eventId: '6f1c2b8e-8d7a-4c1e-9a53-0b5f7f2d1e01',
      type: 'DealWon',
      schemaVersion: '2',
      correlationId: 'corr-1',
      envelopeVersion: '1',
    });
    expect(toMessage(event).headers).toEqual(envelopeHeaders(event));
  });

  it('writes empty metadata as {} (never null or absent)', () => {
    expect(toEnvelope({ ...event, metadata: {} }).metadata).toEqual({});
    expect(JSON.parse(toMessage({ ...event, metadata: undefined as unknown as Record<string, unknown> }).value).metadata).toEqual({});
  });
});

describe('parseEnvelope (for consumers)', () => {
  it('reads back what the relay writes', () => {
    expect(parseEnvelope(Buffer.from(toMessage(event).value))).toEqual(toEnvelope(event));
  });

  it.each([
    ['an unknown envelope version', { ...toEnvelope(event), envelopeVersion: 2 }, /envelopeVersion/],
    ['a missing eventId', { ...toEnvelope(event), eventId: undefined }, /eventId/],
    ['a non-integer streamRevision', { ...toEnvelope(event), streamRevision: '4' }, /streamRevision/],
    ['metadata that is not an object', { ...toEnvelope(event), metadata: null }, /metadata/],
  ])('refuses %s', (_, value, message) => {
    expect(() => parseEnvelope(JSON.stringify(value))).toThrow(message);
  });

  it('refuses what is not a JSON object', () => {
    expect(() => parseEnvelope('nope')).toThrow(EnvelopeError);
    expect(() => parseEnvelope('[1]')).toThrow(EnvelopeError);
    expect(() => parseEnvelope(null)).toThrow(/tombstone/);
  });
});
