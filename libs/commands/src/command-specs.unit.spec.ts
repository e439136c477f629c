import type { CommandContext } from './command-context';
import type { CommandEnvironment } from './command-spec';
import { customerCommands } from './handlers/customer.handler';
import { dealCommands } from './handlers/deal.handler';
import { OwnershipViolation } from './ownership';
import { leadCommands } from './handlers/lead.handler';

const admin: CommandContext = { actor: 'admin-user', correlationId: 'c', causationId: 'c' };
const rep: CommandContext = { actor: 'rep-ada', correlationId: 'c', causationId: 'c', ownerScope: 'rep-ada' };
const env = (autoAssignCustomers: boolean) => ({ autoAssignCustomers }) as CommandEnvironment;
const at = '2026-01-01T00:00:00.000Z';

describe('command specs', () => {
  it('OpenDeal: an empty source becomes the customer’s in a new command; the one sent is left as it was', () => {
    const sent = Object.freeze({
      type: 'OpenDeal' as const,
      data: Object.freeze({ dealId: 'd1', customerId: 'c1', title: 't', amount: 1, ownerId: 'rep-ada', source: '' }),
      occurredAt: at,
    });
    const enriched = dealCommands.OpenDeal.enrich!(sent, { source: 'web' }, admin, env(false));
    expect(enriched.data.source).toBe('web');
    expect(sent.data.source).toBe('');
    const named = { ...sent, data: { ...sent.data, source: 'event' } };
    expect(dealCommands.OpenDeal.enrich!(named as never, { source: 'web' }, admin, env(false))).toBe(named);
  });

  it('RegisterCustomer from the API: an unsaid owner is the caller’s, unless customers are auto-assigned (never for a rep)', () => {
    const sent = Object.freeze({
      type: 'RegisterCustomer' as const,
      data: Object.freeze({ customerId: 'c1', name: 'Ada', source: 'web' }),
      occurredAt: at,
    });
    const spec = customerCommands.RegisterCustomer;
    expect(spec.enrich!(sent, undefined, admin, env(false)).data.ownerId).toBe('admin-user');
    expect(spec.enrich!(sent, undefined, admin, env(true)).data.ownerId).toBeUndefined();
    expect(spec.enrich!(sent, undefined, rep, env(true)).data.ownerId).toBe('rep-ada');
    expect(sent.data).not.toHaveProperty('ownerId');
    expect(() => spec.permit!(rep, sent, 'customer-c1', { command: sent, context: rep, ownerDefaultsToCaller: true })).not.toThrow();
    expect(() =>
      spec.permit!(rep, { ...sent, data: { ...sent.data, ownerId: 'rep-bob' } }, 'customer-c1', { command: sent, context: rep }),
    ).toThrow(OwnershipViolation);
  });

  it('the assignment commands are refused to a rep before anything is read, with one rule', () => {
    for (const [permit, streamId] of [
      [customerCommands.AssignCustomerOwner.permit!, 'customer-1'],
      [leadCommands.AssignLead.permit!, 'lead-1'],
      [dealCommands.AssignDealOwner.permit!, 'deal-1'],
    ] as const) {
      const call = (context: CommandContext) => (permit as (c: CommandContext, x: unknown, s: string) => void)(context, {}, streamId);
      expect(() => call(rep)).toThrow(`reassigning the owner of ${streamId} is for managers and admins, not role "rep"`);
      expect(() => call(admin)).not.toThrow();
    }
  });

  it('archiving and restoring are refused to a rep before anything is read, even on its own records (issue 16)', () => {
    for (const [permit, streamId] of [
      [customerCommands.ArchiveCustomer.permit!, 'customer-1'],
      [customerCommands.RestoreCustomer.permit!, 'customer-1'],
      [leadCommands.ArchiveLead.permit!, 'lead-1'],
      [leadCommands.RestoreLead.permit!, 'lead-1'],
      [dealCommands.ArchiveDeal.permit!, 'deal-1'],
      [dealCommands.RestoreDeal.permit!, 'deal-1'],
    ] as const) {
      const call = (context: CommandContext) => (permit as (c: CommandContext, x: unknown, s: string) => void)(context, {}, streamId);
      expect(() => call(rep)).toThrow(`archiving and restoring ${streamId} is for managers and admins, not role "rep"`);
      expect(() => call(admin)).not.toThrow();
    }
  });

  it('reopening a deal is refused to a rep before anything is read, even on its own deal (issue 16)', () => {
    const call = (context: CommandContext) =>
      (dealCommands.ReopenDeal.permit! as (c: CommandContext, x: unknown, s: string) => void)(context, {}, 'deal-1');
    expect(() => call(rep)).toThrow('reopening deal-1 is for managers and admins, not role "rep"');
    expect(() => call(admin)).not.toThrow();
  });
});
