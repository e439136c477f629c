import type { AcquireCustomer, RegisterCustomer } from '../customer/commands';
import type { DealWon } from '../deal/events';
import type { LeadState } from '../lead/decider';

/**
 * Process manager: a customer is acquired by their first won deal (or first purchase, which the
 * customer decider handles itself). The resulting command is idempotent: the customer decider
 * emits CustomerAcquired only once, so reacting twice to the same DealWon appends nothing.
 */
export function onDealWon(event: DealWon): AcquireCustomer {
  return {
    type: 'AcquireCustomer',
    data: { customerId: event.data.customerId, dealId: event.data.dealId },
    occurredAt: event.occurredAt,
  };
}

/** Converting a lead registers its customer with the lead's profile and source. */
export function customerFromLead(lead: LeadState, customerId: string, occurredAt: string): RegisterCustomer {
  const data: RegisterCustomer['data'] = { customerId, name: lead.name, source: lead.source, leadId: lead.leadId };
  if (lead.email !== undefined) data.email = lead.email;
  if (lead.ownerId !== undefined) data.ownerId = lead.ownerId;
  if (lead.attributes !== undefined) data.attributes = lead.attributes;
  return { type: 'RegisterCustomer', data, occurredAt };
}
