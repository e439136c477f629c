import { fold } from '../common/decider';
import { AggregateAlreadyExists, AggregateNotFound, BusinessRuleViolation, CustomerWasMerged, InvalidInput } from '../common/errors';
import { DeciderSpecification } from '../testing/decider-specification';
import type { LogInteraction } from './commands';
import { customerDecider, decideLogInteraction, samePersonSubjects } from './decider';
import type { CustomerAcquired, CustomerEvent, CustomerRegistered, PurchaseRecorded } from './events';

const spec = DeciderSpecification.for(customerDecider);

const customerId = 'c-1';
const registeredAt = '2024-01-10T09:00:00.000Z';
const t1 = '2024-02-01T10:00:00.000Z';
const t2 = '2024-03-01T11:00:00.000Z';
const t3 = '2024-04-01T12:00:00.000Z';
const t4 = '2024-05-01T13:00:00.000Z';

const registered: CustomerRegistered = {
  type: 'CustomerRegistered',
  data: {
    customerId,
    name: 'Ada Lovelace',
    email: 'ada@example.com',
    company: 'Analytical Engines',
    source: 'referral',
    ownerId: 'u-1',
    attributes: { tier: 'gold' },
  },
  occurredAt: registeredAt,
};

const purchaseRecorded = (purchaseId: string, amount: number, occurredAt: string): PurchaseRecorded => ({
  type: 'PurchaseRecorded',
  data: { customerId, purchaseId, amount },
  occurredAt,
});

const acquiredByPurchase = (purchaseId: string, occurredAt: string): CustomerAcquired => ({
  type: 'CustomerAcquired',
  data: { customerId, channel: 'referral', trigger: { type: 'PurchaseRecorded', purchaseId } },
  occurredAt,
});

const acquiredByDeal = (dealId: string, occurredAt: string): CustomerAcquired => ({
  type: 'CustomerAcquired',
  data: { customerId, channel: 'referral', trigger: { type: 'DealWon', dealId } },
  occurredAt,
});

const churned: CustomerEvent = { type: 'CustomerChurned', data: { customerId, reason: 'price' }, occurredAt: t2 };
const reactivated: CustomerEvent = { type: 'CustomerReactivated', data: { customerId }, occurredAt: t3 };

/** Registered and acquired by a first purchase: an active customer. */
const activeCustomer: CustomerEvent[] = [registered, purchaseRecorded('p-1', 100, t1), acquiredByPurchase('p-1', t1)];
const churnedCustomer: CustomerEvent[] = [...activeCustomer, churned];

const invalidAmounts: Array<[string, number]> = [
  ['NaN', Number.NaN],
  ['Infinity', Number.POSITIVE_INFINITY],
  ['-1', -1],
];

