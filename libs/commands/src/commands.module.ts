import { DynamicModule, Inject, Module, OnApplicationShutdown } from '@nestjs/common';
import { CqrsModule } from '@nestjs/cqrs';
import { join } from 'node:path';
import type { EventStore } from '@chronicle/event-store';
import { ChronicleConfig, CONFIG, EVENT_STORE, SNAPSHOT_STORE, SnapshotStore, SqliteSnapshotStore } from '@chronicle/infrastructure';
import { CommandExecutor } from './command-executor';
import { CommandEnvironment } from './command-spec';
import { CampaignHandler } from './handlers/campaign.handler';
import { CustomerHandler } from './handlers/customer.handler';
import { DealHandler } from './handlers/deal.handler';
import { LeadHandler } from './handlers/lead.handler';
import { TaskHandler } from './handlers/task.handler';
import { AcquisitionProcessManager, PROCESS_MANAGERS_ENABLED } from './process-managers/acquisition.process-manager';
import { AssignmentProcessManager } from './process-managers/assignment.process-manager';
import { RulesProcessManager } from './process-managers/rules.process-manager';
import { ScoringProcessManager } from './process-managers/scoring.process-manager';
import { StallProcessManager } from './process-managers/stall.process-manager';
import { GoalHandler } from './handlers/goal.handler';
import type { FeedProcessManager } from './process-managers/feed-process-manager';

/** The sales-automation process managers (docs/automation.md), each with its own checkpoint. */
export const automationProcessManagers = [ScoringProcessManager, AssignmentProcessManager, RulesProcessManager, StallProcessManager];

/** Every process manager instance (status pages: their roles and the event types they react to). */
export const PROCESS_MANAGERS = Symbol('ProcessManagers');

/** The process managers' roles (their checkpoint names), as PROJECTIONS may name them. */
export const processManagerRoles = [
  AcquisitionProcessManager.checkpointName,
  'process-manager:scoring',
  'process-manager:assignment',
  'process-manager:rules',
  'process-manager:stall',
] as const;

/** The write side: CommandBus handlers per aggregate, and (optionally) the process managers. */
@Module({})
export class CommandsModule implements OnApplicationShutdown {
  constructor(@Inject(SNAPSHOT_STORE) private readonly snapshots: SnapshotStore) {}

  static forRoot(options: { processManagers: boolean }): DynamicModule {
    return {
      module: CommandsModule,
      imports: [CqrsModule.forRoot()],
      providers: [
        // Aggregate snapshots: a cache beside the state store (DATA_DIR/snapshots.db), never the truth.
        {
          provide: SNAPSHOT_STORE,
          useFactory: (config: ChronicleConfig) => new SqliteSnapshotStore(join(config.dataDir, 'snapshots.db')),
          inject: [CONFIG],
        },
        {
          provide: CommandExecutor,
          useFactory: (store: EventStore, snapshots: SnapshotStore) => new CommandExecutor(store, { snapshots }),
          inject: [EVENT_STORE, SNAPSHOT_STORE],
        },
        { provide: PROCESS_MANAGERS_ENABLED, useValue: options.processManagers },
        // What the command specs use; the handlers below are thin CommandBus entry points that run them.
        CommandEnvironment,
        CustomerHandler,
        LeadHandler,
        DealHandler,
        CampaignHandler,
        TaskHandler,
        GoalHandler,
        AcquisitionProcessManager,
        ...automationProcessManagers,
        {
          provide: PROCESS_MANAGERS,
          useFactory: (...managers: FeedProcessManager[]) => managers,
          inject: [AcquisitionProcessManager, ...automationProcessManagers],
        },
      ],
      exports: [CqrsModule, CommandExecutor, AcquisitionProcessManager, ...automationProcessManagers, PROCESS_MANAGERS],
    };
  }

  onApplicationShutdown(): void {
    this.snapshots.close();
  }
}
