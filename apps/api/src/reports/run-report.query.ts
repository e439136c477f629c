import { Inject, NotFoundException } from '@nestjs/common';
import { IQueryHandler, Query, QueryHandler } from '@nestjs/cqrs';
import type { Pipeline } from '@chronicle/domain';
import { ReadModels } from '@chronicle/projector';
import { ReportDefinition } from '@chronicle/projections';
import { ChronicleConfig, CONFIG, PIPELINE } from '@chronicle/infrastructure';
import { ReportQuery, resolveReportParams } from './report-params';

export const REPORTS = Symbol('Reports');
/** The REPORTS_DIR files that did not load (ReportFileError), listed by GET /reports. */
export const REPORT_FILE_FAILURES = Symbol('ReportFileFailures');

export class RunReport extends Query<unknown> {
  constructor(
    readonly name: string,
    readonly query: ReportQuery,
    /** A caller limited to its own records (a rep): only its own figures, from the reports that scope by owner. */
    readonly owner?: string,
  ) {
    super();
  }
}

@QueryHandler(RunReport)
export class RunReportHandler implements IQueryHandler<RunReport> {
  private readonly byName: Map<string, ReportDefinition>;

  constructor(
    @Inject(REPORTS) reports: ReportDefinition[],
    private readonly readModels: ReadModels,
    @Inject(PIPELINE) private readonly pipeline: Pipeline,
    @Inject(CONFIG) private readonly config: ChronicleConfig,
  ) {
    this.byName = new Map(reports.map((r) => [r.name, r]));
  }

  async execute({ name, query, owner }: RunReport): Promise<unknown> {
    const report = this.byName.get(name);
    if (!report) throw new NotFoundException(`no report "${name}"; reports: ${[...this.byName.keys()].sort().join(', ')}`);
    return report.run(
      { ...resolveReportParams(report, query), owner },
      {
        readModels: this.readModels,
        pipeline: this.pipeline,
        scoring: this.config.scoring,
      },
    );
  }
}
