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
}

/** A rebuild asked for by the API or the CLI: `<name>~request`. */
export interface RebuildRequest extends Document {
  projection: string;
  requestedAt: string;
  requestedBy: string;
}

/** The projector process's heartbeat, so the API and the CLI can tell one is running. */
export interface ProjectorHeartbeat extends Document {
  pid: number;
  host: string;
  updatedAt: string;
}

export const liveId = (projection: string) => projection;
export const rebuildId = (projection: string) => `${projection}~rebuild`;
export const requestId = (projection: string) => `${projection}~request`;
export const HEARTBEAT_ID = '~projector';
