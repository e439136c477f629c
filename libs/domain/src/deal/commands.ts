import type { Command } from '../common/decider';

export type OpenDeal = Command<
  'OpenDeal',
  {
    dealId: string;
    customerId: string;
    title: string;
    amount: number;
    ownerId: string;
    expectedCloseDate?: string;
    source: string;
    stage?: string;
  }
>;
export type ChangeDealStage = Command<'ChangeDealStage', { dealId: string; stage: string }>;
export type UpdateDeal = Command<'UpdateDeal', { dealId: string; amount?: number; expectedCloseDate?: string }>;
export type WinDeal = Command<'WinDeal', { dealId: string }>;
export type LoseDeal = Command<'LoseDeal', { dealId: string; reason: string }>;

/** Reassigns the deal (managers and admins); allowed on a closed deal too (its records move with it). */
export type AssignDealOwner = Command<'AssignDealOwner', { dealId: string; ownerId: string }>;
/** Archiving and restoring (issue 16): managers and admins; open and closed deals alike. */
export type ArchiveDeal = Command<'ArchiveDeal', { dealId: string; reason?: string }>;
export type RestoreDeal = Command<'RestoreDeal', { dealId: string; reason?: string }>;
/** Reopens a won or lost deal (managers and admins): open again in `stage` (default: the stage it closed from). */
export type ReopenDeal = Command<'ReopenDeal', { dealId: string; stage?: string; reason?: string }>;
export type DealCommand =
  OpenDeal | ChangeDealStage | UpdateDeal | WinDeal | LoseDeal | ReopenDeal | AssignDealOwner | ArchiveDeal | RestoreDeal;
