import { BadRequestException } from '@nestjs/common';
import { ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsIn, IsInt, IsISO8601, IsOptional, IsString, Max, MaxLength, Min } from 'class-validator';
import { parseIsoDateTime } from '@chronicle/domain';
import { Interval, Intervals, next, periods, ReportDefinition, ReportParams, truncate } from '@chronicle/projections';

export class ReportQuery {
  @ApiPropertyOptional({
    description: 'Start (inclusive, truncated to the start of its interval); default: 11 intervals before the one containing `to`',
  })
  @IsOptional()
  @IsISO8601({ strict: true })
  from?: string;

  @ApiPropertyOptional({ description: 'End (exclusive); default now' })
  @IsOptional()
  @IsISO8601({ strict: true })
  to?: string;

  @ApiPropertyOptional({ enum: Intervals, default: 'month' })
  @IsOptional()
  @IsIn(Intervals)
  interval?: Interval;

  @ApiPropertyOptional({ description: 'Report-specific grouping (see the report)' })
  @IsOptional()
  @IsString()
  @MaxLength(32)
  groupBy?: string;

  @ApiPropertyOptional({ description: 'Instant the report is computed at (pipeline, forecast); default now' })
  @IsOptional()
  @IsISO8601({ strict: true })
  asOf?: string;

  @ApiPropertyOptional({ description: 'Top N (customer value)', default: 10 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(1000)
  limit?: number;
}

export const MAX_PERIODS = 1000;

function instant(field: string, value: string): number {
  const ms = parseIsoDateTime(value);
  if (Number.isNaN(ms)) throw new BadRequestException(`${field}: must be a valid ISO 8601 date or date-time`);
  return ms;
}

/** Applies the documented defaults and checks the combination (from < to, bounded period count, groupBy allowed). */
export function resolveReportParams(report: ReportDefinition, query: ReportQuery, now = new Date()): ReportParams {
  const interval = query.interval ?? 'month';
  const toMs = query.to !== undefined ? instant('to', query.to) : now.getTime();
  let fromMs: number;
  if (query.from !== undefined) fromMs = instant('from', query.from);
  else {
    fromMs = truncate(toMs, interval);
    for (let i = 0; i < 11; i++) fromMs = truncate(fromMs - 1, interval);
  }
  if (!(fromMs < toMs)) throw new BadRequestException('from: must be before to');
  if (next(truncate(fromMs, interval), interval) <= fromMs) throw new BadRequestException('interval: invalid');
  try {
    periods(fromMs, toMs, interval, MAX_PERIODS);
  } catch {
    throw new BadRequestException(`from/to: at most ${MAX_PERIODS} ${interval} periods per report; use a longer interval`);
  }
  if (query.groupBy !== undefined && !(report.groupBy ?? []).includes(query.groupBy)) {
    const allowed = report.groupBy?.length ? `one of ${report.groupBy.join(', ')}` : 'not supported by this report';
    throw new BadRequestException(`groupBy: "${query.groupBy}" is ${allowed}`);
  }
  return {
    from: new Date(fromMs).toISOString(),
    to: new Date(toMs).toISOString(),
    interval,
    asOf: new Date(query.asOf !== undefined ? instant('asOf', query.asOf) : now.getTime()).toISOString(),
    groupBy: query.groupBy,
    limit: query.limit ?? 10,
  };
}
