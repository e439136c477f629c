import type { Command } from '../common/decider';
import type { GoalKpi, GoalSegment } from './events';

export type SetGoal = Command<'SetGoal', { goalId: string; kpi: GoalKpi; target: number; deadline: string; segment?: GoalSegment; name?: string }>;

export type GoalCommand = SetGoal;
