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

/** How the contact was made, coarser than the type: what channel reports and consumers group by. */
export const InteractionMedia = ['voice', 'meeting', 'email', 'text', 'social', 'web', 'support', 'internal', 'other'] as const;
export type InteractionMedium = (typeof InteractionMedia)[number];
/**
 * The structured channel of an interaction (InteractionLogged schema version 2). Recorded on the
 * event rather than derived by each reader, so every consumer (reports, Kafka, webhooks) classifies
 * an interaction the same way, and the classification an event was logged with stays its own.
 */
export interface InteractionChannel {
  medium: InteractionMedium;
  /** A conversation held live (a call, a meeting), rather than a message or a visit read later. */
  live: boolean;
}

/** The channel of each interaction type, as logging one records it (and the v1 upcaster derives it). */
const CHANNELS: Record<InteractionType, InteractionChannel> = {
  call: { medium: 'voice', live: true },
  meeting: { medium: 'meeting', live: true },
  email: { medium: 'email', live: false },
  sms: { medium: 'text', live: false },
  social: { medium: 'social', live: false },
  'support-ticket': { medium: 'support', live: false },
  'web-visit': { medium: 'web', live: false },
  'form-submission': { medium: 'web', live: false },
  note: { medium: 'internal', live: false },
};

/** The channel of an interaction type; a type outside InteractionTypes (never written, but read code must be total) is `other`. */
export function interactionChannelOf(type: string): InteractionChannel {
  const channel = (CHANNELS as Record<string, InteractionChannel | undefined>)[type];
  return channel ? { ...channel } : { medium: 'other', live: false };
}

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
    /** How the interaction was made. Since schema version 2: events stored at version 1 are served upcast, with the channel of their `type`. */
    channel: InteractionChannel;
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

/** Archived (issue 16): the customer leaves the lists; its history and report contributions stay. */
export type CustomerArchived = DomainEvent<'CustomerArchived', { customerId: string; reason?: string }>;
/** Restored from the archive: listed again. */
export type CustomerRestored = DomainEvent<'CustomerRestored', { customerId: string; reason?: string }>;

/**
 * Merged (issue 16): customer `mergedId` is a duplicate record of customer `survivorId`'s person.
 * Appended to both streams, `customerId` naming the stream's own customer: first to the merged
 * customer's (the decision), then to the survivor's (so that its erasure finds the merged record).
 * Read models act on the merged customer's copy (`customerId === mergedId`); docs/merging.md.
 */
export type CustomerMerged = DomainEvent<'CustomerMerged', { customerId: string; mergedId: string; survivorId: string; reason?: string }>;
/** The merge undone: both records are customers of their own again, as before the merge. Appended like CustomerMerged. */
export type CustomerUnmerged = DomainEvent<
  'CustomerUnmerged',
  { customerId: string; mergedId: string; survivorId: string; reason?: string }
>;

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
  | CustomerTagged
  | CustomerArchived
  | CustomerRestored
  | CustomerMerged
  | CustomerUnmerged;
