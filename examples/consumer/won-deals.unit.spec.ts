import { ContractValidator, ContractViolation } from './contract';
import { apply, emptyView, readBatch } from './won-deals';

/** The example consumer checks each message against Chronicle's published contract before it applies any. */
const contract = ContractValidator.fromFile();

const envelope = {
  envelopeVersion: 1,
  eventId: '6f1c2b8e-8d7a-4c1e-9a53-0b5f7f2d1e01',
  type: 'DealWon',
  schemaVersion: 1,
  streamId: 'deal-d-1',
  streamRevision: 4,
  globalPosition: 1234,
  occurredAt: '2025-03-01T09:30:00.000Z',
  recordedAt: '2025-03-01T09:30:01.250Z',
  actor: 'rep-07',
  correlationId: 'corr-1',
  causationId: 'cause-1',
  metadata: {},
  data: { dealId: 'd-1', customerId: 'c-1', amount: 24000, stage: 'negotiation' },
};
const headers = { eventId: envelope.eventId, type: 'DealWon', schemaVersion: '1', correlationId: 'corr-1', envelopeVersion: '1' };
const message = (value: object, h: Record<string, string> = headers) => ({
  value: Buffer.from(JSON.stringify(value)),
  headers: Object.fromEntries(Object.entries(h).map(([k, v]) => [k, Buffer.from(v)])),
});

it('reads a batch whose messages match the contract', () => {
  const events = readBatch([message(envelope)], contract);
  const view = emptyView();
  for (const event of events) apply(view, new Set(), event);
  expect(view.owners).toEqual({ unknown: { wonDeals: 1, revenue: 24000 } });
});

it('refuses a batch with a message that does not match, naming what is wrong', () => {
  const wrong = { ...envelope, eventId: 'e-2', data: { dealId: 'd-1', customerId: 'c-1', amount: '24000', stage: 'won' } };
  const read = () => readBatch([message(envelope), message(wrong)], contract);
  expect(read).toThrow(ContractViolation);
  expect(read).toThrow(/DealWon does not match the contract: value\/data\/amount must be number/);
  // Headers are part of the contract too: a type header that contradicts the value is refused.
  expect(() => readBatch([message(envelope, { ...headers, type: 'DealLost' })], contract)).toThrow(
    /headers\/type must be equal to constant/,
  );
  expect(() => readBatch([message({ ...envelope, type: 'DealRenamed' })], contract)).toThrow(/unknown event type "DealRenamed"/);
});
