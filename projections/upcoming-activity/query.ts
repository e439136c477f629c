import { DAY_MS } from '../common/numbers';
import type { ReportContext, ReportDefinition, ReportParams } from '../common/report';
import { tableRow } from '../common/table';
import { readUpcomingTasks, spanAt, UPCOMING_ACTIVITY_PROJECTION } from './projection';

/** How far ahead and back the report looks from `asOf`. */
export const UPCOMING_WINDOW_MS = 7 * DAY_MS;

export interface UpcomingFigures {
  /** Open at asOf and due before it. */
  overdue: number;
  /** Open at asOf and due in [asOf, asOf + 7 days). */
  dueNext7Days: number;
  /** Completed in [asOf − 7 days, asOf). */
  doneLast7Days: number;
}
export type OwnerUpcoming = { ownerId: string } & UpcomingFigures;
export interface UpcomingActivityReport {
  asOf: string;
  /** asOf − 7 days: the start of the done window. */
  doneFrom: string;
  /** asOf + 7 days: the end of the due window. */
  dueTo: string;
  /** Owners with a figure other than 0, by ownerId (`unassigned` for tasks without one). */
  owners: OwnerUpcoming[];
  totals: UpcomingFigures;
}

const zero = (): UpcomingFigures => ({ overdue: 0, dueNext7Days: 0, doneLast7Days: 0 });

/**
 * GET /reports/upcoming-activity?asOf= [now] — per task owner, as of `asOf` (docs/reports.md): the
 * tasks open at asOf that are overdue or due in the next 7 days, beside the tasks completed in
 * the last 7 days. Exact for any asOf: the projection keeps every task's creation, owners and due
 * dates over time, and completion or cancellation (a cancelled task is open until then, never done).
 */
export async function buildUpcomingActivityReport(
  params: Pick<ReportParams, 'asOf' | 'owner'>,
  context: Pick<ReportContext, 'readModels'>,
): Promise<UpcomingActivityReport> {
  const asOfMs = Date.parse(params.asOf);
  const dueToMs = asOfMs + UPCOMING_WINDOW_MS;
  const doneFromMs = asOfMs - UPCOMING_WINDOW_MS;
  const { open, done } = await readUpcomingTasks(context.readModels, asOfMs, dueToMs, doneFromMs);
  const byOwner = new Map<string, UpcomingFigures>();
  const totals = zero();
  const count = (ownerId: string, figure: keyof UpcomingFigures) => {
    let figures = byOwner.get(ownerId);
    if (!figures) byOwner.set(ownerId, (figures = zero()));
    figures[figure] += 1;
    totals[figure] += 1;
  };
  // A task counts for its owner and with its due date at the instant that matters: asOf for an
  // open one, its completion for a done one (reassignments and new due dates take effect at their business time).
  const counted = (ownerId: string) => params.owner === undefined || ownerId === params.owner;
  for (const task of open) {
    const { ownerId, due } = spanAt(task, asOfMs);
    if (counted(ownerId) && due < dueToMs) count(ownerId, due < asOfMs ? 'overdue' : 'dueNext7Days');
  }
  for (const task of done) {
    const { ownerId } = spanAt(task, task.until);
    if (counted(ownerId)) count(ownerId, 'doneLast7Days');
  }
  return {
    asOf: new Date(asOfMs).toISOString(),
    doneFrom: new Date(doneFromMs).toISOString(),
    dueTo: new Date(dueToMs).toISOString(),
    owners: [...byOwner].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([ownerId, figures]) => ({ ownerId, ...figures })),
    totals,
  };
}

export const upcomingActivityReport = {
  name: 'upcoming-activity',
  description:
    'Per task owner as of an instant (asOf, default now): open tasks overdue and due in the next 7 days, beside the tasks completed in the last 7 days',
  projections: [UPCOMING_ACTIVITY_PROJECTION],
  ownerScoped: true,
  tables: {
    owners: (r: UpcomingActivityReport) => r.owners.map((o) => tableRow(o)),
    totals: (r: UpcomingActivityReport) => [tableRow({ asOf: r.asOf, doneFrom: r.doneFrom, dueTo: r.dueTo }, r.totals)],
  },
  run: (params, context) => buildUpcomingActivityReport(params, context),
} satisfies ReportDefinition;
