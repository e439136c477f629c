import type { CommandContext } from './command-context';

/**
 * A caller limited to its own records (a rep: `context.ownerScope`) addressed a record it does not
 * own, named another owner, or tried to reassign one (HTTP 403). Thrown before anything is decided,
 * so nothing is appended.
 */
export class OwnershipViolation extends Error {
  readonly code = 'not-owner';

  constructor(message: string) {
    super(message);
    this.name = 'OwnershipViolation';
  }
}

/** Whether the caller is limited to its own records. */
export const ownerScoped = (context: CommandContext): context is CommandContext & { ownerScope: string } =>
  context.ownerScope !== undefined;

/**
 * The record (`streamId`, existing, owned by `ownerId`) must be the caller's. Unowned records are
 * nobody's: a rep may not touch them until a manager assigns them. The other owner is not named.
 */
export function assertOwns(context: CommandContext, streamId: string, ownerId: string | undefined | null): void {
  if (!ownerScoped(context) || ownerId === context.ownerScope) return;
  throw new OwnershipViolation(
    `${streamId} is ${ownerId ? 'owned by someone else' : 'not assigned to anyone'}; role "rep" may only use the records it owns (${context.ownerScope})`,
  );
}

/** A record a scoped caller creates is its own: naming another owner is refused. */
export function assertCreatesOwn(context: CommandContext, streamId: string, ownerId: string | undefined): void {
  if (!ownerScoped(context) || ownerId === context.ownerScope) return;
  throw new OwnershipViolation(
    `ownerId: role "rep" creates records it owns; ${streamId} may not be created for ${ownerId === undefined ? 'no one' : `"${ownerId}"`}`,
  );
}

/** Reassigning an owner is for managers and admins: the one rule behind `assertMayAssign` and `assertMayReassign`. */
const reassignmentRefused = (streamId: string, field = '') =>
  new OwnershipViolation(`${field}reassigning the owner of ${streamId} is for managers and admins, not role "rep"`);

/** An assignment command (AssignCustomerOwner, AssignLead, AssignDealOwner): refused to a scoped caller, whatever the owner named. */
export function assertMayAssign(context: CommandContext, streamId: string): void {
  if (ownerScoped(context)) throw reassignmentRefused(streamId);
}

/** A change for managers and admins only: refused to a scoped caller, whoever owns the record. */
function assertManagerChange(context: CommandContext, action: string, streamId: string): void {
  if (ownerScoped(context)) throw new OwnershipViolation(`${action} ${streamId} is for managers and admins, not role "rep"`);
}

/** Archiving and restoring (issue 16) hide records from the whole team. */
export const assertMayArchiveOrRestore = (context: CommandContext, streamId: string): void =>
  assertManagerChange(context, 'archiving and restoring', streamId);

/** Merging and unmerging customers (docs/merging.md) changes figures the whole team sees. */
export const assertMayMerge = (context: CommandContext, streamId: string): void =>
  assertManagerChange(context, 'merging and unmerging', streamId);

/** Reopening a closed deal (issue 16) rewrites closed figures. */
export const assertMayReopen = (context: CommandContext, streamId: string): void => assertManagerChange(context, 'reopening', streamId);

/** A change that names an owner (a profile update): a scoped caller may only name the current one. */
export function assertMayReassign(
  context: CommandContext,
  streamId: string,
  ownerId: string | undefined,
  currentOwnerId: string | undefined,
): void {
  if (!ownerScoped(context) || ownerId === undefined || ownerId === currentOwnerId) return;
  throw reassignmentRefused(streamId, 'ownerId: ');
}

/** The authorization of a command on an existing record: absent records are left to the decider (404, or a create). */
export const ownedBy =
  (context: CommandContext, streamId: string) =>
  (state: { exists: boolean; ownerId?: string | null }): void => {
    if (state.exists) assertOwns(context, streamId, state.ownerId);
  };

/** `ownedBy` in the shape of a command spec's `authorize`. */
export const authorizeOwner = (context: CommandContext, streamId: string, state: { exists: boolean; ownerId?: string | null }): void =>
  ownedBy(context, streamId)(state);

/**
 * A goal's figures are its segment's: a caller limited to its own records (a rep) sets and cancels
 * only goals segmented on its own owner id, so a goal never shows it another owner's or the
 * company's figures (the read side applies the same rule: apps/api/src/goals).
 */
export function assertOwnGoal(context: CommandContext, streamId: string, owner: string | undefined): void {
  if (!ownerScoped(context) || owner === context.ownerScope) return;
  throw new OwnershipViolation(
    `segment.owner: role "rep" sets and cancels only goals on its own figures (segment.owner = "${context.ownerScope}"); ${streamId} is ${owner === undefined ? 'not segmented by owner' : "on someone else's figures"}`,
  );
}
