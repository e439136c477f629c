import { GoalKpi, LowerIsBetter } from './events';

export interface GoalMeasurement {
  kpi: GoalKpi;
  target: number;
  /** Epoch ms. */
  setAt: number;
  deadline: number;
  now: number;
  /** The KPI over the window of the same length just before setAt (null: undefined ratio). */
  baseline: number | null;
  /** The KPI over [setAt, min(now, deadline)). */
  current: number | null;
}

export interface GoalProgress {
  projected: number | null;
  status: 'on-track' | 'off-track' | 'achieved' | 'missed' | 'unknown';
  /** Share of the goal's time elapsed (0–1). */
  elapsed: number;
}

const round4 = (n: number): number => Math.round(n * 10_000) / 10_000;

/**
 * Linear projection at the deadline. newRevenue accumulates: what was earned so far, extended at
 * the same pace over the whole window. The ratios (churn rate, CAC, cycle, conversion, win rate)
 * are levels: the line through the baseline (at setAt) and the current value (now), read at the
 * deadline; without a baseline the current value is the best estimate. After the deadline the
 * current value is final and the goal is achieved or missed. Every KPI is ≥ 0, so is the projection.
 */
export function goalProgress(m: GoalMeasurement): GoalProgress {
  const span = m.deadline - m.setAt;
  const elapsedMs = Math.min(Math.max(m.now - m.setAt, 0), span);
  const elapsed = span > 0 ? elapsedMs / span : 1;
  const finished = m.now >= m.deadline;
  let projected: number | null;
  if (m.current === null) projected = null;
  else if (finished) projected = m.current;
  else if (elapsedMs === 0) projected = null;
  else if (m.kpi === 'newRevenue') projected = (m.current * span) / elapsedMs;
  else if (m.baseline === null) projected = m.current;
  else projected = m.baseline + ((m.current - m.baseline) * span) / elapsedMs;
  // Every KPI is ≥ 0: a falling line stops at zero.
  if (projected !== null) projected = Math.max(0, projected);
  if (projected !== null) projected = m.kpi === 'newRevenue' || m.kpi === 'cac' ? Math.round(projected * 100) / 100 : round4(projected);
  if (projected === null) return { projected, status: 'unknown', elapsed: round4(elapsed) };
  const meets = LowerIsBetter.includes(m.kpi) ? projected <= m.target : projected >= m.target;
  const status = finished ? (meets ? 'achieved' : 'missed') : meets ? 'on-track' : 'off-track';
  return { projected, status, elapsed: round4(elapsed) };
}
