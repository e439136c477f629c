import { erasedFields } from '@chronicle/domain';
import type { LeadStatus } from '@chronicle/domain';
import type { RecordedEvent } from '@chronicle/event-store';
import type { ProjectionContext } from '@chronicle/projector';
import { defineProjection } from '../common/define-projection';
import { compositeKey, recountListed } from '../common/listing';

/** Current state of every lead, one document each (`leads`). */
export const LEADS_PROJECTION = 'leads';

export type LeadDocument = {
  _id: string;
  name: string;
  email: string | null;
  source: string;
  campaignId: string | null;
  attributes: Record<string, unknown> | null;
  ownerId: string | null;
  /** The latest score; null until scored. */
  score: number | null;
  scoreReasons: string[];
  status: LeadStatus;
  capturedAt: string;
  qualifiedAt: string | null;
  disqualifiedAt: string | null;
  disqualifyReason: string | null;
  convertedAt: string | null;
  convertedCustomerId: string | null;
  updatedAt: string;
  /** Archived (issue 16): left out of `GET /leads` unless `?archived=true`; `archivedAt` is the business time. */
  archived: boolean;
  archivedAt: string | null;
  /** `<status>|<capturedAt>` (see compositeKey): "status X, newest first", the default sort, is one index range. */
  statusCapturedAt: string;
};

/** The composite field serving a status filter with the default sort. */
export const STATUS_SORT_FIELDS = { capturedAt: 'statusCapturedAt' } as const;

/** Fields whose per-value counts `stats` keeps (see CountsDocument). */
export const COUNTED_FIELDS = ['status', 'source', 'ownerId', 'campaignId'] as const;

async function update(ctx: ProjectionContext, event: RecordedEvent, leadId: string, change: (doc: LeadDocument) => void): Promise<void> {
  const current = await ctx.get<LeadDocument>('leads', leadId);
  if (!current) return; // every lead stream starts with LeadCaptured
  const doc = { ...current, updatedAt: event.occurredAt };
  change(doc);
  doc.statusCapturedAt = compositeKey(doc.status, doc.capturedAt);
  ctx.put('leads', doc);
  await recountListed(ctx, 'stats', COUNTED_FIELDS, current, doc);
}

export const leadsProjection = defineProjection({
  name: LEADS_PROJECTION,
  // 2: archived leads (LeadArchived, LeadRestored), counted apart (`counts-archived`).
  // 3: totals by pair of counted fields (a list filtered on two of them).
  version: 3,
  collections: ['leads', 'stats'],
  indexes: {
    leads: ['status', 'source', 'ownerId', 'campaignId', 'capturedAt', 'score', 'archived', ...Object.values(STATUS_SORT_FIELDS)],
  },
  scrubAfter: ['LeadPersonalDataErased'],
  on: {
    LeadCaptured(event, ctx) {
      const d = event.data;
      const at = event.occurredAt;
      const doc: LeadDocument = {
        _id: d.leadId,
        name: d.name,
        email: d.email ?? null,
        source: d.source,
        campaignId: d.campaignId ?? null,
        attributes: d.attributes ?? null,
        ownerId: null,
        score: null,
        scoreReasons: [],
        status: 'new',
        capturedAt: at,
        qualifiedAt: null,
        disqualifiedAt: null,
        disqualifyReason: null,
        convertedAt: null,
        convertedCustomerId: null,
        updatedAt: at,
        archived: false,
        archivedAt: null,
        statusCapturedAt: compositeKey('new', at),
      };
      ctx.put<LeadDocument>('leads', doc);
      return recountListed(ctx, 'stats', COUNTED_FIELDS, undefined, doc);
    },
    LeadScored(event, ctx) {
      const d = event.data;
      return update(ctx, event, d.leadId, (doc) => {
        doc.score = d.score;
        doc.scoreReasons = d.reasons ?? [];
      });
    },
    LeadAssigned(event, ctx) {
      const d = event.data;
      return update(ctx, event, d.leadId, (doc) => void (doc.ownerId = d.ownerId));
    },
    LeadQualified(event, ctx) {
      return update(ctx, event, event.data.leadId, (doc) => {
        doc.status = 'qualified';
        doc.qualifiedAt = event.occurredAt;
      });
    },
    LeadDisqualified(event, ctx) {
      const d = event.data;
      return update(ctx, event, d.leadId, (doc) => {
        doc.status = 'disqualified';
        doc.disqualifiedAt = event.occurredAt;
        doc.disqualifyReason = d.reason;
      });
    },
    LeadConverted(event, ctx) {
      const d = event.data;
      return update(ctx, event, d.leadId, (doc) => {
        doc.status = 'converted';
        doc.convertedAt = event.occurredAt;
        doc.convertedCustomerId = d.customerId;
      });
    },
    LeadPersonalDataErased(event, ctx) {
      return update(ctx, event, event.data.leadId, (doc) => {
        Object.assign(doc, erasedFields({ name: doc.name, email: doc.email }));
        doc.attributes = null;
      });
    },
    LeadArchived(event, ctx) {
      return update(ctx, event, event.data.leadId, (doc) => {
        doc.archived = true;
        doc.archivedAt = event.occurredAt;
      });
    },
    LeadRestored(event, ctx) {
      return update(ctx, event, event.data.leadId, (doc) => {
        doc.archived = false;
        doc.archivedAt = null;
      });
    },
  },
});
