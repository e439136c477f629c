/**
 * Rounding in responses (docs/reports.md): money 2 decimals, rates 4, days 2. Half away from zero,
 * after correcting binary floating-point error (1.005 → 1.01). A zero denominator gives null.
 */
function round(value: number, decimals: number): number {
  const factor = 10 ** decimals;
  const scaled = Math.abs(value) * factor;
  const rounded = Math.round(Number(scaled.toPrecision(15))) / factor;
  // Never -0: a sum that cancels out to a tiny negative residue reads as 0.
  return value < 0 && rounded !== 0 ? -rounded : rounded;
}

export const money = (value: number): number => round(value, 2);
export const rate = (value: number | null): number | null => (value === null ? null : round(value, 4));
export const days = (value: number | null): number | null => (value === null ? null : round(value, 2));

export const ratio = (numerator: number, denominator: number): number | null => (denominator === 0 ? null : numerator / denominator);

export const DAY_MS = 86_400_000;

export function mean(values: number[]): number | null {
  return values.length === 0 ? null : values.reduce((a, b) => a + b, 0) / values.length;
}

/** Median; of an even count, the mean of the two middle values. */
export function median(values: number[]): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** Nearest-rank percentile: the ⌈p·n⌉-th smallest value (p in (0, 1]). */
export function nearestRank(values: number[], p: number): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil(Number((p * sorted.length).toPrecision(12))));
  return sorted[rank - 1];
}

/**
 * Durations given in milliseconds, in days: the mean from their exact integer sum, the median
 * (even count: mean of the two middle values) and the nearest-rank p90; null for none.
 */
export function durationDays(durationsMs: readonly number[]): {
  avgDays: number | null;
  medianDays: number | null;
  p90Days: number | null;
} {
  const inDays = durationsMs.map((ms) => ms / DAY_MS);
  const total = durationsMs.reduce((a, b) => a + b, 0);
  return {
    avgDays: durationsMs.length ? days(total / durationsMs.length / DAY_MS) : null,
    medianDays: days(median(inDays)),
    p90Days: days(nearestRank(inDays, 0.9)),
  };
}
