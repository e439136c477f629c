import { AggregateAlreadyExists, AggregateNotFound, BusinessRuleViolation, InvalidInput } from '../common/errors';
import { DeciderSpecification } from '../testing/decider-specification';
import { goalDecider } from './decider';
import type { GoalCancelled, GoalSet } from './events';
import { goalProgress } from './progress';

const spec = DeciderSpecification.for(goalDecider);
const setAt = '2024-01-01T00:00:00.000Z';
const set: GoalSet = {
  type: 'GoalSet',
  data: { goalId: 'g1', kpi: 'winRate', target: 0.5, deadline: '2024-04-01T00:00:00.000Z' },
  occurredAt: setAt,
};
const DAY = 86_400_000;

describe('goal decider', () => {
  it('sets a goal once', () => {
    spec
      .given([])
      .when({ type: 'SetGoal', data: { goalId: 'g1', kpi: 'winRate', target: 0.5, deadline: '2024-04-01' }, occurredAt: setAt })
      .then([set]);
    spec.given([set]).when({ type: 'SetGoal', data: set.data, occurredAt: setAt }).thenThrows(AggregateAlreadyExists);
  });
  it('rejects a deadline in the past, a bad target and a segment the KPI cannot have', () => {
    spec
      .given([])
      .when({ type: 'SetGoal', data: { ...set.data, deadline: '2023-12-31T00:00:00Z' }, occurredAt: setAt })
      .thenThrows(InvalidInput, (e) => e.field === 'deadline');
    spec
      .given([])
      .when({ type: 'SetGoal', data: { ...set.data, target: -1 }, occurredAt: setAt })
      .thenThrows(InvalidInput, (e) => e.field === 'target');
    spec
      .given([])
      .when({ type: 'SetGoal', data: { ...set.data, segment: { channel: 'web' } }, occurredAt: setAt })
      .thenThrows(InvalidInput, (e) => e.field === 'segment.channel');
  });
  it('accepts a deadline up to 3653 days (10 years) after it is set, and no later', () => {
    const last = '2034-01-01T00:00:00.000Z'; // 2024-01-01 + 3653 days (three leap years)
    spec
      .given([])
      .when({ type: 'SetGoal', data: { ...set.data, deadline: last }, occurredAt: setAt })
      .then([{ ...set, data: { ...set.data, deadline: last } }]);
    spec
      .given([])
      .when({ type: 'SetGoal', data: { ...set.data, deadline: '2034-01-01T00:00:00.001Z' }, occurredAt: setAt })
      .thenThrows(InvalidInput, (e) => e.field === 'deadline' && e.message.includes('3653 days'));
    spec
      .given([])
      .when({ type: 'SetGoal', data: { ...set.data, deadline: '2041-06-30T00:00:00Z' }, occurredAt: setAt })
      .thenThrows(InvalidInput, (e) => e.field === 'deadline');
  });
  it('cancels a goal before its deadline, once; a finished goal stays as it ended', () => {
    const cancelled: GoalCancelled = {
      type: 'GoalCancelled',
      data: { goalId: 'g1', reason: 'reorganised' },
      occurredAt: '2024-02-01T00:00:00.000Z',
    };
    spec
      .given([set])
      .when({ type: 'CancelGoal', data: { goalId: 'g1', reason: 'reorganised' }, occurredAt: cancelled.occurredAt })
      .then([cancelled]);
    spec
      .given([set])
      .when({ type: 'CancelGoal', data: { goalId: 'g1' }, occurredAt: cancelled.occurredAt })
      .then([{ type: 'GoalCancelled', data: { goalId: 'g1' }, occurredAt: cancelled.occurredAt }]);
    spec
      .given([set, cancelled])
      .when({ type: 'CancelGoal', data: { goalId: 'g1' }, occurredAt: '2024-02-02T00:00:00Z' })
      .thenThrows(BusinessRuleViolation, (e) => e.code === 'goal-cancelled');
    spec
      .given([set])
      .when({ type: 'CancelGoal', data: { goalId: 'g1' }, occurredAt: '2024-04-01T00:00:00Z' })
      .thenThrows(BusinessRuleViolation, (e) => e.code === 'goal-ended');
    spec
      .given([])
      .when({ type: 'CancelGoal', data: { goalId: 'g1' }, occurredAt: setAt })
      .thenThrows(AggregateNotFound);
  });
});

describe('goal progress', () => {
  const base = { setAt: 0, deadline: 100 * DAY, target: 0 };
  it('newRevenue extends the pace so far to the whole window', () => {
    expect(goalProgress({ ...base, kpi: 'newRevenue', target: 10_000, now: 25 * DAY, baseline: 3000, current: 3000 })).toEqual({
      projected: 12_000,
      status: 'on-track',
      elapsed: 0.25,
    });
    expect(goalProgress({ ...base, kpi: 'newRevenue', target: 20_000, now: 25 * DAY, baseline: 0, current: 3000 }).status).toBe(
      'off-track',
    );
  });
  it('a ratio follows the line from the baseline through the current value', () => {
    // winRate 0.4 → 0.45 in a quarter of the time: 0.4 + 0.05 × 4 = 0.6 at the deadline.
    expect(goalProgress({ ...base, kpi: 'winRate', target: 0.55, now: 25 * DAY, baseline: 0.4, current: 0.45 })).toEqual({
      projected: 0.6,
      status: 'on-track',
      elapsed: 0.25,
    });
    // churn: lower is better; 0.05 → 0.06 projects 0.09 > 0.04.
    expect(goalProgress({ ...base, kpi: 'churnRate', target: 0.04, now: 25 * DAY, baseline: 0.05, current: 0.06 })).toEqual({
      projected: 0.09,
      status: 'off-track',
      elapsed: 0.25,
    });
    expect(goalProgress({ ...base, kpi: 'cac', target: 100, now: 50 * DAY, baseline: null, current: 90 })).toEqual({
      projected: 90,
      status: 'on-track',
      elapsed: 0.5,
    });
  });
  it('a line falling below zero stops at 0 (no KPI is negative)', () => {
    expect(goalProgress({ ...base, kpi: 'churnRate', target: 0.02, now: 25 * DAY, baseline: 0.1, current: 0.05 })).toEqual({
      projected: 0,
      status: 'on-track',
      elapsed: 0.25,
    });
  });
  it('after the deadline the current value is final; no value is unknown', () => {
    expect(goalProgress({ ...base, kpi: 'salesCycleDays', target: 30, now: 120 * DAY, baseline: 40, current: 28 })).toEqual({
      projected: 28,
      status: 'achieved',
      elapsed: 1,
    });
    expect(goalProgress({ ...base, kpi: 'conversionRate', target: 0.3, now: 120 * DAY, baseline: 0.2, current: 0.25 }).status).toBe(
      'missed',
    );
    expect(goalProgress({ ...base, kpi: 'winRate', target: 0.5, now: 10 * DAY, baseline: 0.4, current: null })).toEqual({
      projected: null,
      status: 'unknown',
      elapsed: 0.1,
    });
  });
});
