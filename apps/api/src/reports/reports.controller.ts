import { Controller, ForbiddenException, Get, Inject, Param, Query, Req } from '@nestjs/common';
import { QueryBus } from '@nestjs/cqrs';
import { ApiBearerAuth, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import type { ReportDefinition, ReportFileError } from '@chronicle/projections';
import type { AuthenticatedRequest } from '../auth/api-key.guard';
import { RequiresAccess } from '../auth/access';
import { ownerScopeOf } from '../auth/ownership';
import { PersonalData } from '../auth/personal-data';
import { AnswersCsv } from '../http/csv';
import { ReportQuery } from './report-params';
import { REPORT_FILE_FAILURES, REPORTS, RunReport } from './run-report.query';

@ApiTags('reports')
@ApiBearerAuth()
@Controller('reports')
export class ReportsController {
  constructor(
    private readonly queryBus: QueryBus,
    @Inject(REPORTS) private readonly reports: ReportDefinition[],
    @Inject(REPORT_FILE_FAILURES) private readonly failures: ReportFileError[],
  ) {}

  @Get()
  @AnswersCsv({ list: 'reports', file: 'reports' })
  @RequiresAccess('report')
  @ApiOkResponse({ description: 'The reports this deployment serves' })
  list(@Req() request: AuthenticatedRequest) {
    // A caller limited to its own records sees the reports that give it its own figures.
    const scoped = ownerScopeOf(request.principal) !== undefined;
    return {
      reports: this.reports
        .filter((r) => !scoped || r.ownerScoped)
        .map((r) => ({
          name: r.name,
          description: r.description,
          groupBy: r.groupBy ?? [],
          tables: Object.keys(r.tables),
          ownerScoped: r.ownerScoped === true,
        })),
      // REPORTS_DIR files left out: which, where, why (server paths: not for a rep).
      failed: scoped ? [] : this.failures.map((f) => ({ file: f.file, line: f.line ?? null, error: f.reason })),
    };
  }

  /** Every report; see docs/reports.md for each definition and response shape. */
  @Get(':name')
  @AnswersCsv('report')
  @RequiresAccess('report')
  @PersonalData('report')
  run(@Param('name') name: string, @Query() query: ReportQuery, @Req() request: AuthenticatedRequest) {
    const owner = ownerScopeOf(request.principal);
    const report = this.reports.find((r) => r.name === name);
    if (owner !== undefined && report && !report.ownerScoped) {
      const own = this.reports.filter((r) => r.ownerScoped).map((r) => r.name);
      throw new ForbiddenException(
        `role "${request.principal!.role}" sees only its own figures; report "${name}" covers everyone's records (its own are in: ${own.sort().join(', ')})`,
      );
    }
    return this.queryBus.execute(new RunReport(name, query, owner));
  }
}
