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
export const ownerScoped = (context: CommandContext): context is CommandContext & { ownerScope: string } => context.ownerScope !== undefined;

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
  throw new OwnershipViolation(`ownerId: role "rep" creates records it owns; ${streamId} may not be created for ${ownerId === undefined ? 'no one' : `"${ownerId}"`}`);
}

/** Reassigning an owner is for managers and admins. */
export function assertMayReassign(context: CommandContext, streamId: string, ownerId: string | undefined, currentOwnerId: string | undefined): void {
  if (!ownerScoped(context) || ownerId === undefined || ownerId === currentOwnerId) return;
  throw new OwnershipViolation(`ownerId: reassigning the owner of ${streamId} is for managers and admins, not role "rep"`);
}

/** The authorization of a command on an existing record: absent records are left to the decider (404, or a create). */
export const ownedBy =
  (context: CommandContext, streamId: string) =>
  (state: { exists: boolean; ownerId?: string | null }): void => {
    if (state.exists) assertOwns(context, streamId, state.ownerId);
  };
