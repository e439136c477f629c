import type { EventFailure, FailureRequest, FailureRequestAction, SkippedEvent } from '@chronicle/cluster';
import type { Document } from '@chronicle/read-store';

/** Collection of the projector's own bookkeeping. */
export const STATUS_COLLECTION = '_projections';

/**
 * One document per projection generation at work: `<name>` for the serving (live) generation,
 * `<name>~rebuild` for a rebuild in progress. Each is committed with the read-model changes
 * it accounts for.
 */
export interface SlotStatus extends Document {
  projection: string;
  role: 'live' | 'rebuild';
  version: number;
  generation: number;
  /** Position of the last event applied to this generation. */
  checkpoint: number;
  updatedAt: string;
  startedAt?: string;
  eventsPerSecond?: number;
  /** Fencing token of the lease it was written under (in a cluster). */
  token?: number;
  /** The event the projection threw on, while this generation is stopped there. */
  failure?: EventFailure;
  /** Events operators told it to pass over (with who and why). */
  skipped?: SkippedEvent[];
}

/** A rebuild asked for by the API or the CLI: `<name>~request`. */
export interface RebuildRequest extends Document {
  projection: string;
  requestedAt: string;
  requestedBy: string;
}

/**
 * An operator's retry or skip of a failed projection: `<name>~retry`, `<name>~skip`. Named by
 * `projection` (no `role` field: in this collection `role` is a status document's live or rebuild).
 */
export interface FailureRequestDocument extends Document, Omit<FailureRequest, 'role'> {
  projection: string;
}

/** The projector process's heartbeat, so the API and the CLI can tell one is running. */
export interface ProjectorHeartbeat extends Document {
  pid: number;
  host: string;
  updatedAt: string;
  /** Set by a projector that stopped cleanly: no need to wait for the heartbeat to age. */
  stoppedAt?: string;
}

export const liveId = (projection: string) => projection;
export const rebuildId = (projection: string) => `${projection}~rebuild`;
export const requestId = (projection: string) => `${projection}~request`;
export const failureRequestId = (projection: string, action: FailureRequestAction) => `${projection}~${action}`;
export const HEARTBEAT_ID = '~projector';
