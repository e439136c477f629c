import type { GoalSet } from '@chronicle/domain';
import type { RecordedEvent } from '@chronicle/event-store';
import type { Projection, ProjectionContext } from '@chronicle/projector';

/** Every goal as set (one document each); its progress is computed at query time from the reports. */
export const GOALS_PROJECTION = 'goals';

export type GoalDocument = GoalSet['data'] & {
  _id: string;
  setAt: string;
  setBy: string;
  [key: string]: unknown;
};

export const goalsProjection: Projection = {
  name: GOALS_PROJECTION,
  version: 1,
  collections: ['goals'],
  eventTypes: ['GoalSet'],
  async apply(event: RecordedEvent, ctx: ProjectionContext) {
    const d = (event as RecordedEvent<GoalSet['data']>).data;
    ctx.put<GoalDocument>('goals', { ...d, _id: d.goalId, setAt: event.occurredAt, setBy: event.actor });
  },
};
