import type { CampaignEvent } from './campaign/events';
import type { CustomerEvent } from './customer/events';
import type { DealEvent } from './deal/events';
import type { LeadEvent } from './lead/events';
import type { TaskEvent } from './task/events';
import type { GoalEvent } from './goal/events';
import { interactionLoggedV1ToV2 } from './customer/upcasters';

export type ChronicleEvent = CustomerEvent | LeadEvent | DealEvent | CampaignEvent | TaskEvent | GoalEvent;
export type ChronicleEventType = ChronicleEvent['type'];

/**
 * Current schema version per event type; bump it together with an upcaster for the old one
 * (docs/schema-evolution.md). Commands write this version; reads upcast older ones to it.
 */
export const schemaVersions: Record<ChronicleEventType, number> = {
  CustomerRegistered: 1,
  CustomerProfileUpdated: 1,
  CustomerOwnerAssigned: 1,
  CustomerAcquired: 1,
  CustomerChurned: 1,
  CustomerReactivated: 1,
  CustomerEnrolled: 1,
  CustomerTagged: 1,
  PurchaseRecorded: 1,
  // 2: the structured `channel` (customer/upcasters.ts).
  InteractionLogged: 2,
  CustomerPersonalDataErased: 1,
  CustomerLeadLinked: 1,
  CustomerArchived: 1,
  CustomerRestored: 1,
  CustomerMerged: 1,
  CustomerUnmerged: 1,
  LeadCaptured: 1,
  LeadScored: 1,
  LeadAssigned: 1,
  LeadQualified: 1,
  LeadDisqualified: 1,
  LeadConverted: 1,
  LeadPersonalDataErased: 1,
  LeadInteractionLogged: 1,
  LeadArchived: 1,
  LeadRestored: 1,
  DealOpened: 1,
  DealStageChanged: 1,
  DealAmountChanged: 1,
  DealExpectedCloseDateChanged: 1,
  DealWon: 1,
  DealLost: 1,
  DealReopened: 1,
  DealOwnerAssigned: 1,
  DealArchived: 1,
  DealRestored: 1,
  CampaignLaunched: 1,
  SpendRecorded: 1,
  TaskCreated: 1,
  TaskCompleted: 1,
  TaskUpdated: 1,
  TaskCancelled: 1,
  TaskReassigned: 1,
  GoalSet: 1,
  GoalCancelled: 1,
};

export const schemaVersionOf = (type: string): number => (schemaVersions as Record<string, number>)[type] ?? 1;

/**
 * Upcasters turn a stored payload of an old schema version into the current one on read;
 * stored events are never rewritten (docs/schema-evolution.md). Keyed by `<type>@<fromVersion>`:
 * each takes one version to the next, and a chain of them brings any stored version up to date.
 */
export type Upcaster = (data: Record<string, unknown>) => Record<string, unknown>;
export const upcasters: Record<string, Upcaster> = {
  'InteractionLogged@1': interactionLoggedV1ToV2,
};

export function upcast(type: string, schemaVersion: number, data: unknown): { data: unknown; schemaVersion: number } {
  let version = schemaVersion;
  let current = data as Record<string, unknown>;
  for (let step = upcasters[`${type}@${version}`]; step; step = upcasters[`${type}@${version}`]) {
    current = step(current);
    version += 1;
  }
  return { data: current, schemaVersion: version };
}
