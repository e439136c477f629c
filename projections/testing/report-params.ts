import fc from 'fast-check';
import { Intervals } from '../common/periods';
import type { ReportParams } from '../common/report';

const DAY = 86_400_000;

/** Report parameters as the API would resolve them, with test-friendly defaults. */
export function reportParams(params: Partial<ReportParams> = {}): ReportParams {
  return {
    from: '2024-01-01T00:00:00.000Z',
    to: '2025-01-01T00:00:00.000Z',
    interval: 'month',
    asOf: new Date().toISOString(),
    limit: 10,
    ...params,
  };
}

/**
 * Random windows over the span of `historyArbitrary()` (which starts on 2024-01-01): sometimes
 * midnight-aligned, sometimes at arbitrary instants, every interval, and the given groupBy values.
 */
export const reportParamsArbitrary = (groupBy: readonly (string | undefined)[] = [undefined]): fc.Arbitrary<ReportParams> =>
  fc
    .record({
      start: fc.integer({ min: -20, max: 500 }),
      length: fc.integer({ min: 1, max: 400 }),
      fromMs: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: DAY - 1 })),
      toMs: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: DAY - 1 })),
      interval: fc.constantFrom(...Intervals),
      groupBy: fc.constantFrom(...groupBy),
    })
    .map(({ start, length, fromMs, toMs, interval, groupBy: g }) => {
      const from = Date.parse('2024-01-01T00:00:00.000Z') + start * DAY + fromMs;
      const to = from - fromMs + length * DAY + toMs;
      return reportParams({
        from: new Date(from).toISOString(),
        to: new Date(Math.max(to, from + 1)).toISOString(),
        interval,
        ...(g ? { groupBy: g } : {}),
      });
    });
