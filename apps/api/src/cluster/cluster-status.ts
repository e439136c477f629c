import { Inject, Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import {
  checkFailureRequest,
  EventFailure,
  FailureRequestAction,
  LeaseRecord,
  SkippedEvent,
  StateStore,
  WorkerRecord,
} from '@chronicle/cluster';
import { FeedProcessManager, PROCESS_MANAGERS } from '@chronicle/commands';
import type { EventStore } from '@chronicle/event-store';
import { DEFAULT_RELAY_CHECKPOINT } from '@chronicle/messaging';
import { projectionRole, ReadModels } from '@chronicle/projector';
import { ChronicleConfig, CONFIG, EVENT_STORE, STATE_STORE } from '@chronicle/infrastructure';

/** Who works a role now, as its lease says. */
export interface RoleHolder {
  /** The fencing token: 1 for the role's first holder, one more for each later one. */
  token: number;
  /** The holding process: worker id, host and pid. */
  worker: string;
  host: string;
  pid: number;
  /** Since when this holder has the role. */
  since: string;
  /** Its last renewal, by its own clock. */
  renewedAt: string;
  /** Given back (shutdown, rebalancing), not yet taken by another process. */
  released: boolean;
}

export interface ConsumerRoleStatus {
  role: string;
  holder: RoleHolder | null;
  checkpoint: number;
  /**
   * Events after its checkpoint that it has to handle: all of them for the relay; for a process
   * manager those of the types it reacts to (counted up to LAG_COUNT_LIMIT), since a filtered
   * subscription's checkpoint only moves as far as the server reports having scanned.
   */
  lag: number;
  /** The event it is stopped on (a reaction that keeps failing). */
  failure?: EventFailure;
  /** Events operators told it to pass over, with who and why. */
  skipped?: SkippedEvent[];
}

/** A process manager as GET /projections shows it: `failed` while it is stopped on an event. */
export interface ProcessManagerStatus extends ConsumerRoleStatus {
  status: 'live' | 'failed';
}

/** A role stopped on an event: a projection (live generation or rebuild) or a process manager. */
export interface FailedRole {
  role: string;
  failure: EventFailure;
}

/** A process manager's lag is counted up to this many events (one filtered read). */
export const LAG_COUNT_LIMIT = 10_000;

export interface WorkerStatus {
  worker: string;
  host: string;
  pid: number;
  groups: string[];
  roles: string[];
  startedAt: string;
  lastHeartbeat: string;
}

/**
 * The cluster as the shared stores show it, for GET /projections, GET /relay, /metrics and /health:
 * every role's lease (holder, token, since), checkpoint, lag and failure, and the workers'
 * heartbeats. It reads only shared state, so every API process answers the same, whichever
 * processes do the work; for the same reason an operator's retry or skip of a process manager is
 * left in the shared state, for whichever process holds its role.
 */
@Injectable()
export class ClusterStatus {
  constructor(
    @Inject(STATE_STORE) private readonly state: StateStore,
    @Inject(EVENT_STORE) private readonly events: EventStore,
    @Inject(CONFIG) private readonly config: ChronicleConfig,
    private readonly readModels: ReadModels,
    @Inject(PROCESS_MANAGERS) private readonly processManagerList: FeedProcessManager[],
  ) {}

  async leases(): Promise<Map<string, RoleHolder>> {
    return new Map((await this.state.leases()).map((l) => [l.role, holderOf(l)]));
  }

  /** Workers heard from within two lease timeouts. */
  async workers(): Promise<WorkerStatus[]> {
    const horizon = Date.now() - 2 * this.config.lease.timeoutMs;
    return (await this.state.workers())
      .filter((w) => Date.parse(w.beatAt) >= horizon)
      .map((w: WorkerRecord) => ({
        worker: w.id,
        host: w.host,
        pid: w.pid,
        groups: w.groups,
        roles: w.roles,
        startedAt: w.startedAt,
        lastHeartbeat: w.beatAt,
      }))
      .sort((a, b) => a.worker.localeCompare(b.worker));
  }

  /** Projections (ReadModels.info) with their roles' holders. */
  async projections() {
    const [info, leases] = await Promise.all([this.readModels.info(), this.leases()]);
    return info.map((p) => ({ ...p, role: projectionRole(p.name), holder: leases.get(projectionRole(p.name)) ?? null }));
  }

  /** The feed consumers with a checkpoint in the state store: the process managers and the relay. */
  async consumers(): Promise<ConsumerRoleStatus[]> {
    const [checkpoints, leases, head] = await Promise.all([this.state.checkpoints(), this.leases(), this.events.headPosition()]);
    const byName = new Map(checkpoints.map((c) => [c.name, c]));
    const roles = new Set([...byName.keys(), ...[...leases.keys()].filter((r) => !r.startsWith('projection:'))]);
    const types = new Map(this.processManagerList.map((m) => [m.checkpointName, m.eventTypes]));
    return Promise.all(
      [...roles].sort().map(async (role) => {
        const record = byName.get(role);
        const checkpoint = record?.position ?? 0;
        const eventTypes = types.get(role);
        const lag = eventTypes ? await this.eventsAfter(checkpoint, eventTypes) : Math.max(0, head - checkpoint);
        const status: ConsumerRoleStatus = { role, holder: leases.get(role) ?? null, checkpoint, lag };
        if (record?.failure) status.failure = record.failure;
        if (record?.skipped?.length) status.skipped = record.skipped;
        return status;
      }),
    );
  }

  private async eventsAfter(position: number, types: readonly string[]): Promise<number> {
    const page = await this.events.readAll({ fromPosition: position, maxCount: LAG_COUNT_LIMIT, filter: { types: [...types] } });
    return page.events.length;
  }

  async processManagers(): Promise<ProcessManagerStatus[]> {
    return (await this.consumers())
      .filter((c) => c.role.startsWith('process-manager:'))
      .map((c) => ({ ...c, status: c.failure ? 'failed' : 'live' }));
  }

  /** Every role stopped on an event, from the status documents and checkpoints alone (no lag to count): /health and /metrics. */
  async failedRoles(): Promise<FailedRole[]> {
    const [projections, checkpoints] = await Promise.all([this.readModels.failures(), this.state.checkpoints()]);
    return [
      ...[...projections].flatMap(([name, failures]) => failures.map((failure) => ({ role: projectionRole(name), failure }))),
      ...checkpoints.flatMap((c) => (c.failure ? [{ role: c.name, failure: c.failure }] : [])),
    ];
  }

  /**
   * Leaves an operator's retry or skip for whichever process holds a process manager's role (it
   * looks for requests while it is stopped on an event). Throws FailureRequestRefused when the
   * process manager is not stopped on any event, or on another one than the skip names.
   */
  async requestProcessManagerAction(
    role: string,
    action: FailureRequestAction,
    requestedBy: string,
    skip?: { eventId: string; reason: string },
  ): Promise<void> {
    const record = (await this.state.checkpoints()).find((c) => c.name === role);
    checkFailureRequest(role, [record?.failure], action, skip?.eventId);
    await this.state.leaveRequest({
      id: randomUUID(),
      role,
      action,
      requestedBy,
      requestedAt: new Date().toISOString(),
      ...(skip && { eventId: skip.eventId, reason: skip.reason }),
    });
  }

  async relay(): Promise<ConsumerRoleStatus> {
    const found = (await this.consumers()).find((c) => c.role === DEFAULT_RELAY_CHECKPOINT);
    return found ?? { role: DEFAULT_RELAY_CHECKPOINT, holder: null, checkpoint: 0, lag: await this.events.headPosition() };
  }
}

function holderOf(lease: LeaseRecord): RoleHolder {
  return {
    token: lease.token,
    worker: lease.holder.id,
    host: lease.holder.host,
    pid: lease.holder.pid,
    since: lease.since,
    renewedAt: lease.renewedAt,
    released: lease.released,
  };
}
