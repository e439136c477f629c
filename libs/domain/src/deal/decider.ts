import {
  archiveData,
  archivedState,
  ArchiveState,
  assertMayArchive,
  assertMayRestore,
  assertNotArchived,
  restoredState,
} from '../common/archive';
import type { Decider } from '../common/decider';
import { AggregateAlreadyExists, AggregateNotFound, BusinessRuleViolation, InvalidInput, rule } from '../common/errors';
import { assertAmount } from '../common/money';
import { streamIdOf } from '../common/streams';
import { parseIsoDateTime } from '../common/time';
import type { DealCommand } from './commands';
import type { DealEvent } from './events';
import { Pipeline, stageNames } from './pipeline';

export type DealStatus = 'open' | 'won' | 'lost';

export interface DealState extends ArchiveState {
  exists: boolean;
  dealId: string;
  customerId: string;
  title: string;
  amount: number;
  ownerId: string;
  expectedCloseDate?: string;
  source: string;
  /** Current stage; `won` or `lost` once closed. */
  stage: string;
  status: DealStatus;
  openedAt?: string;
  stageEnteredAt?: string;
  closedAt?: string;
  /** The stage it was in when it closed. */
  closedStage?: string;
  lostReason?: string;
  /** How many times it was reopened. */
  reopens?: number;
  /** Business time of the deal's last event: a deal's history is ordered in business time. */
  lastOccurredAt?: string;
}

export const initialDealState = (): DealState => ({
  exists: false,
  dealId: '',
  customerId: '',
  title: '',
  amount: 0,
  ownerId: '',
  source: '',
  stage: '',
  status: 'open',
});

/** A deal's history is ordered in business time: a change may not precede the deal's last one. */
function inOrder(state: DealState, occurredAt: string): void {
  rule(
    state.lastOccurredAt === undefined || Date.parse(occurredAt) >= Date.parse(state.lastOccurredAt),
    `occurredAt ${occurredAt} is before the deal's last change (${state.lastOccurredAt})`,
    'out-of-order',
  );
}

function mustBeOpen(state: DealState, dealId: string, occurredAt: string): void {
  if (!state.exists) throw new AggregateNotFound(streamIdOf('deal', dealId));
  rule(state.status === 'open', `${streamIdOf('deal', dealId)} is ${state.status}; a closed deal accepts no change`, 'deal-closed');
  // Stage durations and "as of" views need a deal's events in business-time order.
  rule(
    state.lastOccurredAt === undefined || Date.parse(occurredAt) >= Date.parse(state.lastOccurredAt),
    `occurredAt ${occurredAt} is before the deal's last change (${state.lastOccurredAt})`,
    'out-of-order',
  );
}

function assertStage(pipeline: Pipeline, field: string, stage: string): void {
  if (!stageNames(pipeline).includes(stage)) {
    throw new BusinessRuleViolation(
      `${field}: "${stage}" is not a stage of the pipeline (${stageNames(pipeline).join(', ')}); use /win or /lose to close`,
      'unknown-stage',
    );
  }
}

function assertDate(field: string, value: string): void {
  if (Number.isNaN(parseIsoDateTime(value))) throw new InvalidInput(field, 'must be an ISO 8601 date');
}

