/**
 * A feed consumer (a projection, a process manager) that keeps failing on one event stops there
 * alone: the others go on past it. What it is stopped on, how often it tried and what an operator
 * told it to pass over are recorded where its checkpoint lives (the projection's status document,
 * the process manager's checkpoint record), so whichever process holds its role shows and honours
 * them (docs/projections.md, "A projection that fails").
 */

/** The event a consumer is stopped on. */
export interface EventFailure {
  eventId: string;
  eventType: string;
  /** The event's global position. */
  position: number;
  /** The last error's message. */
  error: string;
  /** Attempts at this event so far, the first included. */
  attempts: number;
  firstFailedAt: string;
  lastFailedAt: string;
  /** When it is tried again by itself (an operator's retry or skip comes first). */
  nextRetryAt: string;
}

/** An event an operator told a consumer to pass over: who, why, and the error it failed with. */
export interface SkippedEvent {
  eventId: string;
  eventType: string;
  position: number;
  error: string;
  reason: string;
  skippedBy: string;
  skippedAt: string;
  /** Projections: the version the skip holds for (a new version, being new code, applies the event again). */
  version?: number;
}

/** What an operator asked the holder of a failed role to do: try the event again now, or pass over it. */
export type FailureRequestAction = 'retry' | 'skip';

/** An operator's request, left where the holder of the role looks for it. */
export interface FailureRequest {
  /** Unique per request: the holder removes the one it handled, not a newer one. */
  id: string;
  role: string;
  action: FailureRequestAction;
  /** skip: the event the role is stopped on (a request for another event is dropped). */
  eventId?: string;
  /** skip: why, kept with the skip. */
  reason?: string;
  requestedBy: string;
  requestedAt: string;
}

/** Backoff between the attempts at one event: doubles from `initialMs` up to `maxMs`. */
export interface FailureRetryPolicy {
  initialMs: number;
  maxMs: number;
}

/** 1 s, 2 s, 4 s, … up to 5 minutes: a passing hiccup costs a second, a lasting bug a query every 5 minutes. */
export const DEFAULT_FAILURE_RETRY: FailureRetryPolicy = { initialMs: 1000, maxMs: 300_000 };

/** Error messages are kept this short: they are shown on status pages, not stored as logs. */
const ERROR_MAX = 1000;

/** The failure after one more failed attempt at `event` (attempts go on counting for the same event). */
export function nextFailure(
  previous: EventFailure | undefined,
  event: { eventId: string; type: string; globalPosition: number },
  error: unknown,
  policy: FailureRetryPolicy,
  now = Date.now(),
): EventFailure {
  const same = previous?.eventId === event.eventId;
  const attempts = same ? previous.attempts + 1 : 1;
  const delay = Math.min(policy.initialMs * 2 ** Math.min(attempts - 1, 40), policy.maxMs);
  const message = error instanceof Error ? error.message : String(error);
  const at = new Date(now).toISOString();
  return {
    eventId: event.eventId,
    eventType: event.type,
    position: event.globalPosition,
    error: message.length > ERROR_MAX ? `${message.slice(0, ERROR_MAX)}…` : message,
    attempts,
    firstFailedAt: same ? previous.firstFailedAt : at,
    lastFailedAt: at,
    nextRetryAt: new Date(now + delay).toISOString(),
  };
}

/** The record of skipping the event `failure` is about. */
export function skipOf(failure: EventFailure, request: Pick<FailureRequest, 'reason' | 'requestedBy'>, version?: number): SkippedEvent {
  const skipped: SkippedEvent = {
    eventId: failure.eventId,
    eventType: failure.eventType,
    position: failure.position,
    error: failure.error,
    reason: request.reason ?? '',
    skippedBy: request.requestedBy,
    skippedAt: new Date().toISOString(),
  };
  if (version !== undefined) skipped.version = version;
  return skipped;
}

/**
 * Why a retry or skip request cannot be taken (the API answers it as a 409): the role is not
 * stopped on any event, or on another one than the request names.
 */
export class FailureRequestRefused extends Error {
  constructor(
    /** `not-stopped`: nothing to retry or skip; `other-event`: a skip names another event than the one it is stopped on. */
    readonly code: 'not-stopped' | 'other-event',
    message: string,
  ) {
    super(message);
    this.name = 'FailureRequestRefused';
  }
}

/** Checks a request against the role's failure; throws FailureRequestRefused when it does not apply. */
export function checkFailureRequest(
  role: string,
  failures: Array<EventFailure | undefined>,
  action: FailureRequestAction,
  eventId?: string,
): void {
  const current = failures.filter((f): f is EventFailure => f !== undefined);
  if (current.length === 0)
    throw new FailureRequestRefused('not-stopped', `${role} is not stopped on any event: there is nothing to ${action}`);
  if (action === 'skip' && !current.some((f) => f.eventId === eventId)) {
    const on = current.map((f) => `${f.eventId} (${f.eventType} at position ${f.position})`).join(' and ');
    throw new FailureRequestRefused(
      'other-event',
      `${role} is stopped on event ${on}, not on ${eventId}: only the event it is stopped on may be skipped`,
    );
  }
}
