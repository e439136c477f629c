import type { DealStatus } from '@chronicle/domain';
import type { RecordedEvent } from '@chronicle/event-store';
import type { ProjectionContext } from '@chronicle/projector';
import { MERGES, mergeHandlers } from '../common/merges';
import { defineProjection } from '../common/define-projection';
import { compositeKey, recountListed } from '../common/listing';

/** Current state of every deal, one document each (`deals`), as the deal decider folds it. */
export const DEALS_PROJECTION = 'deals';

export type DealDocument = {
  _id: string;
  customerId: string;
  title: string;
  amount: number;
  ownerId: string;
  source: string;
  /** The open stage, or `won` / `lost` once closed. */
  stage: string;
  status: DealStatus;
  openedAt: string;
  stageEnteredAt: string;
  expectedCloseDate: string | null;
  closedAt: string | null;
  /** The stage a closed deal was won or lost from. */
  closedFromStage: string | null;
  lostReason: string | null;
  updatedAt: string;
  /** Archived (issue 16): left out of `GET /deals` unless `?archived=true`; `archivedAt` is the business time. */
  archived: boolean;
  archivedAt: string | null;
  /** The business time of the last DealReopened (issue 16), and how many there were. */
  reopenedAt: string | null;
  reopens: number;
  /** `<status>|<openedAt>` (see compositeKey): "status X, newest first", the default sort, is one index range. */
  statusOpenedAt: string;
};

/** The composite field serving a status filter with the default sort. */
export const STATUS_SORT_FIELDS = { openedAt: 'statusOpenedAt' } as const;

/** Fields whose per-value counts `stats` keeps (see CountsDocument). */
export const COUNTED_FIELDS = ['status', 'stage', 'ownerId'] as const;

function withStatusKeys(doc: DealDocument): DealDocument {
  doc.statusOpenedAt = compositeKey(doc.status, doc.openedAt);
  return doc;
}

async function update(ctx: ProjectionContext, event: RecordedEvent, dealId: string, change: (doc: DealDocument) => void): Promise<void> {
  const current = await ctx.get<DealDocument>('deals', dealId);
  if (!current) return; // every deal stream starts with DealOpened
  const doc = { ...current, updatedAt: event.occurredAt };
  change(doc);
  ctx.put('deals', withStatusKeys(doc));
  await recountListed(ctx, 'stats', COUNTED_FIELDS, current, doc);
}

export const dealsProjection = defineProjection({
  name: DEALS_PROJECTION,
  // 2: archived deals (DealArchived, DealRestored), counted apart (`counts-archived`).
  // 3: reopened deals (DealReopened): reopenedAt and reopens on every deal; totals by pair of counted fields.
  // 4: merged customers (CustomerMerged, CustomerUnmerged) in `merges`, for the survivor's filtered list.
  version: 4,
  collections: ['deals', 'stats', MERGES],
  indexes: {
    deals: [
      'customerId',
      'ownerId',
      'stage',
      'status',
      'openedAt',
      'amount',
      'expectedCloseDate',
      'archived',
      ...Object.values(STATUS_SORT_FIELDS),
    ],
  },
  on: {
    DealOpened(event, ctx) {
      const d = event.data;
      const at = event.occurredAt;
      const doc = withStatusKeys({
        _id: d.dealId,
        customerId: d.customerId,
        title: d.title,
        amount: d.amount,
        ownerId: d.ownerId,
        source: d.source,
        stage: d.stage,
        status: 'open',
        openedAt: at,
        stageEnteredAt: at,
        expectedCloseDate: d.expectedCloseDate ?? null,
        closedAt: null,
        closedFromStage: null,
        lostReason: null,
        updatedAt: at,
        archived: false,
        archivedAt: null,
        reopenedAt: null,
        reopens: 0,
        statusOpenedAt: '',
      });
      ctx.put<DealDocument>('deals', doc);
      return recountListed(ctx, 'stats', COUNTED_FIELDS, undefined, doc);
    },
    DealStageChanged(event, ctx) {
      const d = event.data;
      return update(ctx, event, d.dealId, (doc) => {
        doc.stage = d.to;
        doc.stageEnteredAt = event.occurredAt;
      });
    },
    DealAmountChanged(event, ctx) {
      const d = event.data;
      return update(ctx, event, d.dealId, (doc) => void (doc.amount = d.to));
    },
    DealExpectedCloseDateChanged(event, ctx) {
      const d = event.data;
      return update(ctx, event, d.dealId, (doc) => void (doc.expectedCloseDate = d.to));
    },
    // DealOwnerAssigned came later; no stored history held it before, so version 1 needs no rebuild.
    DealOwnerAssigned(event, ctx) {
      const d = event.data;
      return update(ctx, event, d.dealId, (doc) => void (doc.ownerId = d.ownerId));
    },
    DealWon(event, ctx) {
      return update(ctx, event, event.data.dealId, (doc) => {
        doc.status = 'won';
        doc.closedFromStage = doc.stage;
        doc.stage = 'won';
        doc.stageEnteredAt = event.occurredAt;
        doc.closedAt = event.occurredAt;
      });
    },
    DealLost(event, ctx) {
      const d = event.data;
      return update(ctx, event, d.dealId, (doc) => {
        doc.status = 'lost';
        doc.closedFromStage = doc.stage;
        doc.stage = 'lost';
        doc.stageEnteredAt = event.occurredAt;
        doc.closedAt = event.occurredAt;
        doc.lostReason = d.reason;
      });
    },
    // Open again in the event's stage, as the deal decider folds it; the close it undoes leaves no trace here.
    DealReopened(event, ctx) {
      const d = event.data;
      return update(ctx, event, d.dealId, (doc) => {
        doc.status = 'open';
        doc.stage = d.stage;
        doc.stageEnteredAt = event.occurredAt;
        doc.closedAt = null;
        doc.closedFromStage = null;
        doc.lostReason = null;
        doc.reopenedAt = event.occurredAt;
        doc.reopens += 1;
      });
    },
    DealArchived(event, ctx) {
      return update(ctx, event, event.data.dealId, (doc) => {
        doc.archived = true;
        doc.archivedAt = event.occurredAt;
      });
    },
    DealRestored(event, ctx) {
      return update(ctx, event, event.data.dealId, (doc) => {
        doc.archived = false;
        doc.archivedAt = null;
      });
    },
    // A deal's customer never changes: a merge only changes which customers `?customerId=` the survivor lists.
    ...mergeHandlers,
  },
});
