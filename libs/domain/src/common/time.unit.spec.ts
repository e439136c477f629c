import { InvalidInput } from './errors';
import { MAX_FUTURE_SKEW_MS, parseIsoDateTime, resolveOccurredAt } from './time';

const now = new Date('2024-06-01T12:00:00.000Z');

function invalidOccurredAt(value: string): InvalidInput {
  let error: unknown;
  try {
    resolveOccurredAt(value, now);
  } catch (e) {
    error = e;
  }
  expect(error).toBeInstanceOf(InvalidInput);
  expect((error as InvalidInput).field).toBe('occurredAt');
  return error as InvalidInput;
}

describe('resolveOccurredAt', () => {
  it('defaults to now', () => {
    expect(resolveOccurredAt(undefined, now)).toBe('2024-06-01T12:00:00.000Z');
  });

  it('allows the past (imported history)', () => {
    expect(resolveOccurredAt('2019-03-04T05:06:07.890Z', now)).toBe('2019-03-04T05:06:07.890Z');
  });

  it('allows exactly 5 minutes in the future', () => {
    expect(MAX_FUTURE_SKEW_MS).toBe(5 * 60 * 1000);
    expect(resolveOccurredAt('2024-06-01T12:05:00.000Z', now)).toBe('2024-06-01T12:05:00.000Z');
  });

  it('rejects more than 5 minutes in the future', () => {
    expect(invalidOccurredAt('2024-06-01T12:05:00.001Z').message).toContain('not be more than 5 minutes in the future');
    invalidOccurredAt('2025-01-01T00:00:00Z');
  });

  it.each([
    'yesterday',
    'not a date',
    '',
    'hello 1',
    '1',
    '2024-13-01T00:00:00Z',
    '2024-02-30T00:00:00Z',
    '2024-06-01T25:00:00Z',
    '01/06/2024',
  ])('rejects %j', (value) => {
    expect(invalidOccurredAt(value).message).toContain('must be an ISO 8601 date-time');
  });

  it('normalises an offset to UTC', () => {
    expect(resolveOccurredAt('2024-03-01T12:00:00+02:00', now)).toBe('2024-03-01T10:00:00.000Z');
    expect(resolveOccurredAt('2024-03-01T07:30:00-05:00', now)).toBe('2024-03-01T12:30:00.000Z');
  });

  it('normalises a date, a short time and lower-case designators to full ISO UTC', () => {
    expect(resolveOccurredAt('2024-03-01', now)).toBe('2024-03-01T00:00:00.000Z');
    expect(resolveOccurredAt('2024-03-01T09:15Z', now)).toBe('2024-03-01T09:15:00.000Z');
    expect(resolveOccurredAt('2024-03-01t09:15:00z', now)).toBe('2024-03-01T09:15:00.000Z');
  });

  it('reads a date-time without offset as UTC, whatever the server zone', () => {
    expect(resolveOccurredAt('2024-03-01T09:15:30', now)).toBe('2024-03-01T09:15:30.000Z');
  });
});

describe('parseIsoDateTime', () => {
  it('parses dates and date-times to epoch milliseconds', () => {
    expect(parseIsoDateTime('1970-01-01')).toBe(0);
    expect(parseIsoDateTime('1970-01-01T00:00:01.5Z')).toBe(1500);
    expect(parseIsoDateTime('2024-02-29')).toBe(Date.UTC(2024, 1, 29));
  });

  it('returns NaN for impossible calendar dates', () => {
    expect(parseIsoDateTime('2023-02-29')).toBeNaN();
    expect(parseIsoDateTime('2024-04-31')).toBeNaN();
    expect(parseIsoDateTime('2024-00-10')).toBeNaN();
  });

  it('returns NaN for free text that Date.parse would accept', () => {
    expect(Number.isNaN(Date.parse('tomorrow 5'))).toBe(false); // why this helper exists
    expect(parseIsoDateTime('tomorrow 5')).toBeNaN();
    expect(parseIsoDateTime('Jan 5 2024')).toBeNaN();
  });
});
