import { Controller, Get, Inject, Param, Query } from '@nestjs/common';
import { QueryBus } from '@nestjs/cqrs';
import { ApiBearerAuth, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import type { ReportDefinition } from '@chronicle/projections';
import { RequiresAccess } from '../auth/access';
import { PersonalData } from '../auth/personal-data';
import { AnswersCsv } from '../http/csv';
import { ReportQuery } from './report-params';
import { REPORTS, RunReport } from './run-report.query';

@ApiTags('reports')
@ApiBearerAuth()
@Controller('reports')
export class ReportsController {
  constructor(
    private readonly queryBus: QueryBus,
    @Inject(REPORTS) private readonly reports: ReportDefinition[],
  ) {}

  @Get()
  @AnswersCsv({ list: 'reports', file: 'reports' })
  @RequiresAccess('report')
  @ApiOkResponse({ description: 'The reports this deployment serves' })
  list() {
    return {
      reports: this.reports.map((r) => ({
        name: r.name,
        description: r.description,
        groupBy: r.groupBy ?? [],
        tables: Object.keys(r.tables),
      })),
    };
  }

  /** Every report; see docs/reports.md for each definition and response shape. */
  @Get(':name')
  @AnswersCsv('report')
  @RequiresAccess('report')
  @PersonalData('report')
  run(@Param('name') name: string, @Query() query: ReportQuery) {
    return this.queryBus.execute(new RunReport(name, query));
  }
}
