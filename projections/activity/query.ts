import { daysWithin } from '../common/buckets';
import { periodIndex, periods } from '../common/periods';
import type { ReportDefinition } from '../common/report';
import { OWNER_ACTIVITY_PROJECTION, readOwnerActivity } from '../owner-activity/projection';
import { tableRow } from '../common/table';

export interface ActivityFigures {
  interactions: number;
  tasksCreated: number;
  tasksCompleted: number;
}
export type OwnerActivity = { ownerId: string } & ActivityFigures;
export interface ActivityPeriod {
  start: string;
  end: string;
  /** Every owner of the report, zeros included, by ownerId. */
  owners: OwnerActivity[];
  totals: ActivityFigures;
}
export interface ActivityReport {
  interval: 'week';
  periods: ActivityPeriod[];
  /** Per owner over all the weeks: owners with an interaction or a task created or completed in them. */
  owners: OwnerActivity[];
  totals: ActivityFigures;
}

const zero = (): ActivityFigures => ({ interactions: 0, tasksCreated: 0, tasksCompleted: 0 });
const add = (into: ActivityFigures, from: ActivityFigures) => {
  into.interactions += from.interactions;
  into.tasksCreated += from.tasksCreated;
  into.tasksCompleted += from.tasksCompleted;
};
const entry = (map: Map<string, ActivityFigures>, ownerId: string): ActivityFigures => {
  let f = map.get(ownerId);
  if (!f) map.set(ownerId, (f = zero()));
  return f;
};

/**
 * Interactions (by the user who logged them) and tasks created and completed (by the task's
 * owner) per owner per ISO week (Monday, UTC). Always weekly: `interval` does not apply.
 */
export const activityReport = {
  name: 'activity',
  description: 'Per owner per ISO week: interactions logged, tasks created, tasks completed',
  projections: [OWNER_ACTIVITY_PROJECTION],
  ownerScoped: true,
  tables: {
    owners: (r: ActivityReport) => r.periods.flatMap((p) => p.owners.map((o) => tableRow({ start: p.start, end: p.end }, o))),
    weeks: (r: ActivityReport) => r.periods.map((p) => tableRow({ start: p.start, end: p.end }, p.totals)),
    ownerTotals: (r: ActivityReport) => r.owners.map((o) => tableRow(o)),
    totals: (r: ActivityReport) => [tableRow(r.totals)],
  },
  async run(params, { readModels }): Promise<ActivityReport> {
    const list = periods(params.from, params.to, 'week');
    const cells = list.map(() => new Map<string, ActivityFigures>());
    const byOwner = new Map<string, ActivityFigures>();
    if (list.length > 0) {
      const [startMs, endMs] = [list[0].startMs, list[list.length - 1].endMs];
      for (const doc of await readOwnerActivity(readModels, startMs, endMs)) {
        if (params.owner !== undefined && doc.ownerId !== params.owner) continue;
        for (const [dayMs, day] of daysWithin(doc, startMs, endMs)) {
          let interactions = 0;
          for (const n of day.interactions ?? []) interactions += n;
          for (const type in day.otherInteractions) interactions += day.otherInteractions[type];
          const figures = { interactions, tasksCreated: day.tasksCreated ?? 0, tasksCompleted: day.tasksCompleted ?? 0 };
          if (interactions + figures.tasksCreated + figures.tasksCompleted === 0) continue; // deals only
          const i = periodIndex(list, dayMs);
          add(entry(cells[i], doc.ownerId), figures);
          add(entry(byOwner, doc.ownerId), figures);
        }
      }
    }
    const owners = [...byOwner.keys()].sort();
    const totals = zero();
    for (const f of byOwner.values()) add(totals, f);
    return {
      interval: 'week',
      periods: list.map((p, i) => {
        const weekTotals = zero();
        const rows = owners.map((ownerId) => {
          const f = cells[i].get(ownerId) ?? zero();
          add(weekTotals, f);
          return { ownerId, ...f };
        });
        return { start: p.start, end: p.end, owners: rows, totals: weekTotals };
      }),
      owners: owners.map((ownerId) => ({ ownerId, ...byOwner.get(ownerId)! })),
      totals,
    };
  },
} satisfies ReportDefinition;
