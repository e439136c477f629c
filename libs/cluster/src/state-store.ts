import type { EventFailure, FailureRequest, SkippedEvent } from './failure';
import type { Fence } from './fence';

/**
 * The state the processes of a cluster share besides the read models: the checkpoints of the feed
 * consumers (process managers, the relay), Idempotency-Key results, leases and worker heartbeats.
 * Two adapters: SQLite (`DATA_DIR/state.db`, shared by the processes of one host) and MongoDB
 * (the read store's database), both held to one contract suite (contract/state-store.contract.ts).
 */

/** What a consumer keeps beside its position: the event it is stopped on, and the events it was told to skip. */
export interface CheckpointDetails {
  failure?: EventFailure;
  skipped?: SkippedEvent[];
}

export interface CheckpointRecord extends CheckpointDetails {
  name: string;
  /** Position of the last event handled. */
  position: number;
  /** Fencing token of the holder that claimed it last. */
  token: number;
  updatedAt: string;
}

/**
 * Where a consumer of the global feed (process manager, relay) keeps the position of the last event
 * it handled. Fenced: a holder claims the checkpoint with its lease's token before reading it, and
 * every save with an older token is refused from then on.
 */
export interface CheckpointStore {
  /**
   * Takes the checkpoint over for `fence` and returns the position to continue from (0 for a new
   * one). From now on saves with a lower token fail. Claiming again with the same token is a no-op.
   * Throws FencedError when a holder with a higher token has claimed it already.
   */
  claim(name: string, fence: Fence): Promise<number>;
  /**
   * Stores the position, and the details when given (they replace the stored ones; a claim with a
   * higher token keeps them). Throws FencedError when another holder has claimed the checkpoint since.
   */
  save(name: string, position: number, fence: Fence, details?: CheckpointDetails): Promise<void>;
  /** Every checkpoint (status pages). */
  checkpoints(): Promise<CheckpointRecord[]>;
  /**
   * Forgets a checkpoint whose consumer is gone for good (a deleted webhook subscription), so that
   * it no longer shows, nor its lag. Any later save to it is refused as fenced; a claim starts at 0.
   */
  removeCheckpoint(name: string): Promise<void>;
}

export interface IdempotencyRecord {
  /** Hash of method, route and body: the same key on a different request is refused. */
  requestHash: string;
  statusCode: number;
  body: unknown;
  createdAt: string;
}

/** Results of commands sent with an `Idempotency-Key`, per actor. The first result saved wins. */
export interface IdempotencyStore {
  findResult(actor: string, key: string): Promise<IdempotencyRecord | undefined>;
  saveResult(actor: string, key: string, record: IdempotencyRecord): Promise<void>;
}

/** Who a process is, as leases and heartbeats name it. */
export interface WorkerInfo {
  /** Unique per process start: `<host>:<pid>:<random>`. */
  id: string;
  host: string;
  pid: number;
  /** Linux PID namespace of the process, so that its PID is only ever compared within that namespace. */
  pidNamespace?: string;
  startedAt: string;
}

/** Only the WorkerInfo fields of an object (a WorkerRecord, say), without undefined ones (MongoDB would store them as null). */
export const workerInfoOf = (w: WorkerInfo): WorkerInfo => ({
  id: w.id,
  host: w.host,
  pid: w.pid,
  ...(w.pidNamespace !== undefined && { pidNamespace: w.pidNamespace }),
  startedAt: w.startedAt,
});

export interface LeaseRecord {
  role: string;
  /** The fencing token: 1 for the first holder of the role, one more for each holder after it. */
  token: number;
  /** Renewals so far. A standby takes the role over once neither token nor beat changed for the lease timeout. */
  beat: number;
  holder: WorkerInfo;
  /** When this token was granted (the holder's clock). */
  since: string;
  /** The last renewal (the holder's clock; informational: expiry is judged by observation, not by clocks). */
  renewedAt: string;
  /** Given up on purpose (shutdown, rebalancing): another process may take it at once. */
  released: boolean;
}

export interface WorkerRecord extends WorkerInfo {
  /** Groups of roles this worker can work (`projector`, `relay`): the fair share is counted per group. */
  groups: string[];
  /** Roles it holds. */
  roles: string[];
  /** Its last heartbeat (its own clock). */
  beatAt: string;
}

/**
 * Leases on roles. Every grant is a new, higher token, and only one process can be granted a given
 * token, even when several try at once (an insert of that token, or a transaction). Expiry is not
 * decided here: the coordinator takes a lease over once it has seen it unchanged for the lease
 * timeout on its own monotonic clock, so no two machines' clocks are ever compared.
 */
export interface LeaseStore {
  /** The current lease (highest token) of every role that ever had one. */
  leases(): Promise<LeaseRecord[]>;
  /**
   * Grants the role's next token to `holder`, if the role's current token is still `current`
   * (0: the role never had a lease). Returns the new lease, or undefined when another process was
   * granted that token first.
   */
  acquire(role: string, holder: WorkerInfo, current: number): Promise<LeaseRecord | undefined>;
  /** Counts a renewal; false when the lease is not the role's current one any more (lost). */
  renew(role: string, token: number): Promise<boolean>;
  /** Gives the lease up so that another process can take the role at once. */
  release(role: string, token: number): Promise<void>;
  /** Records this worker's heartbeat, its groups and the roles it holds. */
  heartbeat(worker: WorkerInfo, groups: string[], roles: string[]): Promise<void>;
  workers(): Promise<WorkerRecord[]>;
  /** Forgets a worker (its shutdown, or one silent for long). */
  removeWorker(id: string): Promise<void>;
}

/**
 * Requests of operators (retry, skip) for the holder of a failed consumer's role, whichever process
 * that is: any API process leaves one, the holder takes it (docs/projections.md).
 */
export interface FailureRequestStore {
  /** Leaves a request; it replaces an earlier one of the same role and action. */
  leaveRequest(request: FailureRequest): Promise<void>;
  /** The requests left for a role. */
  requests(role: string): Promise<FailureRequest[]>;
  /** Removes a request once handled; a newer one of the same role and action stays. */
  removeRequest(request: FailureRequest): Promise<void>;
}

/** Every port of the shared state, as one adapter implements them. */
export interface StateStore extends CheckpointStore, IdempotencyStore, LeaseStore, FailureRequestStore {
  readonly kind: 'sqlite' | 'mongodb';
  close(): Promise<void>;
}
