import { fold } from '../common/decider';
import { AggregateAlreadyExists, AggregateNotFound, BusinessRuleViolation, InvalidInput } from '../common/errors';
import { DeciderSpecification } from '../testing/decider-specification';
import { leadDecider } from './decider';
import type { LeadCaptured, LeadEvent } from './events';

const spec = DeciderSpecification.for(leadDecider);

const leadId = 'l-1';
const capturedAt = '2024-01-10T09:00:00.000Z';
const t1 = '2024-01-11T10:00:00.000Z';
const t2 = '2024-01-12T11:00:00.000Z';

const captured: LeadCaptured = {
  type: 'LeadCaptured',
  data: {
    leadId,
    name: 'Grace Hopper',
    email: 'grace@example.com',
    source: 'webinar',
    campaignId: 'cmp-1',
    attributes: { size: 'enterprise' },
  },
  occurredAt: capturedAt,
};
const assigned: LeadEvent = { type: 'LeadAssigned', data: { leadId, ownerId: 'u-1' }, occurredAt: t1 };
const qualified: LeadEvent = { type: 'LeadQualified', data: { leadId }, occurredAt: t1 };
const disqualified: LeadEvent = { type: 'LeadDisqualified', data: { leadId, reason: 'no budget' }, occurredAt: t1 };
const converted: LeadEvent = { type: 'LeadConverted', data: { leadId, customerId: 'c-1', source: 'webinar' }, occurredAt: t1 };

