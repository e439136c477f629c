import { InvalidInput } from './errors';

/** Business time may lie in the past (imported history) but not more than this in the future. */
export const MAX_FUTURE_SKEW_MS = 5 * 60 * 1000;

/** Normalises a client's `occurredAt` (or now) to ISO 8601 UTC; `now` is passed in to keep this pure. */
export function resolveOccurredAt(occurredAt: string | undefined, now: Date): string {
  if (occurredAt === undefined) return now.toISOString();
  const ms = Date.parse(occurredAt);
  if (Number.isNaN(ms)) throw new InvalidInput('occurredAt', 'must be an ISO 8601 date-time');
  if (ms > now.getTime() + MAX_FUTURE_SKEW_MS) {
    throw new InvalidInput('occurredAt', 'must not be more than 5 minutes in the future');
  }
  return new Date(ms).toISOString();
}
