import {
  BadRequestException,
  Body,
  ConflictException,
  Controller,
  Get,
  HttpCode,
  Inject,
  Param,
  Post,
  Query,
  Req,
  Res,
} from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiProduces, ApiQuery, ApiTags } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ReportDefinition, ReportParamError } from '@chronicle/projections';
import { RequiresAccess, RequiresEveryRecord } from '../auth/access';
import { Actor } from '../http/command-context.decorator';
import { csvBody, prefersCsv, ReportCsvTable, reportCsvTable } from '../http/csv';
import { REPORTS } from '../reports/run-report.query';
import { CreateReportRunDto } from './report-run.dto';
import { ReportRuns } from './report-runs';

const LIST_LIMIT = 100;

/**
 * Reproducible report runs (docs/reports.md, "Report runs"): POST one, follow its progress, read
 * its immutable result as JSON or CSV.
 */
@ApiTags('reports')
// Runs hold everyone's figures (kept once for all who read reports): not for a rep.
@RequiresEveryRecord()
@ApiBearerAuth()
@Controller('report-runs')
export class ReportRunsController {
  constructor(
    private readonly runs: ReportRuns,
    @Inject(REPORTS) private readonly reports: ReportDefinition[],
  ) {}

  @Post()
  @HttpCode(202)
  @RequiresAccess('report')
  @ApiOkResponse({ description: 'The run, queued: follow it at GET /report-runs/:id' })
  create(@Body() dto: CreateReportRunDto, @Actor() actor: string) {
    return this.runs.create(dto, actor);
  }

  @Get()
  @RequiresAccess('report')
  @ApiOkResponse({ description: 'The newest runs first (at most 100), without their results' })
  async list() {
    return { items: await this.runs.list(LIST_LIMIT) };
  }

  @Get(':id')
  @RequiresAccess('report')
  @ApiProduces('application/json', 'text/csv')
  @ApiQuery({ name: 'format', required: false, enum: ['json', 'csv'], description: 'csv: one of the result tables (a run that is done)' })
  @ApiQuery({ name: 'table', required: false, description: "With CSV: which of the report's tables; default the first" })
  async get(
    @Param('id') id: string,
    @Query('format') format: string | undefined,
    @Query('table') table: string | undefined,
    @Req() request: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    if (format !== undefined && format !== 'csv' && format !== 'json') throw new BadRequestException('format: must be csv or json');
    const run = await this.runs.get(id);
    reply.header('vary', 'Accept');
    if (!(format === 'csv' || (format === undefined && prefersCsv(request.headers.accept)))) return run;
    if (run.status !== 'done') throw new ConflictException(`report run ${id} is ${run.status}: its CSV comes once it is done`);
    const report = this.reports.find((r) => r.name === run.report)!;
    let csv: ReportCsvTable;
    try {
      csv = reportCsvTable(report, table);
    } catch (error) {
      if (error instanceof ReportParamError) throw new BadRequestException(error.message);
      throw error;
    }
    return csvBody(reply, `${run.report}-${csv.name}-${id}`, csv.rows(run.result));
  }
}
