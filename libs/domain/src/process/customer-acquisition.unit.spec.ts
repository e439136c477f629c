import { fold } from '../common/decider';
import { customerDecider } from '../customer/decider';
import type { CustomerRegistered } from '../customer/events';
import { dealDecider } from '../deal/decider';
import type { DealOpened, DealWon } from '../deal/events';
import { defaultPipeline } from '../deal/pipeline';
import { leadDecider } from '../lead/decider';
import type { LeadCaptured, LeadEvent } from '../lead/events';
import { DeciderSpecification } from '../testing/decider-specification';
import { customerFromLead, onDealWon } from './customer-acquisition';

const customerId = 'c-1';
const registered: CustomerRegistered = {
  type: 'CustomerRegistered',
  data: { customerId, name: 'Ada', source: 'partner' },
  occurredAt: '2024-01-01T00:00:00.000Z',
};
const dealWon: DealWon = {
  type: 'DealWon',
  data: { dealId: 'd-1', customerId, amount: 5000, stage: 'negotiation' },
  occurredAt: '2024-02-10T15:30:00.000Z',
};

describe('customer acquisition process', () => {
  describe('onDealWon', () => {
    it("sends AcquireCustomer to the deal's customer, at the time the deal was won", () => {
      expect(onDealWon(dealWon)).toEqual({
        type: 'AcquireCustomer',
        data: { customerId, dealId: 'd-1' },
        occurredAt: '2024-02-10T15:30:00.000Z',
      });
    });

    it('turns a won deal into CustomerAcquired with the customer source as channel and the DealWon time', () => {
      const opened: DealOpened = {
        type: 'DealOpened',
        data: { dealId: 'd-1', customerId, title: 'Pilot', amount: 5000, ownerId: 'u-1', source: 'partner', stage: 'negotiation' },
        occurredAt: '2024-02-01T00:00:00.000Z',
      };
      const deals = dealDecider(defaultPipeline);
      const [won] = deals.decide({ type: 'WinDeal', data: { dealId: 'd-1' }, occurredAt: dealWon.occurredAt }, fold(deals, [opened]));
      expect(won).toEqual(dealWon);

      DeciderSpecification.for(customerDecider)
        .given([registered])
        .when(onDealWon(won as DealWon))
        .then([
          {
            type: 'CustomerAcquired',
            data: { customerId, channel: 'partner', trigger: { type: 'DealWon', dealId: 'd-1' } },
            occurredAt: dealWon.occurredAt,
          },
        ]);
    });

    it('is idempotent: reacting to the same DealWon twice appends nothing the second time', () => {
      const first = customerDecider.decide(onDealWon(dealWon), fold(customerDecider, [registered]));
      expect(first).toHaveLength(1);
      DeciderSpecification.for(customerDecider)
        .given([registered, ...first])
        .when(onDealWon(dealWon))
        .thenNothing();
    });
  });

  describe('customerFromLead', () => {
    const captured: LeadCaptured = {
      type: 'LeadCaptured',
      data: {
        leadId: 'l-1',
        name: 'Grace Hopper',
        email: 'grace@example.com',
        source: 'webinar',
        campaignId: 'cmp-1',
        attributes: { size: 'enterprise' },
      },
      occurredAt: '2024-01-01T00:00:00.000Z',
    };
    const assigned: LeadEvent = { type: 'LeadAssigned', data: { leadId: 'l-1', ownerId: 'u-7' }, occurredAt: '2024-01-02T00:00:00.000Z' };

    it("registers the customer with the lead's name, email, source, owner and attributes", () => {
      const lead = fold(leadDecider, [captured, assigned]);
      expect(customerFromLead(lead, 'c-9', '2024-01-03T00:00:00.000Z')).toStrictEqual({
        type: 'RegisterCustomer',
        data: {
          customerId: 'c-9',
          name: 'Grace Hopper',
          email: 'grace@example.com',
          source: 'webinar',
          ownerId: 'u-7',
          attributes: { size: 'enterprise' },
          leadId: 'l-1',
        },
        occurredAt: '2024-01-03T00:00:00.000Z',
      });
    });

    it('leaves out what the lead does not have', () => {
      const lead = fold(leadDecider, [{ ...captured, data: { leadId: 'l-2', name: 'Anon', source: 'organic' } }]);
      expect(customerFromLead(lead, 'c-10', '2024-01-03T00:00:00.000Z')).toStrictEqual({
        type: 'RegisterCustomer',
        data: { customerId: 'c-10', name: 'Anon', source: 'organic', leadId: 'l-2' },
        occurredAt: '2024-01-03T00:00:00.000Z',
      });
    });

    it('produces a command the customer decider accepts, keeping the lead source as acquisition channel', () => {
      const lead = fold(leadDecider, [captured, assigned]);
      const [event] = customerDecider.decide(customerFromLead(lead, 'c-9', '2024-01-03T00:00:00.000Z'), fold(customerDecider, []));
      expect(event).toMatchObject({
        type: 'CustomerRegistered',
        data: { customerId: 'c-9', source: 'webinar', leadId: 'l-1', ownerId: 'u-7' },
      });
    });
  });
});
