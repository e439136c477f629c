import type { RecordedEvent } from '@chronicle/event-store';
import { periods } from '../common/periods';
import type { ReportParams } from '../common/report';
import type { ActivityFigures, ActivityReport } from './query';

interface Fact {
  ownerId: string;
  at: number;
  kind: keyof ActivityFigures;
}

/** The activity report folded straight from the raw events (test oracle). */
export function activityReference(events: RecordedEvent[], params: ReportParams): ActivityReport {
  const taskOwner = new Map<string, string>();
  const facts: Fact[] = [];
  for (const e of events) {
    const d = e.data as { taskId: string; ownerId: string };
    const at = Date.parse(e.occurredAt);
    if (e.type === 'InteractionLogged') facts.push({ ownerId: e.actor, at, kind: 'interactions' });
    if (e.type === 'TaskCreated') {
      taskOwner.set(d.taskId, d.ownerId);
      facts.push({ ownerId: d.ownerId, at, kind: 'tasksCreated' });
    }
    if (e.type === 'TaskReassigned') taskOwner.set(d.taskId, d.ownerId);
    if (e.type === 'TaskCompleted') facts.push({ ownerId: taskOwner.get(d.taskId)!, at, kind: 'tasksCompleted' });
  }
  const list = periods(params.from, params.to, 'week');
  const inRange = list.length ? facts.filter((f) => f.at >= list[0].startMs && f.at < list[list.length - 1].endMs) : [];
  const figures = (fs: Fact[]): ActivityFigures => ({
    interactions: fs.filter((f) => f.kind === 'interactions').length,
    tasksCreated: fs.filter((f) => f.kind === 'tasksCreated').length,
    tasksCompleted: fs.filter((f) => f.kind === 'tasksCompleted').length,
  });
  const owners = [...new Set(inRange.map((f) => f.ownerId))].sort();
  return {
    interval: 'week',
    periods: list.map((p) => {
      const week = inRange.filter((f) => f.at >= p.startMs && f.at < p.endMs);
      return {
        start: p.start,
        end: p.end,
        owners: owners.map((ownerId) => ({ ownerId, ...figures(week.filter((f) => f.ownerId === ownerId)) })),
        totals: figures(week),
      };
    }),
    owners: owners.map((ownerId) => ({ ownerId, ...figures(inRange.filter((f) => f.ownerId === ownerId)) })),
    totals: figures(inRange),
  };
}
