import { rule } from './errors';

/**
 * Archiving (issue 16): an archived record leaves the lists and the open-pipeline figures but keeps
 * its history and its report contributions as of their time. The state every archivable
 * aggregate (customer, lead, deal) folds from its Archived/Restored events.
 */
export interface ArchiveState {
  /** Set by <Kind>Archived, cleared by <Kind>Restored (optional: absent on older snapshots). */
  archived?: boolean;
  archivedAt?: string;
  /** Business time of the last archive or restore: the next one may not precede it. */
  archiveChangedAt?: string;
}

/** While archived, a record accepts no command but its restore (and those its decider exempts, e.g. erasure). */
export function assertNotArchived(state: ArchiveState, streamId: string): void {
  rule(!state.archived, `${streamId} is archived; restore it first`, 'archived');
}

function inOrder(state: ArchiveState, streamId: string, occurredAt: string): void {
  rule(
    state.archiveChangedAt === undefined || Date.parse(occurredAt) >= Date.parse(state.archiveChangedAt),
    `occurredAt ${occurredAt} is before ${streamId}'s last archive or restore (${state.archiveChangedAt})`,
    'out-of-order',
  );
}

/** Archiving an archived record is refused (HTTP 422), as is one out of business-time order. */
export function assertMayArchive(state: ArchiveState, streamId: string, occurredAt: string): void {
  rule(!state.archived, `${streamId} is already archived (since ${state.archivedAt})`, 'already-archived');
  inOrder(state, streamId, occurredAt);
}

/** Restoring a record that is not archived is refused (HTTP 422). */
export function assertMayRestore(state: ArchiveState, streamId: string, occurredAt: string): void {
  rule(state.archived === true, `${streamId} is not archived; only an archived record can be restored`, 'not-archived');
  inOrder(state, streamId, occurredAt);
}

/** The event's data: `reason` only when given. */
export const archiveData = <K extends string>(key: K, id: string, reason: string | undefined) =>
  (reason === undefined ? { [key]: id } : { [key]: id, reason }) as { [P in K]: string } & { reason?: string };

export const archivedState = (occurredAt: string): Required<ArchiveState> => ({
  archived: true,
  archivedAt: occurredAt,
  archiveChangedAt: occurredAt,
});

export const restoredState = (occurredAt: string): ArchiveState => ({
  archived: false,
  archivedAt: undefined,
  archiveChangedAt: occurredAt,
});
