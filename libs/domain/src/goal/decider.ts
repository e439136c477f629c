import { streamIdOf } from '../common/streams';
import type { Decider } from '../common/decider';
import { AggregateAlreadyExists, AggregateNotFound, BusinessRuleViolation, InvalidInput } from '../common/errors';
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

/**
 * The longest goal: its deadline at most this many days after it is set (10 years). A goal's
 * figures are computed over daily periods of its window and of the baseline window before it;
 * this keeps both within what a report computes at once, and no business goal runs longer.
 */
export const GOAL_MAX_DAYS = 3653;
const DAY_MS = 86_400_000;

export interface GoalState {
  exists: boolean;
  goalId: string;
  kpi?: GoalKpi;
  target?: number;
  deadline?: string;
  segment?: GoalSegment;
  name?: string;
  setAt?: string;
  cancelledAt?: string;
}

export const initialGoalState = (): GoalState => ({ exists: false, goalId: '' });

/**
 * A goal is set once (SMART: a fixed KPI, target and deadline); a new target is a new goal. It can
 * be cancelled until its deadline; after it the result (achieved or missed) is final.
 */
export const goalDecider: Decider<GoalState, GoalCommand, GoalEvent> = {
  initialState: initialGoalState,
  decide(command, state) {
    const streamId = streamIdOf('goal', command.data.goalId);
    if (command.type === 'CancelGoal') {
      if (!state.exists) throw new AggregateNotFound(streamId);
      if (state.cancelledAt) throw new BusinessRuleViolation(`${streamId} was cancelled at ${state.cancelledAt}`, 'goal-cancelled');
      if (Date.parse(command.occurredAt) >= Date.parse(state.deadline!)) {
        throw new BusinessRuleViolation(`${streamId} ended at its deadline ${state.deadline}; its result is final`, 'goal-ended');
      }
      const data =
        command.data.reason === undefined ? { goalId: command.data.goalId } : { goalId: command.data.goalId, reason: command.data.reason };
      return [{ type: 'GoalCancelled', data, occurredAt: command.occurredAt }];
    }
    const d = command.data;
    if (state.exists) throw new AggregateAlreadyExists(streamId);
    if (!GoalKpis.includes(d.kpi)) throw new InvalidInput('kpi', `must be one of ${GoalKpis.join(', ')}`);
    if (!Number.isFinite(d.target) || d.target < 0) throw new InvalidInput('target', 'must be a finite number ≥ 0');
    const deadline = parseIsoDateTime(d.deadline);
    if (Number.isNaN(deadline)) throw new InvalidInput('deadline', 'must be an ISO 8601 date-time');
    const setAt = Date.parse(command.occurredAt);
    if (!(deadline > setAt)) throw new InvalidInput('deadline', 'must be after the time the goal is set');
    if (deadline - setAt > GOAL_MAX_DAYS * DAY_MS)
      throw new InvalidInput('deadline', `must be at most ${GOAL_MAX_DAYS} days (10 years) after the time the goal is set`);
    const keys = Object.keys(d.segment ?? {}) as (keyof GoalSegment)[];
    if (keys.length > 1) throw new InvalidInput('segment', 'names at most one of owner, channel, source');
    for (const key of keys) {
      if (!segmentKeysByKpi[d.kpi].includes(key))
        throw new InvalidInput(`segment.${key}`, `${d.kpi} can be segmented by ${segmentKeysByKpi[d.kpi].join(', ')} only`);
    }
    const data = JSON.parse(JSON.stringify({ ...d, deadline: new Date(deadline).toISOString() }));
    return [{ type: 'GoalSet', data, occurredAt: command.occurredAt }];
  },
  evolve(state, event) {
    if (event.type === 'GoalCancelled') return { ...state, cancelledAt: event.occurredAt };
    return { ...state, ...event.data, exists: true, setAt: event.occurredAt };
  },
};
