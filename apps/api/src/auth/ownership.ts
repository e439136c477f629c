import { ForbiddenException } from '@nestjs/common';
import type { AuthenticatedRequest } from './api-key.guard';
import { recordScopeByRole } from './access';
import type { Principal } from './api-keys';

/**
 * The read side of ownership (the write side is checked by the command handlers, against the
 * record's state in the event store: see libs/commands/src/ownership.ts). A role whose record
 * scope is `own` (a rep) reads only the customers, leads, deals and tasks whose `ownerId` is its
 * actor: lists are filtered to them in the query (so paging and totals are right), and a record
 * owned by someone else, or by no one, is a 403 (a record that does not exist stays a 404).
 */

/** The actor whose records the caller is limited to, or undefined for every record. */
export const ownerScopeOf = (principal: Principal | undefined): string | undefined =>
  principal && recordScopeByRole[principal.role] === 'own' ? principal.actor : undefined;

/** The `ownerId` filter of a list: a scoped caller's own actor (asking for another owner's list is a 403). */
export function scopedOwnerFilter(request: AuthenticatedRequest, ownerId: string | undefined): string | undefined {
  const scope = ownerScopeOf(request.principal);
  if (scope === undefined) return ownerId;
  if (ownerId !== undefined && ownerId !== scope) {
    throw new ForbiddenException(`ownerId: role "${request.principal!.role}" lists only its own records (ownerId=${scope} or none)`);
  }
  return scope;
}

/** A single record the caller is about to see: a scoped caller must own it. */
export function assertMayRead(request: AuthenticatedRequest, streamId: string, ownerId: string | null | undefined): void {
  const scope = ownerScopeOf(request.principal);
  if (scope === undefined || ownerId === scope) return;
  throw new ForbiddenException(
    `${streamId} is ${ownerId ? 'owned by someone else' : 'not assigned to anyone'}; role "${request.principal!.role}" may only read the records it owns (${scope})`,
  );
}
