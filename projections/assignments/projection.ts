import type { ProjectionContext } from '@chronicle/projector';
import { countDay, MonthDocument, readMonths } from '../common/buckets';
import { defineProjection, ProjectedEvent } from '../common/define-projection';
import type { ReadModelAccess } from '../common/report';

/**
 * Assignments of leads and customers per owner and UTC day, for the fairness report: one document
 * per month and owner with counters per day (common/buckets), so a two-year report reads a few
 * hundred small documents, not one per assignment.
 */
export const ASSIGNMENTS_PROJECTION = 'assignments';

/** Assigned automatically (round-robin, least-busy, territory, rule); the rest by hand. */
export const AUTOMATIC_STRATEGIES: ReadonlySet<string> = new Set(['round-robin', 'least-busy', 'territory', 'rule']);

export interface AssignmentCounters {
  assigned: number;
  leads: number;
  customers: number;
  automatic: number;
}
export type AssignmentMonth = MonthDocument<AssignmentCounters> & { ownerId: string };

async function assigned(event: ProjectedEvent<'LeadAssigned' | 'CustomerOwnerAssigned'>, ctx: ProjectionContext): Promise<void> {
  const d = event.data;
  const init = (month: string, _id: string) => ({ _id, month, ownerId: d.ownerId, days: {} }) as AssignmentMonth;
  const empty = (): AssignmentCounters => ({ assigned: 0, leads: 0, customers: 0, automatic: 0 });
  await countDay<AssignmentCounters>(ctx, 'months', event.occurredAt, d.ownerId, init, empty, (c) => {
    c.assigned += 1;
    if (event.type === 'LeadAssigned') c.leads += 1;
    else c.customers += 1;
    if (AUTOMATIC_STRATEGIES.has(d.strategy ?? '')) c.automatic += 1;
  });
}

export const assignmentsProjection = defineProjection({
  name: ASSIGNMENTS_PROJECTION,
  // 2: day counters per owner instead of one document per assignment.
  version: 2,
  collections: ['months'],
  indexes: { months: ['month'] },
  on: { LeadAssigned: assigned, CustomerOwnerAssigned: assigned },
});

/** The month documents overlapping [startMs, endMs). */
export async function readAssignments(access: ReadModelAccess, startMs: number, endMs: number): Promise<AssignmentMonth[]> {
  return readMonths(await access.collection<AssignmentMonth>(ASSIGNMENTS_PROJECTION, 'months'), startMs, endMs);
}
