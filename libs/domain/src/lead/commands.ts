import type { Command } from '../common/decider';

export type CaptureLead = Command<'CaptureLead', {
  leadId: string;
  name: string;
  email?: string;
  source: string;
  campaignId?: string;
  attributes?: Record<string, unknown>;
}>;
export type ScoreLead = Command<'ScoreLead', { leadId: string; score: number; reasons: string[] }>;
export type AssignLead = Command<'AssignLead', { leadId: string; ownerId: string; strategy?: string; reason?: string }>;
export type QualifyLead = Command<'QualifyLead', { leadId: string }>;
export type DisqualifyLead = Command<'DisqualifyLead', { leadId: string; reason: string }>;
export type ConvertLead = Command<'ConvertLead', { leadId: string; customerId: string }>;

export type EraseLeadPersonalData = Command<'EraseLeadPersonalData', { leadId: string }>;

export type LeadCommand = CaptureLead | ScoreLead | AssignLead | QualifyLead | DisqualifyLead | ConvertLead | EraseLeadPersonalData;
