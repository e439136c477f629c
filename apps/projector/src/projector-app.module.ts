import { DynamicModule, Logger, Module } from '@nestjs/common';
import { CommandsModule } from '@chronicle/commands';
import { ProjectorModule } from '@chronicle/projector';
import { WebhooksModule } from '@chronicle/webhooks';
import { servedReports } from '@chronicle/projections';
import { ChronicleConfig, InfrastructureModule } from '@chronicle/infrastructure';

/** The projector process: projections, process managers and webhook delivery over the event store's feed, no HTTP. */
@Module({})
export class ProjectorAppModule {
  static forRoot(config: ChronicleConfig): DynamicModule {
    // The built-in projections and those of REPORTS_DIR's files; a file that fails is said and left out.
    const { projections, failures } = servedReports(config.reportsDir);
    for (const failure of failures) new Logger('ReportFiles').error(`${failure.message} (left out)`);
    return {
      module: ProjectorAppModule,
      imports: [
        InfrastructureModule.forRoot(config),
        CommandsModule.forRoot({ processManagers: true }),
        ProjectorModule.forRoot({ projections, run: true }),
        WebhooksModule.forRoot(config, { deliver: true }),
      ],
    };
  }
}