describe('customer decider', () => {
  describe('RegisterCustomer', () => {
    it('registers a new customer with its whole profile and source', () =>
      spec
        .given([])
        .when({
          type: 'RegisterCustomer',
          data: {
            customerId,
            name: 'Ada Lovelace',
            email: 'ada@example.com',
            phone: '+44 1',
            company: 'Analytical Engines',
            industry: 'computing',
            region: 'emea',
            source: 'referral',
            ownerId: 'u-1',
            leadId: 'l-1',
            attributes: { tier: 'gold' },
          },
          occurredAt: registeredAt,
        })
        .then([
          {
            type: 'CustomerRegistered',
            data: {
              customerId,
              name: 'Ada Lovelace',
              email: 'ada@example.com',
              phone: '+44 1',
              company: 'Analytical Engines',
              industry: 'computing',
              region: 'emea',
              source: 'referral',
              ownerId: 'u-1',
              leadId: 'l-1',
              attributes: { tier: 'gold' },
            },
            occurredAt: registeredAt,
          },
        ]));

    it('rejects registering a customer that already exists', () =>
      spec
        .given([registered])
        .when({ type: 'RegisterCustomer', data: { customerId, name: 'Ada', source: 'referral' }, occurredAt: t1 })
        .thenThrows(AggregateAlreadyExists, `customer-${customerId} already exists`));

    it('rejects an empty name', () =>
      spec
        .given([])
        .when({ type: 'RegisterCustomer', data: { customerId, name: '  ', source: 'referral' }, occurredAt: t1 })
        .thenThrows(InvalidInput, (e) => e.field === 'name'));

    it('rejects an empty source', () =>
      spec
        .given([])
        .when({ type: 'RegisterCustomer', data: { customerId, name: 'Ada', source: '' }, occurredAt: t1 })
        .thenThrows(InvalidInput, (e) => e.field === 'source'));
  });

  describe('UpdateCustomerProfile', () => {
    it('emits only the fields that changed', () =>
      spec
        .given([registered])
        .when({
          type: 'UpdateCustomerProfile',
          data: {
            customerId,
            name: 'Ada Lovelace',
            email: 'ada@lovelace.org',
            company: 'Analytical Engines',
            region: 'emea',
            attributes: { tier: 'gold' },
          },
          occurredAt: t1,
        })
        .then([{ type: 'CustomerProfileUpdated', data: { customerId, email: 'ada@lovelace.org', region: 'emea' }, occurredAt: t1 }]));

    it('sees a changed attributes object as a change', () =>
      spec
        .given([registered])
        .when({ type: 'UpdateCustomerProfile', data: { customerId, attributes: { tier: 'platinum' } }, occurredAt: t1 })
        .then([{ type: 'CustomerProfileUpdated', data: { customerId, attributes: { tier: 'platinum' } }, occurredAt: t1 }]));

    it('emits CustomerOwnerAssigned when the owner changes', () =>
      spec
        .given([registered])
        .when({ type: 'UpdateCustomerProfile', data: { customerId, ownerId: 'u-2' }, occurredAt: t1 })
        .then([{ type: 'CustomerOwnerAssigned', data: { customerId, ownerId: 'u-2', previousOwnerId: 'u-1' }, occurredAt: t1 }]));

    it('emits the profile change and then the owner change together', () =>
      spec
        .given([registered])
        .when({ type: 'UpdateCustomerProfile', data: { customerId, name: 'Augusta Ada King', ownerId: 'u-2' }, occurredAt: t1 })
        .then([
          { type: 'CustomerProfileUpdated', data: { customerId, name: 'Augusta Ada King' }, occurredAt: t1 },
          { type: 'CustomerOwnerAssigned', data: { customerId, ownerId: 'u-2', previousOwnerId: 'u-1' }, occurredAt: t1 },
        ]));

    it('emits nothing when nothing changes', () =>
      spec
        .given([registered])
        .when({
          type: 'UpdateCustomerProfile',
          data: { customerId, name: 'Ada Lovelace', email: 'ada@example.com', ownerId: 'u-1', attributes: { tier: 'gold' } },
          occurredAt: t1,
        })
        .thenNothing());

    it('compares against the folded profile, including earlier updates and owner changes', () =>
      spec
        .given([
          registered,
          { type: 'CustomerProfileUpdated', data: { customerId, email: 'ada@lovelace.org' }, occurredAt: t1 },
          { type: 'CustomerOwnerAssigned', data: { customerId, ownerId: 'u-2', previousOwnerId: 'u-1' }, occurredAt: t1 },
        ])
        .when({ type: 'UpdateCustomerProfile', data: { customerId, email: 'ada@lovelace.org', ownerId: 'u-2' }, occurredAt: t2 })
        .thenNothing());

    it('rejects an empty name', () =>
      spec
        .given([registered])
        .when({ type: 'UpdateCustomerProfile', data: { customerId, name: ' ' }, occurredAt: t1 })
        .thenThrows(InvalidInput, (e) => e.field === 'name'));

    it('rejects updating a customer that does not exist', () =>
      spec
        .given([])
        .when({ type: 'UpdateCustomerProfile', data: { customerId, name: 'Ada' }, occurredAt: t1 })
        .thenThrows(AggregateNotFound, `customer-${customerId} does not exist`));
  });

  describe('AssignCustomerOwner', () => {
    it('assigns a new owner, naming the previous one', () =>
      spec
        .given([registered])
        .when({ type: 'AssignCustomerOwner', data: { customerId, ownerId: 'u-2' }, occurredAt: t1 })
        .then([{ type: 'CustomerOwnerAssigned', data: { customerId, ownerId: 'u-2', previousOwnerId: 'u-1' }, occurredAt: t1 }]));

    it('assigns a first owner to a customer that had none', () =>
      spec
        .given([{ ...registered, data: { customerId, name: 'Ada', source: 'referral' } }])
        .when({ type: 'AssignCustomerOwner', data: { customerId, ownerId: 'u-2' }, occurredAt: t1 })
        .then([{ type: 'CustomerOwnerAssigned', data: { customerId, ownerId: 'u-2' }, occurredAt: t1 }]));

    it('emits nothing when the customer already has that owner', () =>
      spec
        .given([
          registered,
          { type: 'CustomerOwnerAssigned', data: { customerId, ownerId: 'u-2', previousOwnerId: 'u-1' }, occurredAt: t1 },
        ])
        .when({ type: 'AssignCustomerOwner', data: { customerId, ownerId: 'u-2' }, occurredAt: t2 })
        .thenNothing());

    it('rejects a customer that does not exist', () =>
      spec
        .given([])
        .when({ type: 'AssignCustomerOwner', data: { customerId, ownerId: 'u-2' }, occurredAt: t1 })
        .thenThrows(AggregateNotFound));
  });

  describe('ChurnCustomer', () => {
    it('churns an active customer', () =>
      spec
        .given(activeCustomer)
        .when({ type: 'ChurnCustomer', data: { customerId, reason: 'price' }, occurredAt: t2 })
        .then([{ type: 'CustomerChurned', data: { customerId, reason: 'price' }, occurredAt: t2 }]));

    it('rejects churning a prospect (never acquired)', () =>
      spec
        .given([registered])
        .when({ type: 'ChurnCustomer', data: { customerId, reason: 'price' }, occurredAt: t2 })
        .thenThrows(BusinessRuleViolation, /only an active customer can churn.*prospect/));

    it('rejects churning an already churned customer', () =>
      spec
        .given(churnedCustomer)
        .when({ type: 'ChurnCustomer', data: { customerId, reason: 'again' }, occurredAt: t3 })
        .thenThrows(BusinessRuleViolation, /only an active customer can churn.*churned/));

    it('churns again after a reactivation', () =>
      spec
        .given([...churnedCustomer, reactivated])
        .when({ type: 'ChurnCustomer', data: { customerId, reason: 'support' }, occurredAt: t4 })
        .then([{ type: 'CustomerChurned', data: { customerId, reason: 'support' }, occurredAt: t4 }]));

    it('rejects a churn dated before the acquisition (lifecycle is ordered in business time)', () =>
      spec
        .given(activeCustomer)
        .when({ type: 'ChurnCustomer', data: { customerId, reason: 'price' }, occurredAt: registeredAt })
        .thenThrows(BusinessRuleViolation, (e) => e.code === 'out-of-order'));

    it('accepts a churn at the very instant of the acquisition', () =>
      spec
        .given(activeCustomer)
        .when({ type: 'ChurnCustomer', data: { customerId, reason: 'price' }, occurredAt: t1 })
        .then([{ type: 'CustomerChurned', data: { customerId, reason: 'price' }, occurredAt: t1 }]));

    it('rejects an empty reason', () =>
      spec
        .given(activeCustomer)
        .when({ type: 'ChurnCustomer', data: { customerId, reason: '' }, occurredAt: t2 })
        .thenThrows(InvalidInput, (e) => e.field === 'reason'));

    it('rejects a customer that does not exist', () =>
      spec
        .given([])
        .when({ type: 'ChurnCustomer', data: { customerId, reason: 'price' }, occurredAt: t2 })
        .thenThrows(AggregateNotFound));
  });

  describe('ReactivateCustomer', () => {
    it('rejects a reactivation dated before the churn', () =>
      spec
        .given(churnedCustomer)
        .when({ type: 'ReactivateCustomer', data: { customerId }, occurredAt: t1 })
        .thenThrows(BusinessRuleViolation, (e) => e.code === 'out-of-order'));

    it('reactivates a churned customer, with a reason', () =>
      spec
        .given(churnedCustomer)
        .when({ type: 'ReactivateCustomer', data: { customerId, reason: 'new contract' }, occurredAt: t3 })
        .then([{ type: 'CustomerReactivated', data: { customerId, reason: 'new contract' }, occurredAt: t3 }]));

    it('reactivates a churned customer without a reason', () =>
      spec
        .given(churnedCustomer)
        .when({ type: 'ReactivateCustomer', data: { customerId }, occurredAt: t3 })
        .then([{ type: 'CustomerReactivated', data: { customerId }, occurredAt: t3 }]));

    it('rejects reactivating an active customer', () =>
      spec
        .given(activeCustomer)
        .when({ type: 'ReactivateCustomer', data: { customerId }, occurredAt: t3 })
        .thenThrows(BusinessRuleViolation, /only a churned customer can be reactivated.*active/));

    it('rejects reactivating a prospect', () =>
      spec
        .given([registered])
        .when({ type: 'ReactivateCustomer', data: { customerId }, occurredAt: t3 })
        .thenThrows(BusinessRuleViolation, /only a churned customer can be reactivated.*prospect/));

    it('rejects reactivating twice', () =>
      spec
        .given([...churnedCustomer, reactivated])
        .when({ type: 'ReactivateCustomer', data: { customerId }, occurredAt: t4 })
        .thenThrows(BusinessRuleViolation, /only a churned customer/));

    it('rejects a customer that does not exist', () =>
      spec.given([]).when({ type: 'ReactivateCustomer', data: { customerId }, occurredAt: t3 }).thenThrows(AggregateNotFound));
  });

  describe('RecordPurchase', () => {
    it('acquires the customer on the first purchase, with its source as channel and the purchase time', () =>
      spec
        .given([registered])
        .when({
          type: 'RecordPurchase',
          data: { customerId, purchaseId: 'p-1', amount: 250.5, description: 'starter plan' },
          occurredAt: t1,
        })
        .then([
          { type: 'PurchaseRecorded', data: { customerId, purchaseId: 'p-1', amount: 250.5, description: 'starter plan' }, occurredAt: t1 },
          {
            type: 'CustomerAcquired',
            data: { customerId, channel: 'referral', trigger: { type: 'PurchaseRecorded', purchaseId: 'p-1' } },
            occurredAt: t1,
          },
        ]));

    it('does not acquire the customer again on a second purchase', () =>
      spec
        .given(activeCustomer)
        .when({ type: 'RecordPurchase', data: { customerId, purchaseId: 'p-2', amount: 80 }, occurredAt: t2 })
        .then([purchaseRecorded('p-2', 80, t2)]));

    it('does not acquire a customer already acquired by a won deal', () =>
      spec
        .given([registered, acquiredByDeal('d-1', t1)])
        .when({ type: 'RecordPurchase', data: { customerId, purchaseId: 'p-1', amount: 80 }, occurredAt: t2 })
        .then([purchaseRecorded('p-1', 80, t2)]));

    it('does not re-acquire a churned customer', () =>
      spec
        .given(churnedCustomer)
        .when({ type: 'RecordPurchase', data: { customerId, purchaseId: 'p-2', amount: 10 }, occurredAt: t3 })
        .then([purchaseRecorded('p-2', 10, t3)]));

    it('accepts an amount of 0', () =>
      spec
        .given(activeCustomer)
        .when({ type: 'RecordPurchase', data: { customerId, purchaseId: 'p-2', amount: 0 }, occurredAt: t2 })
        .then([purchaseRecorded('p-2', 0, t2)]));

    it.each(invalidAmounts)('rejects an amount of %s', (_label, amount) =>
      spec
        .given([registered])
        .when({ type: 'RecordPurchase', data: { customerId, purchaseId: 'p-1', amount }, occurredAt: t1 })
        .thenThrows(InvalidInput, (e) => e.field === 'amount' && /finite number ≥ 0/.test(e.message)),
    );

    it('rejects a customer that does not exist', () =>
      spec
        .given([])
        .when({ type: 'RecordPurchase', data: { customerId, purchaseId: 'p-1', amount: 10 }, occurredAt: t1 })
        .thenThrows(AggregateNotFound, `customer-${customerId}`));
  });

  describe('LogInteraction', () => {
    const logCall = (data: Partial<LogInteraction['data']> = {}): LogInteraction => ({
      type: 'LogInteraction',
      data: {
        customerId,
        interactionId: 'i-1',
        type: 'call',
        direction: 'outbound',
        subject: 'Renewal',
        outcome: 'interested',
        durationMinutes: 15,
        dealId: 'd-1',
        ...data,
      },
      occurredAt: t1,
    });

    it('logs an interaction with all its details', () =>
      spec
        .given([registered])
        .when(logCall())
        .then([
          {
            type: 'InteractionLogged',
            data: {
              customerId,
              interactionId: 'i-1',
              type: 'call',
              direction: 'outbound',
              subject: 'Renewal',
              outcome: 'interested',
              durationMinutes: 15,
              dealId: 'd-1',
              channel: { medium: 'voice', live: true },
            },
            occurredAt: t1,
          },
        ]));

    it('accepts a duration of 0 minutes', () =>
      spec
        .given([registered])
        .when(logCall({ type: 'note', durationMinutes: 0 }))
        .then([
          {
            type: 'InteractionLogged',
            data: { ...logCall().data, type: 'note', durationMinutes: 0, channel: { medium: 'internal', live: false } },
            occurredAt: t1,
          },
        ]));

    it.each(invalidAmounts)('rejects durationMinutes of %s', (_label, durationMinutes) =>
      spec
        .given([registered])
        .when(logCall({ durationMinutes }))
        .thenThrows(InvalidInput, (e) => e.field === 'durationMinutes'),
    );

    it('rejects an empty subject', () =>
      spec
        .given([registered])
        .when(logCall({ subject: ' ' }))
        .thenThrows(InvalidInput, (e) => e.field === 'subject'));

    it('rejects an unknown interaction type', () =>
      spec
        .given([registered])
        .when(logCall({ type: 'carrier-pigeon' as never }))
        .thenThrows(InvalidInput, (e) => e.field === 'type'));

    it('rejects an unknown direction', () =>
      spec
        .given([registered])
        .when(logCall({ direction: 'sideways' as never }))
        .thenThrows(InvalidInput, (e) => e.field === 'direction'));

    it('rejects a customer that does not exist', () =>
      spec.given([]).when(logCall()).thenThrows(AggregateNotFound, `customer-${customerId}`));

    describe('decideLogInteraction (needs only the existence of the customer, not its history)', () => {
      it('logs the interaction when the customer exists', () => {
        expect(decideLogInteraction(logCall(), true)).toEqual([
          { type: 'InteractionLogged', data: { ...logCall().data, channel: { medium: 'voice', live: true } }, occurredAt: t1 },
        ]);
      });

      it('rejects a customer that does not exist', () => {
        expect(() => decideLogInteraction(logCall(), false)).toThrow(AggregateNotFound);
      });

      it('decides exactly as the full decider does on a folded history', () => {
        const history = [...activeCustomer, ...Array.from({ length: 50 }, (_, i) => purchaseRecorded(`p-${i + 2}`, 1, t2))];
        expect(decideLogInteraction(logCall(), true)).toEqual(customerDecider.decide(logCall(), fold(customerDecider, history)));
      });
    });
  });

  describe('AcquireCustomer (sent when the first deal is won)', () => {
    it('acquires a prospect, with its source as channel and the won deal as trigger', () =>
      spec
        .given([registered])
        .when({ type: 'AcquireCustomer', data: { customerId, dealId: 'd-1' }, occurredAt: t1 })
        .then([acquiredByDeal('d-1', t1)]));

    it('emits nothing when the customer was already acquired by a deal', () =>
      spec
        .given([registered, acquiredByDeal('d-1', t1)])
        .when({ type: 'AcquireCustomer', data: { customerId, dealId: 'd-2' }, occurredAt: t2 })
        .thenNothing());

    it('emits nothing when the customer was already acquired by a purchase', () =>
      spec
        .given(activeCustomer)
        .when({ type: 'AcquireCustomer', data: { customerId, dealId: 'd-1' }, occurredAt: t2 })
        .thenNothing());

    it('rejects a customer that does not exist', () =>
      spec
        .given([])
        .when({ type: 'AcquireCustomer', data: { customerId, dealId: 'd-1' }, occurredAt: t1 })
        .thenThrows(AggregateNotFound));
  });

  describe('evolve', () => {
    it('walks prospect → active → churned → active (reactivated) and keeps the dates', () => {
      const afterRegistration = fold(customerDecider, [registered]);
      expect(afterRegistration).toMatchObject({ exists: true, status: 'prospect', registeredAt, source: 'referral', ownerId: 'u-1' });
      expect(afterRegistration.acquiredAt).toBeUndefined();

      const afterAcquisition = fold(customerDecider, activeCustomer);
      expect(afterAcquisition).toMatchObject({ status: 'active', acquiredAt: t1, purchases: { count: 1, total: 100 } });

      const afterChurn = fold(customerDecider, churnedCustomer);
      expect(afterChurn).toMatchObject({ status: 'churned', churnedAt: t2, acquiredAt: t1 });

      const afterReactivation = fold(customerDecider, [...churnedCustomer, reactivated]);
      expect(afterReactivation).toMatchObject({ status: 'active', acquiredAt: t1 });
      expect(afterReactivation.churnedAt).toBeUndefined();
    });

    const email = { medium: 'email', live: false } as const;
    const voice = { medium: 'voice', live: true } as const;
    it('counts purchases and interactions, and keeps the latest interaction with its channel', () => {
      const state = fold(customerDecider, [
        ...activeCustomer,
        purchaseRecorded('p-2', 50.25, t2),
        {
          type: 'InteractionLogged',
          data: { customerId, interactionId: 'i-1', type: 'email', direction: 'inbound', subject: 'Hi', channel: email },
          occurredAt: t2,
        },
        {
          type: 'InteractionLogged',
          data: { customerId, interactionId: 'i-2', type: 'call', direction: 'outbound', subject: 'Hi', channel: voice },
          occurredAt: t3,
        },
        // Logged last, but it happened before i-2: counted, not the latest.
        {
          type: 'InteractionLogged',
          data: { customerId, interactionId: 'i-3', type: 'email', direction: 'outbound', subject: 'Late note', channel: email },
          occurredAt: t2,
        },
      ]);
      expect(state.purchases).toEqual({ count: 2, total: 150.25 });
      expect(state.interactions).toBe(3);
      expect(state.lastInteraction).toEqual({ interactionId: 'i-2', occurredAt: t3, channel: voice });
    });

    it('keeps the lead a customer was converted from', () => {
      expect(fold(customerDecider, [{ ...registered, data: { ...registered.data, leadId: 'l-1' } }]).leadId).toBe('l-1');
    });
  });

  describe('automation: enrollment, tags and automatic owners', () => {
    const enrolled = { type: 'CustomerEnrolled' as const, data: { customerId, campaign: 'nurture', reason: 'rule' }, occurredAt: t1 };
    it('enrolls once per campaign and tags once per tag', () => {
      spec
        .given([registered])
        .when({ type: 'EnrollCustomer', data: { customerId, campaign: 'nurture', reason: 'rule' }, occurredAt: t1 })
        .then([enrolled]);
      spec
        .given([registered, enrolled])
        .when({ type: 'EnrollCustomer', data: { customerId, campaign: 'nurture' }, occurredAt: t1 })
        .thenNothing();
      spec
        .given([registered])
        .when({ type: 'TagCustomer', data: { customerId, tag: 'vip' }, occurredAt: t1 })
        .then([{ type: 'CustomerTagged', data: { customerId, tag: 'vip' }, occurredAt: t1 }]);
      spec
        .given([registered, { type: 'CustomerTagged', data: { customerId, tag: 'vip' }, occurredAt: t1 }])
        .when({ type: 'TagCustomer', data: { customerId, tag: 'vip' }, occurredAt: t1 })
        .thenNothing();
      spec
        .given([])
        .when({ type: 'EnrollCustomer', data: { customerId, campaign: 'nurture' }, occurredAt: t1 })
        .thenThrows(AggregateNotFound);
    });
    it('an automatic owner (ifUnassigned) carries strategy and reason, and never replaces an owner', () => {
      const unowned = { ...registered, data: { ...registered.data, ownerId: undefined } };
      delete (unowned.data as { ownerId?: string }).ownerId;
      spec
        .given([unowned])
        .when({
          type: 'AssignCustomerOwner',
          data: { customerId, ownerId: 'rep-b', strategy: 'round-robin', reason: 'turn 2 of 3', ifUnassigned: true },
          occurredAt: t1,
        })
        .then([
          {
            type: 'CustomerOwnerAssigned',
            data: { customerId, ownerId: 'rep-b', strategy: 'round-robin', reason: 'turn 2 of 3' },
            occurredAt: t1,
          },
        ]);
      const owned = { ...registered, data: { ...registered.data, ownerId: 'u-1' } };
      spec
        .given([owned])
        .when({ type: 'AssignCustomerOwner', data: { customerId, ownerId: 'rep-b', ifUnassigned: true }, occurredAt: t1 })
        .thenNothing();
    });
  });
  describe('LinkLead (a lead converted into the existing customer)', () => {
    const linked = (leadId: string): CustomerEvent => ({ type: 'CustomerLeadLinked', data: { customerId, leadId }, occurredAt: t1 });

    it('records the lead on the customer, once', () => {
      spec
        .given([registered])
        .when({ type: 'LinkLead', data: { customerId, leadId: 'l-2' }, occurredAt: t1 })
        .then([linked('l-2')]);
      spec
        .given([registered, linked('l-2')])
        .when({ type: 'LinkLead', data: { customerId, leadId: 'l-2' }, occurredAt: t2 })
        .thenNothing();
    });

    it('records nothing for the lead the customer was registered from', () =>
      spec
        .given([{ ...registered, data: { ...registered.data, leadId: 'l-1' } }])
        .when({ type: 'LinkLead', data: { customerId, leadId: 'l-1' }, occurredAt: t1 })
        .thenNothing());

    it('is linked to an erased customer too (the handler then erases the lead)', () =>
      spec
        .given([registered, { type: 'CustomerPersonalDataErased', data: { customerId }, occurredAt: t1 }])
        .when({ type: 'LinkLead', data: { customerId, leadId: 'l-3' }, occurredAt: t2 })
        .then([{ ...linked('l-3'), occurredAt: t2 }]));

    it('refuses an unknown customer', () =>
      spec
        .given([])
        .when({ type: 'LinkLead', data: { customerId, leadId: 'l-2' }, occurredAt: t1 })
        .thenThrows(AggregateNotFound));

    it('erasing the customer erases every lead that became them: the one registered from and those linked', () => {
      const state = fold(customerDecider, [{ ...registered, data: { ...registered.data, leadId: 'l-1' } }, linked('l-2'), linked('l-3')]);
      expect(samePersonSubjects(state)).toEqual(['lead-l-1', 'lead-l-2', 'lead-l-3']);
      expect(samePersonSubjects(fold(customerDecider, [registered]))).toEqual([]);
    });
  });

  describe('merging (docs/merging.md)', () => {
    const survivorId = 'c-2';
    const alive = { exists: true };
    const merged = { type: 'CustomerMerged' as const, data: { customerId, mergedId: customerId, survivorId }, occurredAt: t1 };
    const survivorCopy = {
      type: 'CustomerMerged' as const,
      data: { customerId: survivorId, mergedId: customerId, survivorId },
      occurredAt: t1,
    };
    const merge = (survivor?: { exists: boolean; archived?: boolean; mergedInto?: string }, intoId = survivorId) => ({
      type: 'MergeCustomer' as const,
      data: { customerId, intoId, reason: 'same person', survivor },
      occurredAt: t1,
    });

    it('merges into an existing survivor: the merged customer records the decision, without the survivor facts', () =>
      spec
        .given([registered])
        .when(merge(alive))
        .then([{ ...merged, data: { ...merged.data, reason: 'same person' } }]));

    it('merges an archived duplicate', () =>
      spec
        .given([registered, { type: 'CustomerArchived', data: { customerId }, occurredAt: registeredAt }])
        .when(merge(alive))
        .then([{ ...merged, data: { ...merged.data, reason: 'same person' } }]));

    it('refuses itself (400), an unknown survivor (422), an archived one (422) and a merged one (409 naming its survivor)', () => {
      spec.given([registered]).when(merge(alive, customerId)).thenThrows(InvalidInput);
      spec
        .given([registered])
        .when(merge({ exists: false }))
        .thenThrows(BusinessRuleViolation, /c-2 does not exist/);
      spec
        .given([registered])
        .when(merge({ exists: true, archived: true }))
        .thenThrows(BusinessRuleViolation, /archived/);
      spec
        .given([registered])
        .when(merge({ exists: true, mergedInto: 'c-9' }))
        .thenThrows(CustomerWasMerged, /merged into customer-c-9/);
    });

    it('refuses a customer others were merged into: merges are one level deep', () =>
      spec
        .given([registered, { ...survivorCopy, data: { customerId, mergedId: 'c-3', survivorId: customerId } }])
        .when(merge(alive))
        .thenThrows(BusinessRuleViolation, /unmerge them first/));

    it('refuses every command on a merged customer with 409 naming the survivor, but its unmerge, erasure and lead links', () => {
      const history = [registered, merged];
      spec
        .given(history)
        .when({ type: 'RecordPurchase', data: { customerId, purchaseId: 'p', amount: 1 }, occurredAt: t2 })
        .thenThrows(CustomerWasMerged, /customer-c-2/);
      spec
        .given(history)
        .when({ type: 'AcquireCustomer', data: { customerId, dealId: 'd' }, occurredAt: t2 })
        .thenThrows(CustomerWasMerged);
      spec.given(history).when(merge(alive, 'c-3')).thenThrows(CustomerWasMerged);
      spec
        .given(history)
        .when({ type: 'UnmergeCustomer', data: { customerId }, occurredAt: t2 })
        .then([{ type: 'CustomerUnmerged', data: { customerId, mergedId: customerId, survivorId }, occurredAt: t2 }]);
      spec
        .given(history)
        .when({ type: 'EraseCustomerPersonalData', data: { customerId }, occurredAt: t2 })
        .then([{ type: 'CustomerPersonalDataErased', data: { customerId }, occurredAt: t2 }]);
      spec
        .given(history)
        .when({ type: 'LinkLead', data: { customerId, leadId: 'l-9' }, occurredAt: t2 })
        .then([{ type: 'CustomerLeadLinked', data: { customerId, leadId: 'l-9' }, occurredAt: t2 }]);
    });

    it('refuses to unmerge a customer that is not merged (422)', () =>
      spec
        .given([registered])
        .when({ type: 'UnmergeCustomer', data: { customerId }, occurredAt: t1 })
        .thenThrows(BusinessRuleViolation, /not merged/));

    it('records each member once on the survivor, and its unmerge once', () => {
      const survivor = { ...registered, data: { ...registered.data, customerId: survivorId } };
      const record = { type: 'RecordMerge' as const, data: { customerId: survivorId, mergedId: customerId }, occurredAt: t1 };
      spec.given([survivor]).when(record).then([survivorCopy]);
      spec.given([survivor, survivorCopy]).when(record).thenNothing();
      const release = { type: 'RecordUnmerge' as const, data: { customerId: survivorId, mergedId: customerId }, occurredAt: t2 };
      spec.given([survivor]).when(release).thenNothing();
      spec
        .given([survivor, survivorCopy])
        .when(release)
        .then([{ type: 'CustomerUnmerged', data: { customerId: survivorId, mergedId: customerId, survivorId }, occurredAt: t2 }]);
      // A survivor merged elsewhere meanwhile cannot record it (the handler then undoes the merge).
      spec
        .given([
          survivor,
          { type: 'CustomerMerged', data: { customerId: survivorId, mergedId: survivorId, survivorId: 'c-9' }, occurredAt: t1 },
        ])
        .when(record)
        .thenThrows(CustomerWasMerged);
    });

    it('an unmerged customer is a customer of its own again; the survivor no longer lists it', () => {
      const unmerged = { type: 'CustomerUnmerged' as const, data: { customerId, mergedId: customerId, survivorId }, occurredAt: t2 };
      expect(fold(customerDecider, [registered, merged]).mergedInto).toBe(survivorId);
      expect(fold(customerDecider, [registered, merged, unmerged]).mergedInto).toBeUndefined();
      spec
        .given([registered, merged, unmerged])
        .when({ type: 'RecordPurchase', data: { customerId, purchaseId: 'p', amount: 1 }, occurredAt: t3 })
        .then([
          { type: 'PurchaseRecorded', data: { customerId, purchaseId: 'p', amount: 1 }, occurredAt: t3 },
          { ...acquiredByPurchase('p', t3) },
        ]);
    });

    it('erasing the survivor erases its merged customers (and, through them, their leads); not after an unmerge', () => {
      const survivor = { ...registered, data: { ...registered.data, customerId: survivorId } };
      const state = fold(customerDecider, [survivor, survivorCopy]);
      expect(samePersonSubjects(state)).toEqual(['customer-c-1']);
      const released = {
        type: 'CustomerUnmerged' as const,
        data: { customerId: survivorId, mergedId: customerId, survivorId },
        occurredAt: t2,
      };
      expect(samePersonSubjects(fold(customerDecider, [survivor, survivorCopy, released]))).toEqual([]);
    });
  });
});
