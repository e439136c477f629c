import type { Command } from '../common/decider';
import type { CustomerProfile, InteractionDirection, InteractionType } from './events';

export type RegisterCustomer = Command<
  'RegisterCustomer',
  CustomerProfile & {
    customerId: string;
    source: string;
    ownerId?: string;
    leadId?: string;
  }
>;
export type UpdateCustomerProfile = Command<'UpdateCustomerProfile', Partial<CustomerProfile> & { customerId: string; ownerId?: string }>;
export type AssignCustomerOwner = Command<
  'AssignCustomerOwner',
  { customerId: string; ownerId: string; strategy?: string; reason?: string; ifUnassigned?: boolean }
>;
export type EnrollCustomer = Command<'EnrollCustomer', { customerId: string; campaign: string; reason?: string }>;
export type TagCustomer = Command<'TagCustomer', { customerId: string; tag: string; reason?: string }>;
export type ChurnCustomer = Command<'ChurnCustomer', { customerId: string; reason: string }>;
export type ReactivateCustomer = Command<'ReactivateCustomer', { customerId: string; reason?: string }>;
export type RecordPurchase = Command<'RecordPurchase', { customerId: string; purchaseId: string; amount: number; description?: string }>;
export type LogInteraction = Command<
  'LogInteraction',
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
/** Sent by the acquisition process manager when the customer's first deal is won. */
export type AcquireCustomer = Command<'AcquireCustomer', { customerId: string; dealId: string }>;

/** Sent when a lead is converted into this existing customer (by the lead's handler, and again by the acquisition process manager). */
export type LinkLead = Command<'LinkLead', { customerId: string; leadId: string }>;

/** Crypto-shredding: the handler destroys the customer's key; this records it (docs/personal-data.md, issue 6). */
export type EraseCustomerPersonalData = Command<'EraseCustomerPersonalData', { customerId: string }>;

/** Archiving and restoring (issue 16): managers and admins. */
export type ArchiveCustomer = Command<'ArchiveCustomer', { customerId: string; reason?: string }>;
export type RestoreCustomer = Command<'RestoreCustomer', { customerId: string; reason?: string }>;

/**
 * Merging (docs/merging.md): decided on the merged customer's stream. `survivor` is what the
 * handler read of the survivor's record: the decider checks it, as it cannot read another stream.
 */
export type MergeCustomer = Command<
  'MergeCustomer',
  { customerId: string; intoId: string; reason?: string; survivor?: { exists: boolean; archived?: boolean; mergedInto?: string } }
>;
export type UnmergeCustomer = Command<'UnmergeCustomer', { customerId: string; reason?: string }>;
/** The survivor's side of a merge and an unmerge: sent by the merge's handler and process manager, never by the API. */
export type RecordMerge = Command<'RecordMerge', { customerId: string; mergedId: string; reason?: string }>;
export type RecordUnmerge = Command<'RecordUnmerge', { customerId: string; mergedId: string; reason?: string }>;

export type CustomerCommand =
  | RegisterCustomer
  | UpdateCustomerProfile
  | AssignCustomerOwner
  | ChurnCustomer
  | ReactivateCustomer
  | RecordPurchase
  | LogInteraction
  | AcquireCustomer
  | EraseCustomerPersonalData
  | LinkLead
  | EnrollCustomer
  | TagCustomer
  | ArchiveCustomer
  | RestoreCustomer
  | MergeCustomer
  | UnmergeCustomer
  | RecordMerge
  | RecordUnmerge;
