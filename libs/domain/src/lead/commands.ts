import type { Command } from '../common/decider';
import type { LeadInteractionType } from './events';

export type CaptureLead = Command<
  'CaptureLead',
  {
    leadId: string;
    name: string;
    email?: string;
    source: string;
    campaignId?: string;
    attributes?: Record<string, unknown>;
  }
>;
export type ScoreLead = Command<'ScoreLead', { leadId: string; score: number; reasons: string[] }>;
/** `ifUnassigned`: an automatic assignment, which never overrides an owner already set (e.g. by a manager). */
export type AssignLead = Command<
  'AssignLead',
  { leadId: string; ownerId: string; strategy?: string; reason?: string; ifUnassigned?: boolean }
>;
export type LogLeadInteraction = Command<
  'LogLeadInteraction',
  { leadId: string; interactionId: string; type: LeadInteractionType; subject?: string }
>;
export type QualifyLead = Command<'QualifyLead', { leadId: string }>;
export type DisqualifyLead = Command<'DisqualifyLead', { leadId: string; reason: string }>;
export type ConvertLead = Command<'ConvertLead', { leadId: string; customerId: string }>;

export type EraseLeadPersonalData = Command<'EraseLeadPersonalData', { leadId: string }>;

/** Archiving and restoring (issue 16): managers and admins. */
export type ArchiveLead = Command<'ArchiveLead', { leadId: string; reason?: string }>;
export type RestoreLead = Command<'RestoreLead', { leadId: string; reason?: string }>;

export type LeadCommand =
  | CaptureLead
  | ScoreLead
  | AssignLead
  | QualifyLead
  | DisqualifyLead
  | ConvertLead
  | LogLeadInteraction
  | EraseLeadPersonalData
  | ArchiveLead
  | RestoreLead;
