import type { GoalSet } from '@chronicle/domain';
import { defineProjection } from '../common/define-projection';

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

export const goalsProjection = defineProjection({
  name: GOALS_PROJECTION,
  version: 1,
  collections: ['goals'],
  on: {
    GoalSet(event, ctx) {
      const d = event.data;
      ctx.put<GoalDocument>('goals', { ...d, _id: d.goalId, setAt: event.occurredAt, setBy: event.actor });
    },
    async GoalCancelled(event, ctx) {
      const d = event.data;
      const goal = await ctx.get<GoalDocument>('goals', d.goalId);
      if (goal) ctx.put<GoalDocument>('goals', { ...goal, cancelled: { at: event.occurredAt, by: event.actor, reason: d.reason ?? null } });
    },
  },
});
