import { ForbiddenException } from '@nestjs/common';
import { Roles } from '@chronicle/infrastructure';
import { accessByRole, recordScopeByRole } from './access';
import type { AuthenticatedRequest } from './api-key.guard';
import { assertMayRead, ownerScopeOf, scopedOwnerFilter } from './ownership';

const as = (role: (typeof Roles)[number], actor = `${role}-user`) => ({ principal: { actor, role } }) as AuthenticatedRequest;

describe('roles table', () => {
  it('reps are the only role limited to their own records; only managers and admins manage and reassign', () => {
    expect(Roles.filter((r) => recordScopeByRole[r] === 'own')).toEqual(['rep']);
    expect(Roles.filter((r) => accessByRole[r].includes('manage'))).toEqual(['admin', 'manager']);
    // A rep's `report` covers only the reports of its own figures (the ones declaring ownerScoped).
    expect(Roles.filter((r) => accessByRole[r].includes('report'))).toEqual(['admin', 'manager', 'rep', 'analyst']);
    expect(Roles.filter((r) => accessByRole[r].includes('write'))).toEqual(['admin', 'manager', 'rep']);
  });
});

describe('read-side ownership', () => {
  it('scopes a rep to its actor and nobody else', () => {
    expect(ownerScopeOf(as('rep').principal)).toBe('rep-user');
    for (const role of ['admin', 'manager', 'analyst', 'service'] as const) expect(ownerScopeOf(as(role).principal)).toBeUndefined();
    expect(ownerScopeOf(undefined)).toBeUndefined();
  });

  it("forces a rep's list filter to its own records and refuses another owner's", () => {
    expect(scopedOwnerFilter(as('rep'), undefined)).toBe('rep-user');
    expect(scopedOwnerFilter(as('rep'), 'rep-user')).toBe('rep-user');
    expect(() => scopedOwnerFilter(as('rep'), 'rep-eve')).toThrow(ForbiddenException);
    expect(scopedOwnerFilter(as('manager'), 'rep-eve')).toBe('rep-eve');
    expect(scopedOwnerFilter(as('manager'), undefined)).toBeUndefined();
  });

  it('lets a rep read its own record only; others read any', () => {
    expect(() => assertMayRead(as('rep'), 'customer-1', 'rep-user')).not.toThrow();
    expect(() => assertMayRead(as('rep'), 'customer-1', 'rep-eve')).toThrow(/owned by someone else/);
    expect(() => assertMayRead(as('rep'), 'customer-1', null)).toThrow(/not assigned to anyone/);
    expect(() => assertMayRead(as('analyst'), 'customer-1', 'rep-eve')).not.toThrow();
  });
});
