import type { DomainEvent } from '../common/decider';

export const InteractionTypes = [
  'call',
  'email',
  'meeting',
  'note',
  'sms',
  'social',
  'support-ticket',
  'web-visit',
  'form-submission',
] as const;
export type InteractionType = (typeof InteractionTypes)[number];
export const InteractionDirections = ['inbound', 'outbound'] as const;
export type InteractionDirection = (typeof InteractionDirections)[number];

export interface CustomerProfile {
  name: string;
  email?: string;
  phone?: string;
  company?: string;
  industry?: string;
  region?: string;
  attributes?: Record<string, unknown>;
}

export type CustomerRegistered = DomainEvent<
  'CustomerRegistered',
  CustomerProfile & {
    customerId: string;
    /** Acquisition channel; fixed at registration (CAC and churn group by it). */
    source: string;
    ownerId?: string;
    leadId?: string;
  }
>;
export type CustomerProfileUpdated = DomainEvent<'CustomerProfileUpdated', Partial<CustomerProfile> & { customerId: string }>;
export type CustomerOwnerAssigned = DomainEvent<
  'CustomerOwnerAssigned',
  { customerId: string; ownerId: string; previousOwnerId?: string; strategy?: string; reason?: string }
>;
/** Enrolled in a (nurture) campaign, named by the rule that did it. */
export type CustomerEnrolled = DomainEvent<'CustomerEnrolled', { customerId: string; campaign: string; reason?: string }>;
export type CustomerTagged = DomainEvent<'CustomerTagged', { customerId: string; tag: string; reason?: string }>;
export type CustomerAcquired = DomainEvent<
  'CustomerAcquired',
  {
    customerId: string;
    channel: string;
    /** What acquired the customer: the first won deal or the first purchase. */
    trigger: { type: 'DealWon'; dealId: string } | { type: 'PurchaseRecorded'; purchaseId: string };
  }
>;
export type CustomerChurned = DomainEvent<'CustomerChurned', { customerId: string; reason: string }>;
export type CustomerReactivated = DomainEvent<'CustomerReactivated', { customerId: string; reason?: string }>;
export type PurchaseRecorded = DomainEvent<
  'PurchaseRecorded',
  {
    customerId: string;
    purchaseId: string;
    amount: number;
    description?: string;
  }
>;
export type InteractionLogged = DomainEvent<
  'InteractionLogged',
  {
    customerId: string;
    interactionId: string;
    type: InteractionType;
    direction: InteractionDirection;
    subject: string;
    outcome?: string;
    durationMinutes?: number;
    dealId?: string;
  }
>;

/**
 * A lead was converted into this existing customer: the same person. Recorded on the customer's
 * own stream (besides LeadConverted on the lead's) so that erasing the customer finds, from the
 * event store and without lag, every lead that became them.
 */
export type CustomerLeadLinked = DomainEvent<'CustomerLeadLinked', { customerId: string; leadId: string }>;

/** The customer's personal data key was destroyed: their personal fields (personal-data.ts) read as erased from now on. */
export type CustomerPersonalDataErased = DomainEvent<'CustomerPersonalDataErased', { customerId: string }>;

export type CustomerEvent =
  | CustomerRegistered
  | CustomerProfileUpdated
  | CustomerOwnerAssigned
  | CustomerAcquired
  | CustomerChurned
  | CustomerReactivated
  | PurchaseRecorded
  | InteractionLogged
  | CustomerPersonalDataErased
  | CustomerLeadLinked
  | CustomerEnrolled
  | CustomerTagged;
