import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsISO8601, IsObject, IsOptional, IsString, MaxLength, ValidateNested } from 'class-validator';
import { ReportQuery } from '../reports/report-params';

export class CreateReportRunDto {
  @ApiProperty({ example: 'churn', description: 'A report of GET /reports' })
  @IsString()
  @MaxLength(100)
  report!: string;

  @ApiPropertyOptional({ type: ReportQuery, description: "The report's parameters, as GET /reports/<name> takes them" })
  @IsOptional()
  @IsObject()
  @ValidateNested()
  @Type(() => ReportQuery)
  params?: ReportQuery;

  @ApiPropertyOptional({
    example: '2026-10-01T00:00:00Z',
    description: 'Only the events recorded up to this instant count (default now); not in the future',
  })
  @IsOptional()
  @IsISO8601({ strict: true })
  knownAt?: string;
}
