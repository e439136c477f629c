import { DynamicModule, Module } from '@nestjs/common';
import { CommandsModule } from '@chronicle/commands';
import { ProjectorModule } from '@chronicle/projector';
import { WebhooksModule } from '@chronicle/webhooks';
import { projections } from '@chronicle/projections';
import { ChronicleConfig, InfrastructureModule } from '@chronicle/infrastructure';

/** The projector process: projections, process managers and webhook delivery over the event store's feed, no HTTP. */
@Module({})
export class ProjectorAppModule {
  static forRoot(config: ChronicleConfig): DynamicModule {
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
