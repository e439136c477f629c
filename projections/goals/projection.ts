import type { GoalCancelled, GoalSet } from '@chronicle/domain';
import type { RecordedEvent } from '@chronicle/event-store';
import type { Projection, ProjectionContext } from '@chronicle/projector';

/** Every goal as set (one document each); its progress is computed at query time from the reports. */
export const GOALS_PROJECTION = 'goals';

export type GoalDocument = GoalSet['data'] & {
  _id: string;
  setAt: string;
  setBy: string;
  /** Set by GoalCancelled. */
  cancelled?: { at: string; by: string; reason: string | null };
  [key: string]: unknown;
};

export const goalsProjection: Projection = {
  name: GOALS_PROJECTION,
  version: 1,
  collections: ['goals'],
  eventTypes: ['GoalSet', 'GoalCancelled'],
  async apply(event: RecordedEvent, ctx: ProjectionContext) {
    if (event.type === 'GoalCancelled') {
      const d = (event as RecordedEvent<GoalCancelled['data']>).data;
      const goal = await ctx.get<GoalDocument>('goals', d.goalId);
      if (goal) ctx.put<GoalDocument>('goals', { ...goal, cancelled: { at: event.occurredAt, by: event.actor, reason: d.reason ?? null } });
      return;
    }
    const d = (event as RecordedEvent<GoalSet['data']>).data;
    ctx.put<GoalDocument>('goals', { ...d, _id: d.goalId, setAt: event.occurredAt, setBy: event.actor });
  },
};
