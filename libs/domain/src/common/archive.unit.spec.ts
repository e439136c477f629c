import { customerDecider } from '../customer/decider';
import type { CustomerEvent } from '../customer/events';
import { dealDecider } from '../deal/decider';
import type { DealEvent } from '../deal/events';
import { defaultPipeline } from '../deal/pipeline';
import { leadDecider } from '../lead/decider';
import type { LeadEvent } from '../lead/events';
import { DeciderSpecification } from '../testing/decider-specification';
import { fold } from './decider';
import { AggregateNotFound, BusinessRuleViolation } from './errors';

const t0 = '2024-01-10T09:00:00.000Z';
const t1 = '2024-01-11T09:00:00.000Z';
const t2 = '2024-01-12T09:00:00.000Z';
const t3 = '2024-01-13T09:00:00.000Z';

/** The rule a refusal broke, besides its message. */
const code = (expected: string) => (e: BusinessRuleViolation) => void expect(e.code).toBe(expected);

describe('archive and restore (issue 16)', () => {
  describe('customer', () => {
    const spec = DeciderSpecification.for(customerDecider);
    const customerId = 'c-1';
    const registered: CustomerEvent = {
      type: 'CustomerRegistered',
      data: { customerId, name: 'Ada', source: 'web', ownerId: 'u-1' },
      occurredAt: t0,
    };
    const archived: CustomerEvent = { type: 'CustomerArchived', data: { customerId, reason: 'duplicate' }, occurredAt: t1 };
    const restored: CustomerEvent = { type: 'CustomerRestored', data: { customerId }, occurredAt: t2 };

    it('archives a customer, with its reason when given', () =>
      spec
        .given([registered])
        .when({ type: 'ArchiveCustomer', data: { customerId, reason: 'duplicate' }, occurredAt: t1 })
        .then([archived]));

    it('restores an archived customer; a reason left unsaid is not recorded', () =>
      spec.given([registered, archived]).when({ type: 'RestoreCustomer', data: { customerId }, occurredAt: t2 }).then([restored]));

    it('refuses to archive an archived customer', () =>
      spec
        .given([registered, archived])
        .when({ type: 'ArchiveCustomer', data: { customerId }, occurredAt: t2 })
        .thenThrows(BusinessRuleViolation, `customer-${customerId} is already archived (since ${t1})`));

    it('refuses to restore a customer that is not archived (never, or restored already)', () => {
      for (const given of [[registered], [registered, archived, restored]])
        spec
          .given(given)
          .when({ type: 'RestoreCustomer', data: { customerId }, occurredAt: t3 })
          .thenThrows(BusinessRuleViolation, `customer-${customerId} is not archived; only an archived record can be restored`);
    });

    it('refuses an archive or restore of a customer that does not exist', () => {
      spec.given([]).when({ type: 'ArchiveCustomer', data: { customerId }, occurredAt: t1 }).thenThrows(AggregateNotFound);
      spec.given([]).when({ type: 'RestoreCustomer', data: { customerId }, occurredAt: t1 }).thenThrows(AggregateNotFound);
    });

    it('refuses a restore before the archive in business time', () =>
      spec
        .given([registered, archived])
        .when({ type: 'RestoreCustomer', data: { customerId }, occurredAt: t0 })
        .thenThrows(BusinessRuleViolation, code('out-of-order')));

    it('refuses every other command while archived, naming the customer', () => {
      const commands = [
        { type: 'UpdateCustomerProfile', data: { customerId, name: 'Ada L.' } },
        { type: 'AssignCustomerOwner', data: { customerId, ownerId: 'u-2' } },
        { type: 'ChurnCustomer', data: { customerId, reason: 'price' } },
        { type: 'ReactivateCustomer', data: { customerId } },
        { type: 'RecordPurchase', data: { customerId, purchaseId: 'p-1', amount: 10 } },
        { type: 'EnrollCustomer', data: { customerId, campaign: 'nurture' } },
        { type: 'TagCustomer', data: { customerId, tag: 'vip' } },
      ] as const;
      for (const command of commands)
        spec
          .given([registered, archived])
          .when({ ...command, occurredAt: t2 })
          .thenThrows(BusinessRuleViolation, (e) => {
            expect(e.message).toBe(`customer-${customerId} is archived; restore it first`);
            expect(e.code).toBe('archived');
          });
    });

    it('still erases the personal data of an archived customer, links a lead and records its acquisition', () => {
      spec
        .given([registered, archived])
        .when({ type: 'EraseCustomerPersonalData', data: { customerId }, occurredAt: t2 })
        .then([{ type: 'CustomerPersonalDataErased', data: { customerId }, occurredAt: t2 }]);
      spec
        .given([registered, archived])
        .when({ type: 'LinkLead', data: { customerId, leadId: 'l-9' }, occurredAt: t2 })
        .then([{ type: 'CustomerLeadLinked', data: { customerId, leadId: 'l-9' }, occurredAt: t2 }]);
      spec
        .given([registered, archived])
        .when({ type: 'AcquireCustomer', data: { customerId, dealId: 'd-1' }, occurredAt: t2 })
        .then([
          { type: 'CustomerAcquired', data: { customerId, channel: 'web', trigger: { type: 'DealWon', dealId: 'd-1' } }, occurredAt: t2 },
        ]);
    });

    it('accepts commands again once restored; the state says archived and since when', () => {
      spec
        .given([registered, archived, restored])
        .when({ type: 'TagCustomer', data: { customerId, tag: 'vip' }, occurredAt: t3 })
        .then([{ type: 'CustomerTagged', data: { customerId, tag: 'vip' }, occurredAt: t3 }]);
      expect(fold(customerDecider, [registered, archived])).toMatchObject({ archived: true, archivedAt: t1 });
      expect(fold(customerDecider, [registered, archived, restored])).toMatchObject({ archived: false, archivedAt: undefined });
    });
  });

  describe('lead', () => {
    const spec = DeciderSpecification.for(leadDecider);
    const leadId = 'l-1';
    const captured: LeadEvent = { type: 'LeadCaptured', data: { leadId, name: 'Grace', source: 'webinar' }, occurredAt: t0 };
    const archived: LeadEvent = { type: 'LeadArchived', data: { leadId }, occurredAt: t1 };
    const restored: LeadEvent = { type: 'LeadRestored', data: { leadId, reason: 'mistake' }, occurredAt: t2 };

    it('archives and restores a lead', () => {
      spec.given([captured]).when({ type: 'ArchiveLead', data: { leadId }, occurredAt: t1 }).then([archived]);
      spec
        .given([captured, archived])
        .when({ type: 'RestoreLead', data: { leadId, reason: 'mistake' }, occurredAt: t2 })
        .then([restored]);
    });

    it('refuses a second archive and a restore of a lead not archived', () => {
      spec
        .given([captured, archived])
        .when({ type: 'ArchiveLead', data: { leadId }, occurredAt: t2 })
        .thenThrows(BusinessRuleViolation, code('already-archived'));
      spec
        .given([captured])
        .when({ type: 'RestoreLead', data: { leadId }, occurredAt: t2 })
        .thenThrows(BusinessRuleViolation, `lead-${leadId} is not archived; only an archived record can be restored`);
    });

    it('refuses every other command while archived, but not the erasure', () => {
      const commands = [
        { type: 'ScoreLead', data: { leadId, score: 10, reasons: [] } },
        { type: 'AssignLead', data: { leadId, ownerId: 'u-1' } },
        { type: 'QualifyLead', data: { leadId } },
        { type: 'DisqualifyLead', data: { leadId, reason: 'no budget' } },
        { type: 'ConvertLead', data: { leadId, customerId: 'c-1' } },
        { type: 'LogLeadInteraction', data: { leadId, interactionId: 'i-1', type: 'email-opened' } },
      ] as const;
      for (const command of commands)
        spec
          .given([captured, archived])
          .when({ ...command, occurredAt: t2 } as never)
          .thenThrows(BusinessRuleViolation, `lead-${leadId} is archived; restore it first`);
      spec
        .given([captured, archived])
        .when({ type: 'EraseLeadPersonalData', data: { leadId }, occurredAt: t2 })
        .then([{ type: 'LeadPersonalDataErased', data: { leadId }, occurredAt: t2 }]);
    });
  });

  describe('deal', () => {
    const spec = DeciderSpecification.for(dealDecider(defaultPipeline));
    const dealId = 'd-1';
    const opened: DealEvent = {
      type: 'DealOpened',
      data: { dealId, customerId: 'c-1', title: 'Licence', amount: 1000, ownerId: 'u-1', source: 'web', stage: 'qualification' },
      occurredAt: t0,
    };
    const archived: DealEvent = { type: 'DealArchived', data: { dealId, reason: 'stale' }, occurredAt: t1 };
    const restored: DealEvent = { type: 'DealRestored', data: { dealId }, occurredAt: t2 };
    const won: DealEvent = { type: 'DealWon', data: { dealId, customerId: 'c-1', amount: 1000, stage: 'qualification' }, occurredAt: t1 };

    it('archives an open or a closed deal, and restores it', () => {
      spec
        .given([opened])
        .when({ type: 'ArchiveDeal', data: { dealId, reason: 'stale' }, occurredAt: t1 })
        .then([archived]);
      spec
        .given([opened, won])
        .when({ type: 'ArchiveDeal', data: { dealId }, occurredAt: t2 })
        .then([{ type: 'DealArchived', data: { dealId }, occurredAt: t2 }]);
      spec.given([opened, archived]).when({ type: 'RestoreDeal', data: { dealId }, occurredAt: t2 }).then([restored]);
    });

    it('refuses a second archive, a restore of a deal not archived, and either one before the deal’s last change', () => {
      spec
        .given([opened, archived])
        .when({ type: 'ArchiveDeal', data: { dealId }, occurredAt: t2 })
        .thenThrows(BusinessRuleViolation, `deal-${dealId} is already archived (since ${t1})`);
      spec
        .given([opened, archived, restored])
        .when({ type: 'RestoreDeal', data: { dealId }, occurredAt: t3 })
        .thenThrows(BusinessRuleViolation, code('not-archived'));
      spec
        .given([opened, won])
        .when({ type: 'ArchiveDeal', data: { dealId }, occurredAt: t0 })
        .thenThrows(BusinessRuleViolation, code('out-of-order'));
      spec.given([]).when({ type: 'ArchiveDeal', data: { dealId }, occurredAt: t1 }).thenThrows(AggregateNotFound);
    });

    it('refuses every other command while archived, naming the deal', () => {
      const commands = [
        { type: 'ChangeDealStage', data: { dealId, stage: 'proposal' } },
        { type: 'UpdateDeal', data: { dealId, amount: 2000 } },
        { type: 'WinDeal', data: { dealId } },
        { type: 'LoseDeal', data: { dealId, reason: 'price' } },
        { type: 'AssignDealOwner', data: { dealId, ownerId: 'u-2' } },
      ] as const;
      for (const command of commands)
        spec
          .given([opened, archived])
          .when({ ...command, occurredAt: t2 })
          .thenThrows(BusinessRuleViolation, (e) => {
            expect(e.message).toBe(`deal-${dealId} is archived; restore it first`);
            expect(e.code).toBe('archived');
          });
    });

    it('is open and in its stage again once restored', () => {
      spec
        .given([opened, archived, restored])
        .when({ type: 'ChangeDealStage', data: { dealId, stage: 'proposal' }, occurredAt: t3 })
        .then([{ type: 'DealStageChanged', data: { dealId, from: 'qualification', to: 'proposal' }, occurredAt: t3 }]);
      expect(fold(dealDecider(defaultPipeline), [opened, archived])).toMatchObject({ status: 'open', archived: true, archivedAt: t1 });
    });
  });
});
