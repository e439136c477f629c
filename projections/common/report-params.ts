import { parseIsoDateTime } from '@chronicle/domain';
import { Interval, Intervals, next, periods, truncate } from './periods';
import type { ReportDefinition, ReportParams } from './report';

/** A report's parameters as a caller gives them (query string, command line); all optional. */
export interface ReportRequest {
  from?: string;
  to?: string;
  interval?: string;
  groupBy?: string;
  asOf?: string;
  limit?: number;
}

/** A parameter, or a combination of them, that no report can answer; the message names the parameter. */
export class ReportParamError extends Error {}

export const MAX_PERIODS = 1000;
export const MAX_REPORT_LIMIT = 1000;

function instant(field: string, value: string): number {
  const ms = parseIsoDateTime(value);
  if (Number.isNaN(ms)) throw new ReportParamError(`${field}: must be a valid ISO 8601 date or date-time`);
  return ms;
}

/**
 * Applies the documented defaults and checks the combination (from < to, bounded period count,
 * groupBy allowed): one rule for the API and the command line.
 */
export function resolveReportParams(report: ReportDefinition, request: ReportRequest, now = new Date()): ReportParams {
  const interval = (request.interval ?? 'month') as Interval;
  if (!Intervals.includes(interval)) throw new ReportParamError(`interval: must be one of ${Intervals.join(', ')}`);
  const limit = request.limit ?? 10;
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_REPORT_LIMIT)
    throw new ReportParamError(`limit: must be an integer from 1 to ${MAX_REPORT_LIMIT}`);
  const toMs = request.to !== undefined ? instant('to', request.to) : now.getTime();
  let fromMs: number;
  if (request.from !== undefined) fromMs = instant('from', request.from);
  else {
    fromMs = truncate(toMs, interval);
    for (let i = 0; i < 11; i++) fromMs = truncate(fromMs - 1, interval);
  }
  if (!(fromMs < toMs)) throw new ReportParamError('from: must be before to');
  if (next(truncate(fromMs, interval), interval) <= fromMs) throw new ReportParamError('interval: invalid');
  try {
    periods(fromMs, toMs, interval, MAX_PERIODS);
  } catch {
    throw new ReportParamError(`from/to: at most ${MAX_PERIODS} ${interval} periods per report; use a longer interval`);
  }
  if (request.groupBy !== undefined && !(report.groupBy ?? []).includes(request.groupBy)) {
    const allowed = report.groupBy?.length ? `one of ${report.groupBy.join(', ')}` : 'not supported by this report';
    throw new ReportParamError(`groupBy: "${request.groupBy}" is ${allowed}`);
  }
  return {
    from: new Date(fromMs).toISOString(),
    to: new Date(toMs).toISOString(),
    interval,
    asOf: new Date(request.asOf !== undefined ? instant('asOf', request.asOf) : now.getTime()).toISOString(),
    groupBy: request.groupBy,
    limit,
  };
}

/** The table a caller asked for by name, or the report's default (its first); the error lists the names. */
export function reportTable(report: ReportDefinition, name: string | undefined): string {
  const names = Object.keys(report.tables);
  if (name === undefined) return names[0];
  if (!names.includes(name)) throw new ReportParamError(`table: "${name}" is not a table of ${report.name}; tables: ${names.join(', ')}`);
  return name;
}
