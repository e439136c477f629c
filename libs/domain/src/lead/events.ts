import type { DomainEvent } from '../common/decider';

export type LeadCaptured = DomainEvent<
  'LeadCaptured',
  {
    leadId: string;
    name: string;
    email?: string;
    source: string;
    campaignId?: string;
    attributes?: Record<string, unknown>;
  }
>;
export type LeadScored = DomainEvent<'LeadScored', { leadId: string; score: number; reasons: string[] }>;
export type LeadAssigned = DomainEvent<
  'LeadAssigned',
  { leadId: string; ownerId: string; previousOwnerId?: string; strategy?: string; reason?: string }
>;
export type LeadQualified = DomainEvent<'LeadQualified', { leadId: string }>;
export type LeadDisqualified = DomainEvent<'LeadDisqualified', { leadId: string; reason: string }>;
export type LeadConverted = DomainEvent<'LeadConverted', { leadId: string; customerId: string; source: string }>;

/** What a lead did (scoring behaviour): the customer interaction types plus marketing signals. */
export const LeadInteractionTypes = [
  'call',
  'email',
  'meeting',
  'note',
  'sms',
  'social',
  'support-ticket',
  'web-visit',
  'form-submission',
  'email-opened',
  'email-replied',
  'content-download',
  'purchase',
] as const;
export type LeadInteractionType = (typeof LeadInteractionTypes)[number];
export type LeadInteractionLogged = DomainEvent<
  'LeadInteractionLogged',
  { leadId: string; interactionId: string; type: LeadInteractionType; subject?: string }
>;

/** The lead's personal data key was destroyed (see CustomerPersonalDataErased). */
export type LeadPersonalDataErased = DomainEvent<'LeadPersonalDataErased', { leadId: string }>;

/** Archived (issue 16): the lead leaves the lists; its history and report contributions stay. */
export type LeadArchived = DomainEvent<'LeadArchived', { leadId: string; reason?: string }>;
/** Restored from the archive: listed again. */
export type LeadRestored = DomainEvent<'LeadRestored', { leadId: string; reason?: string }>;

export type LeadEvent =
  | LeadCaptured
  | LeadScored
  | LeadAssigned
  | LeadQualified
  | LeadDisqualified
  | LeadConverted
  | LeadInteractionLogged
  | LeadPersonalDataErased
  | LeadArchived
  | LeadRestored;
