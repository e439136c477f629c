import type { CommandContext } from './command-context';
import { assertCreatesOwn, assertMayReassign, assertOwns, ownedBy, OwnershipViolation } from './ownership';

const base: CommandContext = { actor: 'rep-ada', correlationId: 'c', causationId: 'c' };
const rep: CommandContext = { ...base, ownerScope: 'rep-ada' };
const anyone: CommandContext = { ...base, actor: 'manager-user' };

describe('write-side ownership rules', () => {
  it('a scoped caller may use only the records it owns; unowned ones are nobody’s', () => {
    expect(() => assertOwns(rep, 'deal-1', 'rep-ada')).not.toThrow();
    expect(() => assertOwns(rep, 'deal-1', 'rep-bob')).toThrow(OwnershipViolation);
    expect(() => assertOwns(rep, 'deal-1', undefined)).toThrow(/not assigned to anyone/);
    expect(() => assertOwns(anyone, 'deal-1', 'rep-bob')).not.toThrow();
  });

  it('leaves absent records to the decider (404 or a create)', () => {
    expect(() => ownedBy(rep, 'task-1')({ exists: false, ownerId: 'rep-bob' })).not.toThrow();
    expect(() => ownedBy(rep, 'task-1')({ exists: true, ownerId: 'rep-bob' })).toThrow(OwnershipViolation);
  });

  it('what a scoped caller creates is its own', () => {
    expect(() => assertCreatesOwn(rep, 'customer-1', 'rep-ada')).not.toThrow();
    expect(() => assertCreatesOwn(rep, 'customer-1', 'rep-bob')).toThrow(/ownerId/);
    expect(() => assertCreatesOwn(rep, 'lead-1', undefined)).toThrow(OwnershipViolation);
    expect(() => assertCreatesOwn(anyone, 'lead-1', undefined)).not.toThrow();
  });

  it('a scoped caller may not reassign; naming the current owner changes nothing and is allowed', () => {
    expect(() => assertMayReassign(rep, 'customer-1', 'rep-bob', 'rep-ada')).toThrow(/managers and admins/);
    expect(() => assertMayReassign(rep, 'customer-1', 'rep-ada', 'rep-ada')).not.toThrow();
    expect(() => assertMayReassign(rep, 'customer-1', undefined, 'rep-ada')).not.toThrow();
    expect(() => assertMayReassign(anyone, 'customer-1', 'rep-bob', 'rep-ada')).not.toThrow();
  });
});
