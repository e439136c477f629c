import type { DomainEvent } from '../common/decider';

export type DealOpened = DomainEvent<
  'DealOpened',
  {
    dealId: string;
    customerId: string;
    title: string;
    amount: number;
    ownerId: string;
    expectedCloseDate?: string;
    /** Acquisition channel; defaults to the customer's source. */
    source: string;
    stage: string;
  }
>;
export type DealStageChanged = DomainEvent<'DealStageChanged', { dealId: string; from: string; to: string }>;
export type DealAmountChanged = DomainEvent<'DealAmountChanged', { dealId: string; from: number; to: number }>;
export type DealExpectedCloseDateChanged = DomainEvent<'DealExpectedCloseDateChanged', { dealId: string; from?: string; to: string }>;
export type DealWon = DomainEvent<'DealWon', { dealId: string; customerId: string; amount: number; stage: string }>;
export type DealLost = DomainEvent<'DealLost', { dealId: string; customerId: string; amount: number; stage: string; reason: string }>;

export type DealOwnerAssigned = DomainEvent<'DealOwnerAssigned', { dealId: string; ownerId: string; previousOwnerId: string }>;
/** Archived (issue 16): the deal leaves the lists and, while open, the open pipeline; its history and report contributions stay. */
export type DealArchived = DomainEvent<'DealArchived', { dealId: string; reason?: string }>;
/** Restored from the archive: listed again, and an open deal counts in the open pipeline again. */
export type DealRestored = DomainEvent<'DealRestored', { dealId: string; reason?: string }>;

export type DealEvent =
  | DealOpened
  | DealStageChanged
  | DealAmountChanged
  | DealExpectedCloseDateChanged
  | DealWon
  | DealLost
  | DealOwnerAssigned
  | DealArchived
  | DealRestored;
