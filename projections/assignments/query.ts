import { daysWithin } from '../common/buckets';
import { periodIndex, periods } from '../common/periods';
import type { ReportDefinition } from '../common/report';
import { ASSIGNMENTS_PROJECTION, readAssignments } from './projection';
import { tableRow } from '../common/table';

export interface RepAssignments {
  ownerId: string;
  assigned: number;
  leads: number;
  customers: number;
  /** Assigned automatically (round-robin, least-busy, territory, rule), the rest by hand. */
  automatic: number;
}

export interface AssignmentsReport {
  interval: string;
  periods: { start: string; end: string; reps: RepAssignments[]; spread: number }[];
  total: { reps: RepAssignments[]; spread: number };
}

const zero = (ownerId: string): RepAssignments => ({ ownerId, assigned: 0, leads: 0, customers: 0, automatic: 0 });

/**
 * GET /reports/assignments?from&to&interval — fairness: assignments (leads and customers) per rep
 * per period; every rep with an assignment in the range is listed in every period (zeros
 * included), by id. `spread` = most − fewest assigned among those reps.
 */
export const assignmentsReport = {
  name: 'assignments',
  description:
    'Fairness of assignment: leads and customers assigned per rep per period (automatic and manual), with the spread between reps',
  projections: [ASSIGNMENTS_PROJECTION],
  tables: {
    reps: (r: AssignmentsReport) => r.periods.flatMap((p) => p.reps.map((rep) => tableRow({ start: p.start, end: p.end }, rep))),
    periods: (r: AssignmentsReport) => r.periods.map((p) => tableRow({ start: p.start, end: p.end, spread: p.spread })),
    repTotals: (r: AssignmentsReport) => r.total.reps.map((rep) => tableRow(rep)),
  },
  async run(params, { readModels }): Promise<AssignmentsReport> {
    const list = periods(params.from, params.to, params.interval);
    const months = list.length === 0 ? [] : await readAssignments(readModels, list[0].startMs, list[list.length - 1].endMs);
    const days = months.flatMap((m) =>
      [...daysWithin(m, list[0].startMs, list[list.length - 1].endMs)].map(([dayMs, day]) => ({ ownerId: m.ownerId, dayMs, day })),
    );
    const owners = [...new Set(days.map((d) => d.ownerId))].sort();
    const counts = list.map(() => new Map(owners.map((o) => [o, zero(o)])));
    const total = new Map(owners.map((o) => [o, zero(o)]));
    // Periods start on whole days (interval ≥ day), so a day's counters fall in one period.
    for (const { ownerId, dayMs, day } of days) {
      for (const row of [counts[periodIndex(list, dayMs)].get(ownerId)!, total.get(ownerId)!]) {
        row.assigned += day.assigned;
        row.leads += day.leads;
        row.customers += day.customers;
        row.automatic += day.automatic;
      }
    }
    const spread = (rows: RepAssignments[]) =>
      rows.length ? Math.max(...rows.map((r) => r.assigned)) - Math.min(...rows.map((r) => r.assigned)) : 0;
    return {
      interval: params.interval,
      periods: list.map((p, i) => {
        const reps = [...counts[i].values()];
        return { start: p.start, end: p.end, reps, spread: spread(reps) };
      }),
      total: { reps: [...total.values()], spread: spread([...total.values()]) },
    };
  },
} satisfies ReportDefinition;
