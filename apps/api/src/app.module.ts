import { DynamicModule, Logger, Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { TerminusModule } from '@nestjs/terminus';
import { CommandsModule } from '@chronicle/commands';
import { RelayModule } from '@chronicle/messaging';
import { ProjectorModule } from '@chronicle/projector';
import { WebhooksModule } from '@chronicle/webhooks';
import { servedReports } from '@chronicle/projections';
import { ChronicleConfig, InfrastructureModule } from '@chronicle/infrastructure';
import { AsyncApiController } from './asyncapi/asyncapi.controller';
import { ApiKeyGuard } from './auth/api-key.guard';
import { ApiKeyRegistry } from './auth/api-keys';
import { CampaignsController } from './campaigns/campaigns.controller';
import { ClusterStatus } from './cluster/cluster-status';
import { CustomersController } from './customers/customers.controller';
import { DashboardModule } from './dashboard/dashboard.module';
import { DealsController } from './deals/deals.controller';
import { EventFeedController } from './events/event-feed.controller';
import { EventFeedStreams } from './events/event-feed.streams';
import { GoalsController } from './goals/goals.controller';
import { GoalProgressHandler } from './goals/goal.query';
import { HealthController } from './health/health.controller';
import { CommandSender } from './http/command-sender';
import { IdempotencyInterceptor } from './http/idempotency.interceptor';
import { LeadsController } from './leads/leads.controller';
import { MetricsController } from './metrics/metrics.controller';
import { MetricsRegistry } from './metrics/metrics.registry';
import { PersonalDataController } from './personal-data/personal-data.controller';
import { ProjectionsController } from './projections/projections.controller';
import { MinPositionInterceptor } from './read/min-position.interceptor';
import { RelayController } from './relay/relay.controller';
import { ReportRunsController } from './report-runs/report-runs.controller';
import { ReportRuns } from './report-runs/report-runs';
import { ReportsController } from './reports/reports.controller';
import { ImportsController } from './imports/imports.controller';
import { REPORT_FILE_FAILURES, REPORTS, RunReportHandler } from './reports/run-report.query';
import { ReadModelQueryHandler } from './read/read-queries';
import { AggregateViews } from './streams/aggregate-views';
import { StreamsController } from './streams/streams.controller';
import { TasksController } from './tasks/tasks.controller';
import { WebhooksController } from './webhooks/webhooks.controller';
import { ApiKeyThrottlerGuard, rateLimitModule } from './auth/rate-limit';
import { PersonalDataInterceptor } from './auth/personal-data';

export interface ApiOptions {
  /** Run the process managers in this process (the embedded default runs everything in one). */
  processManagers: boolean;
  /** Run the projector in this process (the embedded default does; with apps/projector it runs apart). */
  projector: boolean;
}

/** Thin wiring of the HTTP app: controllers, the global guard and interceptor, and the modules behind them. */
@Module({})
export class AppModule {
  static forRoot(config: ChronicleConfig, keys: ApiKeyRegistry, options: ApiOptions): DynamicModule {
    // The built-in projections and reports, and those of REPORTS_DIR's files; a file that fails is said and left out.
    const { projections, reports, failures } = servedReports(config.reportsDir);
    for (const failure of failures) new Logger('ReportFiles').error(`${failure.message} (left out)`);
    return {
      module: AppModule,
      imports: [
        InfrastructureModule.forRoot(config),
        CommandsModule.forRoot({ processManagers: options.processManagers }),
        ProjectorModule.forRoot({ projections, run: options.projector }),
        TerminusModule,
        rateLimitModule(config),
        DashboardModule,
        WebhooksModule.forRoot(config, { deliver: options.processManagers }),
        // The embedded default relays in-process when Kafka is configured; else apps/relay does.
        ...(config.kafkaBrokers.length > 0 && config.runProjector ? [RelayModule.forRoot(config)] : []),
      ],
      controllers: [
        CustomersController,
        LeadsController,
        DealsController,
        CampaignsController,
        TasksController,
        GoalsController,
        StreamsController,
        EventFeedController,
        WebhooksController,
        ReportsController,
        ImportsController,
        ReportRunsController,
        ProjectionsController,
        HealthController,
        MetricsController,
        RelayController,
        PersonalDataController,
        AsyncApiController,
      ],
      providers: [
        { provide: ApiKeyRegistry, useValue: keys },
        // The rate limit first (per API key: the key was checked before the body was read), so that
        // requests the role check refuses count as well; then the role check.
        { provide: APP_GUARD, useClass: ApiKeyThrottlerGuard },
        { provide: APP_GUARD, useClass: ApiKeyGuard },
        // Interceptors are given per route by RequiresAccess and PersonalData (see access.ts).
        IdempotencyInterceptor,
        MinPositionInterceptor,
        PersonalDataInterceptor,
        { provide: REPORTS, useValue: reports },
        { provide: REPORT_FILE_FAILURES, useValue: failures },
        RunReportHandler,
        ReportRuns,
        GoalProgressHandler,
        ReadModelQueryHandler,
        CommandSender,
        AggregateViews,
        MetricsRegistry,
        ClusterStatus,
        EventFeedStreams,
      ],
    };
  }
}
