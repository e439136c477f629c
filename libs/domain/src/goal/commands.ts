import type { Command } from '../common/decider';
import type { GoalKpi, GoalSegment } from './events';

export type SetGoal = Command<
  'SetGoal',
  { goalId: string; kpi: GoalKpi; target: number; deadline: string; segment?: GoalSegment; name?: string }
>;

/** Withdraws a goal before its deadline (its result is final after it); the goal stays in the history. */
export type CancelGoal = Command<'CancelGoal', { goalId: string; reason?: string }>;

export type GoalCommand = SetGoal | CancelGoal;