describe('lead decider', () => {
  describe('CaptureLead', () => {
    it('captures a lead with its source, campaign and attributes', () =>
      spec
        .given([])
        .when({ type: 'CaptureLead', data: { ...captured.data }, occurredAt: capturedAt })
        .then([captured]));

    it('rejects capturing a lead that already exists', () =>
      spec
        .given([captured])
        .when({ type: 'CaptureLead', data: { ...captured.data }, occurredAt: t1 })
        .thenThrows(AggregateAlreadyExists, `lead-${leadId} already exists`));

    it('rejects an empty name', () =>
      spec
        .given([])
        .when({ type: 'CaptureLead', data: { leadId, name: '', source: 'webinar' }, occurredAt: t1 })
        .thenThrows(InvalidInput, (e) => e.field === 'name'));

    it('rejects an empty source', () =>
      spec
        .given([])
        .when({ type: 'CaptureLead', data: { leadId, name: 'Grace', source: ' ' }, occurredAt: t1 })
        .thenThrows(InvalidInput, (e) => e.field === 'source'));
  });

  describe('ScoreLead', () => {
    it('scores a lead with its reasons', () =>
      spec
        .given([captured])
        .when({ type: 'ScoreLead', data: { leadId, score: 72.5, reasons: ['enterprise', 'opened 3 emails'] }, occurredAt: t1 })
        .then([{ type: 'LeadScored', data: { leadId, score: 72.5, reasons: ['enterprise', 'opened 3 emails'] }, occurredAt: t1 }]));

    it.each([
      ['NaN', Number.NaN],
      ['Infinity', Number.POSITIVE_INFINITY],
    ])('rejects a score of %s', (_label, score) =>
      spec
        .given([captured])
        .when({ type: 'ScoreLead', data: { leadId, score, reasons: [] }, occurredAt: t1 })
        .thenThrows(InvalidInput, (e) => e.field === 'score'),
    );

    it('rejects a lead that does not exist', () =>
      spec
        .given([])
        .when({ type: 'ScoreLead', data: { leadId, score: 1, reasons: [] }, occurredAt: t1 })
        .thenThrows(AggregateNotFound, `lead-${leadId} does not exist`));
  });

  describe('AssignLead', () => {
    it('assigns a first owner', () =>
      spec
        .given([captured])
        .when({ type: 'AssignLead', data: { leadId, ownerId: 'u-1' }, occurredAt: t1 })
        .then([{ type: 'LeadAssigned', data: { leadId, ownerId: 'u-1' }, occurredAt: t1 }]));

    it('reassigns, naming the previous owner, the strategy and the reason', () =>
      spec
        .given([captured, assigned])
        .when({ type: 'AssignLead', data: { leadId, ownerId: 'u-2', strategy: 'round-robin', reason: 'vacation' }, occurredAt: t2 })
        .then([
          {
            type: 'LeadAssigned',
            data: { leadId, ownerId: 'u-2', previousOwnerId: 'u-1', strategy: 'round-robin', reason: 'vacation' },
            occurredAt: t2,
          },
        ]));

    it('emits nothing when the lead already has that owner', () =>
      spec
        .given([captured, assigned])
        .when({ type: 'AssignLead', data: { leadId, ownerId: 'u-1' }, occurredAt: t2 })
        .thenNothing());

    it('rejects assigning a converted lead', () =>
      spec
        .given([captured, converted])
        .when({ type: 'AssignLead', data: { leadId, ownerId: 'u-2' }, occurredAt: t2 })
        .thenThrows(BusinessRuleViolation, `lead-${leadId} is converted and cannot be assigned`));

    it('rejects assigning a disqualified lead', () =>
      spec
        .given([captured, disqualified])
        .when({ type: 'AssignLead', data: { leadId, ownerId: 'u-2' }, occurredAt: t2 })
        .thenThrows(BusinessRuleViolation, 'is disqualified'));

    it('rejects a lead that does not exist', () =>
      spec
        .given([])
        .when({ type: 'AssignLead', data: { leadId, ownerId: 'u-1' }, occurredAt: t1 })
        .thenThrows(AggregateNotFound));
  });

  describe('QualifyLead', () => {
    it('qualifies a new lead', () =>
      spec.given([captured]).when({ type: 'QualifyLead', data: { leadId }, occurredAt: t1 }).then([qualified]));

    it('rejects qualifying twice', () =>
      spec
        .given([captured, qualified])
        .when({ type: 'QualifyLead', data: { leadId }, occurredAt: t2 })
        .thenThrows(BusinessRuleViolation, 'already qualified'));

    it('rejects qualifying a disqualified lead', () =>
      spec
        .given([captured, disqualified])
        .when({ type: 'QualifyLead', data: { leadId }, occurredAt: t2 })
        .thenThrows(BusinessRuleViolation, 'is disqualified and cannot be qualified'));

    it('rejects qualifying a converted lead', () =>
      spec
        .given([captured, converted])
        .when({ type: 'QualifyLead', data: { leadId }, occurredAt: t2 })
        .thenThrows(BusinessRuleViolation, 'is converted and cannot be qualified'));

    it('rejects a lead that does not exist', () =>
      spec.given([]).when({ type: 'QualifyLead', data: { leadId }, occurredAt: t1 }).thenThrows(AggregateNotFound));
  });

  describe('DisqualifyLead', () => {
    it('disqualifies a new lead with a reason', () =>
      spec
        .given([captured])
        .when({ type: 'DisqualifyLead', data: { leadId, reason: 'no budget' }, occurredAt: t1 })
        .then([disqualified]));

    it('disqualifies a qualified lead', () =>
      spec
        .given([captured, qualified])
        .when({ type: 'DisqualifyLead', data: { leadId, reason: 'went silent' }, occurredAt: t2 })
        .then([{ type: 'LeadDisqualified', data: { leadId, reason: 'went silent' }, occurredAt: t2 }]));

    it('rejects disqualifying a converted lead', () =>
      spec
        .given([captured, qualified, converted])
        .when({ type: 'DisqualifyLead', data: { leadId, reason: 'oops' }, occurredAt: t2 })
        .thenThrows(BusinessRuleViolation, 'is converted and cannot be disqualified'));

    it('rejects disqualifying twice', () =>
      spec
        .given([captured, disqualified])
        .when({ type: 'DisqualifyLead', data: { leadId, reason: 'again' }, occurredAt: t2 })
        .thenThrows(BusinessRuleViolation, 'is disqualified'));

    it('rejects an empty reason', () =>
      spec
        .given([captured])
        .when({ type: 'DisqualifyLead', data: { leadId, reason: '  ' }, occurredAt: t1 })
        .thenThrows(InvalidInput, (e) => e.field === 'reason'));

    it('rejects a lead that does not exist', () =>
      spec
        .given([])
        .when({ type: 'DisqualifyLead', data: { leadId, reason: 'no budget' }, occurredAt: t1 })
        .thenThrows(AggregateNotFound));
  });

  describe('ConvertLead', () => {
    it("converts a qualified lead, carrying the lead's source to the customer", () =>
      spec
        .given([captured, qualified])
        .when({ type: 'ConvertLead', data: { leadId, customerId: 'c-1' }, occurredAt: t2 })
        .then([{ type: 'LeadConverted', data: { leadId, customerId: 'c-1', source: 'webinar' }, occurredAt: t2 }]));

    it('converts a new lead directly', () =>
      spec
        .given([captured])
        .when({ type: 'ConvertLead', data: { leadId, customerId: 'c-9' }, occurredAt: t1 })
        .then([{ type: 'LeadConverted', data: { leadId, customerId: 'c-9', source: 'webinar' }, occurredAt: t1 }]));

    it('rejects converting a disqualified lead', () =>
      spec
        .given([captured, disqualified])
        .when({ type: 'ConvertLead', data: { leadId, customerId: 'c-1' }, occurredAt: t2 })
        .thenThrows(BusinessRuleViolation, 'is disqualified and cannot be converted'));

    it('rejects converting twice', () =>
      spec
        .given([captured, converted])
        .when({ type: 'ConvertLead', data: { leadId, customerId: 'c-2' }, occurredAt: t2 })
        .thenThrows(BusinessRuleViolation, 'is converted and cannot be converted'));

    it('rejects a lead that does not exist', () =>
      spec
        .given([])
        .when({ type: 'ConvertLead', data: { leadId, customerId: 'c-1' }, occurredAt: t1 })
        .thenThrows(AggregateNotFound, `lead-${leadId}`));
  });

  describe('evolve', () => {
    it('folds the lifecycle new → qualified → converted with owner and score', () => {
      expect(fold(leadDecider, [captured])).toMatchObject({
        exists: true,
        status: 'new',
        capturedAt,
        source: 'webinar',
        campaignId: 'cmp-1',
      });
      const state = fold(leadDecider, [
        captured,
        { type: 'LeadScored', data: { leadId, score: 80, reasons: [] }, occurredAt: t1 },
        assigned,
        qualified,
        converted,
      ]);
      expect(state).toMatchObject({ status: 'converted', customerId: 'c-1', ownerId: 'u-1', score: 80 });
    });

    it('folds a disqualification', () => {
      expect(fold(leadDecider, [captured, qualified, disqualified]).status).toBe('disqualified');
    });
  });

  describe('automation', () => {
    it('an automatic assignment (ifUnassigned) never replaces an owner', () => {
      spec
        .given([captured])
        .when({
          type: 'AssignLead',
          data: { leadId, ownerId: 'u-9', strategy: 'round-robin', reason: 'turn 1', ifUnassigned: true },
          occurredAt: t1,
        })
        .then([{ type: 'LeadAssigned', data: { leadId, ownerId: 'u-9', strategy: 'round-robin', reason: 'turn 1' }, occurredAt: t1 }]);
      spec
        .given([captured, assigned])
        .when({ type: 'AssignLead', data: { leadId, ownerId: 'u-9', ifUnassigned: true }, occurredAt: t2 })
        .thenNothing();
    });

    it('logs a lead interaction (scoring behaviour); an unknown type or lead is refused', () => {
      spec
        .given([captured])
        .when({ type: 'LogLeadInteraction', data: { leadId, interactionId: 'i-1', type: 'email-opened' }, occurredAt: t1 })
        .then([{ type: 'LeadInteractionLogged', data: { leadId, interactionId: 'i-1', type: 'email-opened' }, occurredAt: t1 }]);
      spec
        .given([captured])
        .when({ type: 'LogLeadInteraction', data: { leadId, interactionId: 'i-1', type: 'fax' as never }, occurredAt: t1 })
        .thenThrows(InvalidInput, (e) => e.field === 'type');
      spec
        .given([])
        .when({ type: 'LogLeadInteraction', data: { leadId, interactionId: 'i-1', type: 'web-visit' }, occurredAt: t1 })
        .thenThrows(AggregateNotFound);
    });
  });
});
