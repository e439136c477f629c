import { Injectable } from '@nestjs/common';
import {
  Aggregate,
  aggregateOfEventType,
  customerDecider,
  dealDecider,
  fold,
  leadDecider,
  PlannedAction,
  planActions,
  taskDecider,
} from '@chronicle/domain';
import type { DomainEvent } from '@chronicle/domain';
import type { RecordedEvent } from '@chronicle/event-store';
import { deterministicUuid } from '@chronicle/infrastructure';
import { toDomainEvent } from '../command-executor';
import { CustomerMessage, LeadMessage, TaskMessage } from '../messages';
import { AutomationProcessManager } from './automation-process-manager';
import { reactionContext } from './reaction-context';

type Folder = { initialState(): unknown; evolve(state: unknown, event: DomainEvent): unknown };

/**
 * The follow-up rule engine (RULES_FILE): on an event a rule triggers on, the aggregate's state
 * before and after it is folded from its stream, the rules are matched, and each planned action
 * becomes a command whose ids derive from the triggering event, the rule and the action's index.
 */
@Injectable()
export class RulesProcessManager extends AutomationProcessManager {
  readonly checkpointName = 'process-manager:rules';
  // Field initialisers run after the base constructor: `config` is set.
  readonly eventTypes: readonly string[] = [...new Set(this.config.rules.flatMap((r) => r.on))];
  private readonly folders = {
    customer: customerDecider,
    lead: leadDecider,
    deal: dealDecider(this.config.pipeline),
    task: taskDecider,
  } as unknown as Record<Aggregate, Folder>;

  protected override active(): boolean {
    return this.config.automation && this.config.rules.length > 0;
  }

  protected async handle(event: RecordedEvent, live: boolean): Promise<void> {
    if (!live) return;
    const aggregate = aggregateOfEventType(event.type);
    if (!aggregate) return;
    const history = (await this.store.readStream(event.streamId, { maxCount: event.streamRevision + 1 })).map((e) => toDomainEvent(e));
    const folder = this.folders[aggregate];
    const previous = history.length > 1 ? fold(folder, history.slice(0, -1)) : undefined;
    const state = fold(folder, history);
    const actions = planActions(this.config.rules, { type: event.type, data: event.data, state, previous, occurredAt: event.occurredAt });
    for (const action of actions) await this.perform(action, event);
  }

  private async perform(action: PlannedAction, event: RecordedEvent): Promise<void> {
    const purpose = `rule|${action.rule}|${action.index}`;
    const context = reactionContext(event.eventId, event.correlationId, purpose);
    const reason = `rule "${action.rule}" on ${event.type} ${event.eventId}`;
    const occurredAt = event.occurredAt;
    switch (action.action) {
      case 'create-task': {
        const { rule: _r, index: _i, action: _a, ...task } = action;
        const taskId = deterministicUuid(`task|${purpose}|${event.eventId}`);
        await this.commandBus.execute(new TaskMessage({ type: 'CreateTask', data: { taskId, ...task, reason }, occurredAt }, context));
        return;
      }
      case 'assign':
        if (action.aggregate === 'lead') {
          await this.commandBus.execute(
            new LeadMessage(
              { type: 'AssignLead', data: { leadId: action.id, ownerId: action.ownerId, strategy: 'rule', reason }, occurredAt },
              context,
            ),
          );
        } else {
          await this.commandBus.execute(
            new CustomerMessage(
              {
                type: 'AssignCustomerOwner',
                data: { customerId: action.id, ownerId: action.ownerId, strategy: 'rule', reason },
                occurredAt,
              },
              context,
            ),
          );
        }
        return;
      case 'enroll':
        await this.commandBus.execute(
          new CustomerMessage(
            { type: 'EnrollCustomer', data: { customerId: action.customerId, campaign: action.campaign, reason }, occurredAt },
            context,
          ),
        );
        return;
      case 'tag':
        await this.commandBus.execute(
          new CustomerMessage(
            { type: 'TagCustomer', data: { customerId: action.customerId, tag: action.tag, reason }, occurredAt },
            context,
          ),
        );
        return;
    }
  }
}
