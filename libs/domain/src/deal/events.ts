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

/**
 * A won or lost deal reopened (issue 16): open again from this instant, in `stage`. A deal counts by
 * its last close, so every report withdraws the close it undoes (`outcome` at `closedAt`, with the
 * amount and stage it closed with) from the period it was counted in. The customer acquisition a
 * win made stands: it is the customer's own history.
 */
export type DealReopened = DomainEvent<
  'DealReopened',
  {
    dealId: string;
    customerId: string;
    ownerId: string;
    amount: number;
    /** The stage it is open in again: by default the one it was closed from. */
    stage: string;
    /** The close it undoes. */
    outcome: 'won' | 'lost';
    closedAt: string;
    closedStage: string;
    /** The withdrawn loss's reason (of a lost deal). */
    lostReason?: string;
    /** Why it was reopened. */
    reason?: string;
  }
>;

export type DealEvent =
  | DealOpened
  | DealStageChanged
  | DealAmountChanged
  | DealExpectedCloseDateChanged
  | DealWon
  | DealLost
  | DealReopened
  | DealOwnerAssigned
  | DealArchived
  | DealRestored;
