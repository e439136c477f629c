import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsIn, IsISO8601, IsNotEmpty, IsNumber, IsOptional, IsString, Max, MaxLength, Min, ValidateNested } from 'class-validator';
import { GoalKpi, GoalKpis } from '@chronicle/domain';
import { CommandDto, CreateCommandDto, IsSlug, NAME_MAX, TEXT_MAX } from '../http/dto';

export class GoalSegmentDto {
  @ApiPropertyOptional({ description: 'An owner (salesCycleDays, newRevenue, winRate)' })
  @IsOptional()
  @IsString()
  @IsNotEmpty()
  @MaxLength(NAME_MAX)
  owner?: string;
  @ApiPropertyOptional({ description: 'An acquisition channel (churnRate, cac)' }) @IsOptional() @IsSlug() @MaxLength(64) channel?: string;
  @ApiPropertyOptional({ description: 'A lead or deal source (conversionRate, salesCycleDays)' })
  @IsOptional()
  @IsSlug()
  @MaxLength(64)
  source?: string;
}

export class SetGoalDto extends CreateCommandDto {
  @ApiProperty({ enum: GoalKpis }) @IsIn(GoalKpis) kpi!: GoalKpi;
  @ApiProperty({ description: 'Target value of the KPI at the deadline (rates 0–1, money, days)', example: 0.3 })
  @IsNumber({ allowNaN: false, allowInfinity: false })
  @Min(0)
  @Max(1e15)
  target!: number;
  @ApiProperty({
    description: 'ISO 8601; after the time the goal is set, and at most 3653 days (10 years) after it',
    example: '2025-03-31T00:00:00Z',
  })
  @IsISO8601({ strict: true })
  deadline!: string;
  @ApiPropertyOptional({ type: GoalSegmentDto }) @IsOptional() @ValidateNested() @Type(() => GoalSegmentDto) segment?: GoalSegmentDto;
  @ApiPropertyOptional({ example: 'Win rate to 30 % this quarter' })
  @IsOptional()
  @IsString()
  @IsNotEmpty()
  @MaxLength(NAME_MAX)
  name?: string;
}

export class CancelGoalDto extends CommandDto {
  @ApiPropertyOptional({ example: 'Territories redrawn' }) @IsOptional() @IsString() @IsNotEmpty() @MaxLength(TEXT_MAX) reason?: string;
}

export class GoalQueryDto {
  @ApiPropertyOptional({ description: 'Instant the progress is computed at; default now' })
  @IsOptional()
  @IsISO8601({ strict: true })
  asOf?: string;
}
