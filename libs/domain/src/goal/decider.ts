import type { Decider } from '../common/decider';
import { AggregateAlreadyExists, InvalidInput } from '../common/errors';
import { parseIsoDateTime } from '../common/time';
import type { GoalCommand } from './commands';
import { GoalEvent, GoalKpi, GoalKpis, GoalSegment } from './events';

/** Which segment keys each KPI's report can group by. */
export const segmentKeysByKpi: Record<GoalKpi, readonly (keyof GoalSegment)[]> = {
  churnRate: ['channel'],
  cac: ['channel'],
  salesCycleDays: ['owner', 'source'],
  newRevenue: ['owner'],
  conversionRate: ['source'],
  winRate: ['owner'],
};

export interface GoalState {
  exists: boolean;
  goalId: string;
  kpi?: GoalKpi;
  target?: number;
  deadline?: string;
  segment?: GoalSegment;
  name?: string;
  setAt?: string;
}

export const initialGoalState = (): GoalState => ({ exists: false, goalId: '' });

/** A goal is set once (SMART: a fixed KPI, target and deadline); a new target is a new goal. */
export const goalDecider: Decider<GoalState, GoalCommand, GoalEvent> = {
  initialState: initialGoalState,
  decide(command, state) {
    const d = command.data;
    if (state.exists) throw new AggregateAlreadyExists(`goal-${d.goalId}`);
    if (!GoalKpis.includes(d.kpi)) throw new InvalidInput('kpi', `must be one of ${GoalKpis.join(', ')}`);
    if (!Number.isFinite(d.target) || d.target < 0) throw new InvalidInput('target', 'must be a finite number ≥ 0');
    const deadline = parseIsoDateTime(d.deadline);
    if (Number.isNaN(deadline)) throw new InvalidInput('deadline', 'must be an ISO 8601 date-time');
    if (!(deadline > Date.parse(command.occurredAt))) throw new InvalidInput('deadline', 'must be after the time the goal is set');
    const keys = Object.keys(d.segment ?? {}) as (keyof GoalSegment)[];
    if (keys.length > 1) throw new InvalidInput('segment', 'names at most one of owner, channel, source');
    for (const key of keys) {
      if (!segmentKeysByKpi[d.kpi].includes(key)) throw new InvalidInput(`segment.${key}`, `${d.kpi} can be segmented by ${segmentKeysByKpi[d.kpi].join(', ')} only`);
    }
    const data = JSON.parse(JSON.stringify({ ...d, deadline: new Date(deadline).toISOString() }));
    return [{ type: 'GoalSet', data, occurredAt: command.occurredAt }];
  },
  evolve(state, event) {
    if (event.type !== 'GoalSet') return state;
    return { ...state, ...event.data, exists: true, setAt: event.occurredAt };
  },
};
