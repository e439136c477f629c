import { DynamicModule, Inject, Logger, Module, OnModuleDestroy, OnModuleInit, Optional } from '@nestjs/common';
import type { RoleCoordinator } from '@chronicle/cluster';
import type { EventStore } from '@chronicle/event-store';
import type { ReadStore } from '@chronicle/read-store';
import { COORDINATOR, EVENT_STORE, READ_STORE } from '@chronicle/infrastructure';
import type { Projection } from '../projection';
import { projectionRole, Projector } from '../projector';
import { ReadModels } from '../read-models';

export const PROJECTIONS = Symbol('Projections');
/** The group of roles projector processes share (projections and process managers). */
export const PROJECTOR_GROUP = 'projector';

export interface ProjectorModuleOptions {
  projections: Projection[];
  /** Run the projector in this process (the embedded default and apps/projector do). */
  run: boolean;
  batchSize?: number;
}

/**
 * Thin wiring: the projector (when this process runs it), each projection a role of the cluster
 * registered with the RoleCoordinator, and the query side's ReadModels.
 */
@Module({})
export class ProjectorModule implements OnModuleInit, OnModuleDestroy {
  constructor(
    @Optional() @Inject(Projector) private readonly projector: Projector | null,
    @Inject(COORDINATOR) private readonly coordinator: RoleCoordinator,
  ) {}

  static forRoot(options: ProjectorModuleOptions): DynamicModule {
    const logger = new Logger('Projector');
    return {
      module: ProjectorModule,
      providers: [
        { provide: PROJECTIONS, useValue: options.projections },
        {
          provide: Projector,
          inject: [EVENT_STORE, READ_STORE],
          useFactory: (events: EventStore, reads: ReadStore) =>
            options.run
              ? new Projector(events, reads, options.projections, {
                  batchSize: options.batchSize,
                  log: (level, message) =>
                    level === 'info' ? logger.log(message) : level === 'warn' ? logger.warn(message) : logger.error(message),
                })
              : null,
        },
        {
          provide: ReadModels,
          inject: [READ_STORE, EVENT_STORE, Projector],
          useFactory: (reads: ReadStore, events: EventStore, projector: Projector | null) =>
            new ReadModels(
              reads,
              events,
              options.projections.map((p) => p.name),
              projector ?? undefined,
            ),
        },
      ],
      exports: [ReadModels, Projector, PROJECTIONS],
    };
  }

  // Roles are registered while modules initialise; the coordinator takes them once the app has bootstrapped.
  async onModuleInit(): Promise<void> {
    const projector = this.projector;
    if (!projector) return;
    await projector.startCoordinated((role, reason) => this.coordinator.lost(role, reason));
    for (const projection of projector.projections)
      this.coordinator.register(projectionRole(projection.name), PROJECTOR_GROUP, projector.runner(projection.name));
  }

  async onModuleDestroy(): Promise<void> {
    await this.coordinator.stop();
    await this.projector?.stop();
  }
}
