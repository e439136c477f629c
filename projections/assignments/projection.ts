import type { CustomerOwnerAssigned, LeadAssigned } from '@chronicle/domain';
import type { RecordedEvent } from '@chronicle/event-store';
import type { Projection, ProjectionContext } from '@chronicle/projector';

/** Every assignment of a lead or customer to an owner (one document each), for the fairness report. */
export const ASSIGNMENTS_PROJECTION = 'assignments';

export interface AssignmentDocument {
  _id: string;
  kind: 'lead' | 'customer';
  subjectId: string;
  ownerId: string;
  /** round-robin, least-busy, territory, rule, manual; `unspecified` when the command named none. */
  strategy: string;
  reason: string | null;
  /** occurredAt, epoch ms. */
  t: number;
  [key: string]: unknown;
}

export const assignmentsProjection: Projection = {
  name: ASSIGNMENTS_PROJECTION,
  version: 1,
  collections: ['assignments'],
  indexes: { assignments: ['t'] },
  eventTypes: ['LeadAssigned', 'CustomerOwnerAssigned'],
  async apply(event: RecordedEvent, ctx: ProjectionContext) {
    const lead = event.type === 'LeadAssigned';
    const d = event.data as LeadAssigned['data'] & CustomerOwnerAssigned['data'];
    ctx.put<AssignmentDocument>('assignments', {
      _id: event.eventId,
      kind: lead ? 'lead' : 'customer',
      subjectId: lead ? d.leadId : d.customerId,
      ownerId: d.ownerId,
      strategy: d.strategy ?? 'unspecified',
      reason: d.reason ?? null,
      t: Date.parse(event.occurredAt),
    });
  },
};