/** The deal decider is built for a pipeline configuration: stages must exist in it. */
export function dealDecider(pipeline: Pipeline): Decider<DealState, DealCommand, DealEvent> {
  return {
    initialState: initialDealState,

    decide(command, state) {
      const { occurredAt } = command;
      // An archived deal accepts its restore alone (issue 16); archiving again is refused by its own rule.
      if (command.type !== 'ArchiveDeal' && command.type !== 'RestoreDeal')
        assertNotArchived(state, streamIdOf('deal', command.data.dealId));
      switch (command.type) {
        case 'OpenDeal': {
          const d = command.data;
          if (state.exists) throw new AggregateAlreadyExists(streamIdOf('deal', d.dealId));
          if (!d.title.trim()) throw new InvalidInput('title', 'must not be empty');
          assertAmount('amount', d.amount);
          if (d.expectedCloseDate !== undefined) assertDate('expectedCloseDate', d.expectedCloseDate);
          const stage = d.stage ?? pipeline.stages[0].name;
          assertStage(pipeline, 'stage', stage);
          return [{ type: 'DealOpened', data: { ...d, stage }, occurredAt }];
        }
        case 'ChangeDealStage': {
          const { dealId, stage } = command.data;
          mustBeOpen(state, dealId, occurredAt);
          assertStage(pipeline, 'stage', stage);
          rule(stage !== state.stage, `${streamIdOf('deal', dealId)} is already in stage "${stage}"`, 'same-stage');
          return [{ type: 'DealStageChanged', data: { dealId, from: state.stage, to: stage }, occurredAt }];
        }
        case 'UpdateDeal': {
          const { dealId, amount, expectedCloseDate } = command.data;
          mustBeOpen(state, dealId, occurredAt);
          const events: DealEvent[] = [];
          if (amount !== undefined) {
            assertAmount('amount', amount);
            if (amount !== state.amount)
              events.push({ type: 'DealAmountChanged', data: { dealId, from: state.amount, to: amount }, occurredAt });
          }
          if (expectedCloseDate !== undefined) {
            assertDate('expectedCloseDate', expectedCloseDate);
            if (expectedCloseDate !== state.expectedCloseDate) {
              events.push({
                type: 'DealExpectedCloseDateChanged',
                data: { dealId, from: state.expectedCloseDate, to: expectedCloseDate },
                occurredAt,
              });
            }
          }
          return events;
        }
        case 'WinDeal': {
          const { dealId } = command.data;
          mustBeOpen(state, dealId, occurredAt);
          return [
            { type: 'DealWon', data: { dealId, customerId: state.customerId, amount: state.amount, stage: state.stage }, occurredAt },
          ];
        }
        case 'LoseDeal': {
          const { dealId, reason } = command.data;
          mustBeOpen(state, dealId, occurredAt);
          if (!reason.trim()) throw new InvalidInput('reason', 'must not be empty');
          return [
            {
              type: 'DealLost',
              data: { dealId, customerId: state.customerId, amount: state.amount, stage: state.stage, reason },
              occurredAt,
            },
          ];
        }
        case 'ReopenDeal': {
          const { dealId, reason } = command.data;
          if (!state.exists) throw new AggregateNotFound(streamIdOf('deal', dealId));
          rule(state.status !== 'open', `${streamIdOf('deal', dealId)} is open; only a won or lost deal can be reopened`, 'deal-open');
          inOrder(state, occurredAt);
          if (reason !== undefined && !reason.trim()) throw new InvalidInput('reason', 'must not be empty when given');
          const closedStage = state.closedStage ?? pipeline.stages[0].name;
          const stage = command.data.stage ?? closedStage;
          assertStage(pipeline, 'stage', stage);
          return [
            {
              type: 'DealReopened',
              data: {
                dealId,
                customerId: state.customerId,
                ownerId: state.ownerId,
                amount: state.amount,
                stage,
                outcome: state.status,
                closedAt: state.closedAt ?? state.lastOccurredAt ?? occurredAt,
                closedStage,
                ...(state.status === 'lost' && state.lostReason !== undefined ? { lostReason: state.lostReason } : {}),
                ...(reason !== undefined ? { reason } : {}),
              },
              occurredAt,
            },
          ];
        }
        case 'AssignDealOwner': {
          const { dealId, ownerId } = command.data;
          if (!state.exists) throw new AggregateNotFound(streamIdOf('deal', dealId));
          if (!ownerId.trim()) throw new InvalidInput('ownerId', 'must not be empty');
          rule(
            state.lastOccurredAt === undefined || Date.parse(occurredAt) >= Date.parse(state.lastOccurredAt),
            `occurredAt ${occurredAt} is before the deal's last change (${state.lastOccurredAt})`,
            'out-of-order',
          );
          if (ownerId === state.ownerId) return [];
          return [{ type: 'DealOwnerAssigned', data: { dealId, ownerId, previousOwnerId: state.ownerId }, occurredAt }];
        }
        case 'ArchiveDeal': {
          // Open and closed deals alike: an archived open deal leaves the open pipeline until restored.
          const { dealId, reason } = command.data;
          if (!state.exists) throw new AggregateNotFound(streamIdOf('deal', dealId));
          assertMayArchive(state, streamIdOf('deal', dealId), occurredAt);
          inOrder(state, occurredAt);
          return [{ type: 'DealArchived', data: archiveData('dealId', dealId, reason), occurredAt }];
        }
        case 'RestoreDeal': {
          const { dealId, reason } = command.data;
          if (!state.exists) throw new AggregateNotFound(streamIdOf('deal', dealId));
          assertMayRestore(state, streamIdOf('deal', dealId), occurredAt);
          inOrder(state, occurredAt);
          return [{ type: 'DealRestored', data: archiveData('dealId', dealId, reason), occurredAt }];
        }
        default: {
          const unknown: never = command;
          throw new BusinessRuleViolation(`unknown command ${(unknown as { type: string }).type}`);
        }
      }
    },

    evolve(previous, event) {
      const state = { ...previous, lastOccurredAt: event.occurredAt };
      switch (event.type) {
        case 'DealOpened':
          return { ...state, ...event.data, exists: true, status: 'open', openedAt: event.occurredAt, stageEnteredAt: event.occurredAt };
        case 'DealStageChanged':
          return { ...state, stage: event.data.to, stageEnteredAt: event.occurredAt };
        case 'DealAmountChanged':
          return { ...state, amount: event.data.to };
        case 'DealExpectedCloseDateChanged':
          return { ...state, expectedCloseDate: event.data.to };
        case 'DealWon':
          return {
            ...state,
            status: 'won',
            stage: 'won',
            stageEnteredAt: event.occurredAt,
            closedAt: event.occurredAt,
            closedStage: event.data.stage,
          };
        case 'DealReopened': {
          const { closedAt: _closedAt, closedStage: _closedStage, lostReason: _lostReason, ...open } = state;
          return {
            ...open,
            status: 'open',
            stage: event.data.stage,
            stageEnteredAt: event.occurredAt,
            reopens: (state.reopens ?? 0) + 1,
          };
        }
        case 'DealOwnerAssigned':
          return { ...state, ownerId: event.data.ownerId };
        case 'DealArchived':
          return { ...state, ...archivedState(event.occurredAt) };
        case 'DealRestored':
          return { ...state, ...restoredState(event.occurredAt) };
        case 'DealLost':
          return {
            ...state,
            status: 'lost',
            stage: 'lost',
            stageEnteredAt: event.occurredAt,
            closedAt: event.occurredAt,
            closedStage: event.data.stage,
            lostReason: event.data.reason,
          };
        default:
          return state;
      }
    },
  };
}
