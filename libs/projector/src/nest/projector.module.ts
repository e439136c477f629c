import { DynamicModule, Inject, Logger, Module, OnApplicationBootstrap, OnModuleDestroy, Optional } from '@nestjs/common';
import type { EventStore } from '@chronicle/event-store';
import type { ReadStore } from '@chronicle/read-store';
import { EVENT_STORE, READ_STORE } from '@chronicle/shared';
import type { Projection } from '../projection';
import { Projector } from '../projector';
import { ReadModels } from '../read-models';

export const PROJECTIONS = Symbol('Projections');

export interface ProjectorModuleOptions {
  projections: Projection[];
  /** Run the projector in this process (the embedded default and apps/projector do). */
  run: boolean;
  batchSize?: number;
}

/** Thin wiring: the projector (when this process runs it) and the query side's ReadModels. */
@Module({})
export class ProjectorModule implements OnApplicationBootstrap, OnModuleDestroy {
  constructor(@Optional() @Inject(Projector) private readonly projector: Projector | null) {}

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
                  log: (level, message) => (level === 'info' ? logger.log(message) : level === 'warn' ? logger.warn(message) : logger.error(message)),
                })
              : null,
        },
        {
          provide: ReadModels,
          inject: [READ_STORE, EVENT_STORE, Projector],
          useFactory: (reads: ReadStore, events: EventStore, projector: Projector | null) =>
            new ReadModels(reads, events, options.projections.map((p) => p.name), projector ?? undefined),
        },
      ],
      exports: [ReadModels, Projector, PROJECTIONS],
    };
  }

  async onApplicationBootstrap(): Promise<void> {
    await this.projector?.start();
  }

  async onModuleDestroy(): Promise<void> {
    await this.projector?.stop();
  }
}
