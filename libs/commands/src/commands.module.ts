import { DynamicModule, Module } from '@nestjs/common';
import { CqrsModule } from '@nestjs/cqrs';
import type { EventStore } from '@chronicle/event-store';
import { EVENT_STORE } from '@chronicle/shared';
import { CommandExecutor } from './command-executor';
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

/** The sales-automation process managers (docs/automation.md), each with its own checkpoint. */
export const automationProcessManagers = [ScoringProcessManager, AssignmentProcessManager, RulesProcessManager, StallProcessManager];

/** The write side: CommandBus handlers per aggregate, and (optionally) the process managers. */
@Module({})
export class CommandsModule {
  static forRoot(options: { processManagers: boolean }): DynamicModule {
    return {
      module: CommandsModule,
      imports: [CqrsModule.forRoot()],
      providers: [
        { provide: CommandExecutor, useFactory: (store: EventStore) => new CommandExecutor(store), inject: [EVENT_STORE] },
        { provide: PROCESS_MANAGERS_ENABLED, useValue: options.processManagers },
        CustomerHandler,
        LeadHandler,
        DealHandler,
        CampaignHandler,
        TaskHandler,
        GoalHandler,
        AcquisitionProcessManager,
        ...automationProcessManagers,
      ],
      exports: [CqrsModule, CommandExecutor, AcquisitionProcessManager, ...automationProcessManagers],
    };
  }
}
