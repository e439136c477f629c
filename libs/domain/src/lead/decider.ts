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
import { streamIdOf } from '../common/streams';
import { erasedFields } from '../personal-data';
import type { LeadCommand } from './commands';
import type { LeadEvent } from './events';
import { LeadInteractionTypes } from './events';

/** new → qualified → converted; new|qualified → disqualified. Converted and disqualified are final. */
export type LeadStatus = 'new' | 'qualified' | 'disqualified' | 'converted';

export interface LeadState extends ArchiveState {
  exists: boolean;
  leadId: string;
  name: string;
  email?: string;
  source: string;
  campaignId?: string;
  attributes?: Record<string, unknown>;
  ownerId?: string;
  score?: number;
  status: LeadStatus;
  capturedAt?: string;
  customerId?: string;
  personalDataErased?: boolean;
}

export const initialLeadState = (): LeadState => ({ exists: false, leadId: '', name: '', source: '', status: 'new' });

function mustBeOpen(state: LeadState, leadId: string, action: string): void {
  if (!state.exists) throw new AggregateNotFound(streamIdOf('lead', leadId));
  rule(
    state.status === 'new' || state.status === 'qualified',
    `${streamIdOf('lead', leadId)} is ${state.status} and cannot be ${action}`,
    `lead-${state.status}`,
  );
}

/** What an archived lead still accepts (issue 16): its restore and the erasure of its personal data (which must always work). */
const ACCEPTED_WHILE_ARCHIVED: ReadonlySet<LeadCommand['type']> = new Set(['ArchiveLead', 'RestoreLead', 'EraseLeadPersonalData'] as const);

export const leadDecider: Decider<LeadState, LeadCommand, LeadEvent> = {
  initialState: initialLeadState,

  decide(command, state) {
    const { occurredAt } = command;
    if (!ACCEPTED_WHILE_ARCHIVED.has(command.type)) assertNotArchived(state, streamIdOf('lead', command.data.leadId));
    switch (command.type) {
      case 'CaptureLead': {
        const d = command.data;
        if (state.exists) throw new AggregateAlreadyExists(streamIdOf('lead', d.leadId));
        if (!d.name.trim()) throw new InvalidInput('name', 'must not be empty');
        if (!d.source.trim()) throw new InvalidInput('source', 'must not be empty');
        return [{ type: 'LeadCaptured', data: { ...d }, occurredAt }];
      }
      case 'ScoreLead': {
        const { leadId, score, reasons } = command.data;
        if (!state.exists) throw new AggregateNotFound(streamIdOf('lead', leadId));
        if (!Number.isFinite(score)) throw new InvalidInput('score', 'must be a finite number');
        return [{ type: 'LeadScored', data: { leadId, score, reasons }, occurredAt }];
      }
      case 'AssignLead': {
        const { leadId, ownerId, strategy, reason, ifUnassigned } = command.data;
        mustBeOpen(state, leadId, 'assigned');
        if (ownerId === state.ownerId || (ifUnassigned && state.ownerId !== undefined)) return [];
        const data = { leadId, ownerId, previousOwnerId: state.ownerId, strategy, reason };
        return [{ type: 'LeadAssigned', data: JSON.parse(JSON.stringify(data)), occurredAt }];
      }
      case 'QualifyLead': {
        const { leadId } = command.data;
        mustBeOpen(state, leadId, 'qualified');
        rule(state.status !== 'qualified', `${streamIdOf('lead', leadId)} is already qualified`, 'lead-qualified');
        return [{ type: 'LeadQualified', data: { leadId }, occurredAt }];
      }
      case 'DisqualifyLead': {
        const { leadId, reason } = command.data;
        mustBeOpen(state, leadId, 'disqualified');
        if (!reason.trim()) throw new InvalidInput('reason', 'must not be empty');
        return [{ type: 'LeadDisqualified', data: { leadId, reason }, occurredAt }];
      }
      case 'ConvertLead': {
        const { leadId, customerId } = command.data;
        mustBeOpen(state, leadId, 'converted');
        rule(
          !state.personalDataErased,
          `the personal data of ${streamIdOf('lead', leadId)} was erased; it cannot become a customer`,
          'personal-data-erased',
        );
        return [{ type: 'LeadConverted', data: { leadId, customerId, source: state.source }, occurredAt }];
      }
      case 'EraseLeadPersonalData': {
        const { leadId } = command.data;
        if (!state.exists) throw new AggregateNotFound(streamIdOf('lead', leadId));
        if (state.personalDataErased) return [];
        return [{ type: 'LeadPersonalDataErased', data: { leadId }, occurredAt }];
      }
      case 'LogLeadInteraction': {
        const d = command.data;
        if (!state.exists) throw new AggregateNotFound(streamIdOf('lead', d.leadId));
        if (!(LeadInteractionTypes as readonly string[]).includes(d.type))
          throw new InvalidInput('type', `must be one of ${LeadInteractionTypes.join(', ')}`);
        return [{ type: 'LeadInteractionLogged', data: JSON.parse(JSON.stringify(d)), occurredAt }];
      }
      case 'ArchiveLead': {
        const { leadId, reason } = command.data;
        if (!state.exists) throw new AggregateNotFound(streamIdOf('lead', leadId));
        assertMayArchive(state, streamIdOf('lead', leadId), occurredAt);
        return [{ type: 'LeadArchived', data: archiveData('leadId', leadId, reason), occurredAt }];
      }
      case 'RestoreLead': {
        const { leadId, reason } = command.data;
        if (!state.exists) throw new AggregateNotFound(streamIdOf('lead', leadId));
        assertMayRestore(state, streamIdOf('lead', leadId), occurredAt);
        return [{ type: 'LeadRestored', data: archiveData('leadId', leadId, reason), occurredAt }];
      }
      default: {
        const unknown: never = command;
        throw new BusinessRuleViolation(`unknown command ${(unknown as { type: string }).type}`);
      }
    }
  },

  evolve(state, event) {
    switch (event.type) {
      case 'LeadCaptured':
        return { ...state, ...event.data, exists: true, status: 'new', capturedAt: event.occurredAt };
      case 'LeadScored':
        return { ...state, score: event.data.score };
      case 'LeadAssigned':
        return { ...state, ownerId: event.data.ownerId };
      case 'LeadQualified':
        return { ...state, status: 'qualified' };
      case 'LeadDisqualified':
        return { ...state, status: 'disqualified' };
      case 'LeadConverted':
        return { ...state, status: 'converted', customerId: event.data.customerId };
      case 'LeadPersonalDataErased':
        return { ...state, ...erasedFields(state), attributes: undefined, personalDataErased: true };
      case 'LeadArchived':
        return { ...state, ...archivedState(event.occurredAt) };
      case 'LeadRestored':
        return { ...state, ...restoredState(event.occurredAt) };
      default:
        return state;
    }
  },
};
