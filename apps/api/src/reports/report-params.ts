import { BadRequestException } from '@nestjs/common';
import { ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsIn, IsInt, IsISO8601, IsOptional, IsString, Max, MaxLength, Min } from 'class-validator';
import {
  Interval,
  Intervals,
  MAX_REPORT_LIMIT,
  ReportDefinition,
  ReportParamError,
  ReportParams,
  resolveReportParams as resolveParams,
} from '@chronicle/projections';

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
  @Max(MAX_REPORT_LIMIT)
  limit?: number;
}

/** The shared rule (projections/common/report-params.ts), its errors as 400s. */
export function resolveReportParams(report: ReportDefinition, query: ReportQuery, now = new Date()): ReportParams {
  try {
    return resolveParams(report, query, now);
  } catch (error) {
    if (error instanceof ReportParamError) throw new BadRequestException(error.message);
    throw error;
  }
}
