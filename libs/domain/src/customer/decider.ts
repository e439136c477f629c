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
import { AggregateAlreadyExists, AggregateNotFound, BusinessRuleViolation, CustomerWasMerged, InvalidInput, rule } from '../common/errors';
import { assertAmount } from '../common/money';
import { streamIdOf } from '../common/streams';
import { erasedFields, personalFieldsOf } from '../personal-data';
import type { CustomerCommand, LogInteraction } from './commands';
import type { CustomerAcquired, CustomerEvent, CustomerProfile, InteractionChannel, InteractionLogged } from './events';
import { interactionChannelOf, InteractionDirections, InteractionTypes } from './events';

/** prospect: registered, never bought; active: acquired and not churned; churned. */
export type CustomerStatus = 'prospect' | 'active' | 'churned';

export interface CustomerState extends CustomerProfile, ArchiveState {
  exists: boolean;
  customerId: string;
  source: string;
  ownerId?: string;
  /** The lead the customer was registered from (conversion into a new customer). */
  leadId?: string;
  /** Leads converted into the customer once it existed (CustomerLeadLinked; optional: absent on older snapshots). */
  linkedLeadIds?: string[];
  status: CustomerStatus;
  registeredAt?: string;
  acquiredAt?: string;
  churnedAt?: string;
  /** Business time of the last lifecycle change (acquired, churned, reactivated). */
  lifecycleAt?: string;
  purchases: { count: number; total: number };
  interactions: number;
  /** The latest interaction in business time and its channel (optional: absent on older snapshots). */
  lastInteraction?: { interactionId: string; occurredAt: string; channel: InteractionChannel };
  /** Set by CustomerPersonalDataErased: personal fields can no longer be recorded. */
  personalDataErased?: boolean;
  /** Campaigns the customer is enrolled in and tags set by rules (optional: absent on older snapshots). */
  campaigns?: string[];
  tags?: string[];
  /** Merged into this survivor (docs/merging.md): commands are refused with 409 naming it. */
  mergedInto?: string;
  mergedAt?: string;
  /** On a survivor: the customers merged into it, in merge order. */
  mergedIds?: string[];
}

export const initialCustomerState = (): CustomerState => ({
  exists: false,
  customerId: '',
  name: '',
  source: '',
  status: 'prospect',
  purchases: { count: 0, total: 0 },
  interactions: 0,
});

const profileFields = ['name', 'email', 'phone', 'company', 'industry', 'region', 'attributes'] as const;

/**
 * Lifecycle changes must not go back in business time: a customer cannot churn before the
 * acquisition or reactivation that made them active. This keeps "active at t" well defined.
 */
function inOrder(state: CustomerState, occurredAt: string): void {
  rule(
    state.lifecycleAt === undefined || Date.parse(occurredAt) >= Date.parse(state.lifecycleAt),
    `occurredAt ${occurredAt} is before the customer's last lifecycle change (${state.lifecycleAt})`,
    'out-of-order',
  );
}

function mustExist(state: CustomerState, customerId: string): void {
  if (!state.exists) throw new AggregateNotFound(streamIdOf('customer', customerId));
}

/** The personal fields of a profile (CustomerProfileUpdated's): what an erased customer may no longer set. */
const personalProfileFields = personalFieldsOf('CustomerProfileUpdated');

/**
 * The other data subjects (stream ids) that are the same person as this customer: the lead they
 * were registered from, every lead converted into them and every customer merged into them (whose
 * own erasure erases its leads). Erasing the customer erases them too.
 */
export function samePersonSubjects(state: CustomerState): string[] {
  const leads = new Set([...(state.leadId ? [state.leadId] : []), ...(state.linkedLeadIds ?? [])]);
  return [...[...leads].map((leadId) => streamIdOf('lead', leadId)), ...(state.mergedIds ?? []).map((id) => streamIdOf('customer', id))];
}

/** A record that names a customer (a deal, a task, a conversion) may not name a merged one: 409 naming the survivor. */
export function assertNotMerged(state: Pick<CustomerState, 'mergedInto'>, streamId: string): void {
  if (state.mergedInto !== undefined) throw new CustomerWasMerged(streamId, state.mergedInto);
}

function acquired(state: CustomerState, occurredAt: string, trigger: CustomerAcquired['data']['trigger']): CustomerAcquired[] {
  if (state.acquiredAt !== undefined) return []; // emitted exactly once per customer
  return [{ type: 'CustomerAcquired', data: { customerId: state.customerId, channel: state.source, trigger }, occurredAt }];
}

/**
 * Logging an interaction needs only to know that the customer exists, so the handler can check
 * existence cheaply instead of folding a long history (docs/quality.md: cost independent of history).
 */
export function decideLogInteraction(command: LogInteraction, customerExists: boolean): InteractionLogged[] {
  const d = command.data;
  if (!customerExists) throw new AggregateNotFound(streamIdOf('customer', d.customerId));
  if (!InteractionTypes.includes(d.type)) throw new InvalidInput('type', `must be one of ${InteractionTypes.join(', ')}`);
  if (!InteractionDirections.includes(d.direction))
    throw new InvalidInput('direction', `must be one of ${InteractionDirections.join(', ')}`);
  if (!d.subject.trim()) throw new InvalidInput('subject', 'must not be empty');
  if (d.durationMinutes !== undefined) assertAmount('durationMinutes', d.durationMinutes);
  // Schema version 2: the channel is recorded with the event (events.ts).
  return [{ type: 'InteractionLogged', data: { ...d, channel: interactionChannelOf(d.type) }, occurredAt: command.occurredAt }];
}

/**
 * What an archived customer still accepts (issue 16): its restore; the erasure of its personal data
 * (which must always work) and the link of a lead converted into it (so that erasure finds that
 * lead); its acquisition, the consequence of a deal won (a deal is a record of its own); and a
 * logged interaction, decided on the customer's existence alone (its cost must not grow with the
 * history: docs/quality.md), so it cannot see the archive. Archiving again is refused by its own rule.
 */
const ACCEPTED_WHILE_ARCHIVED: ReadonlySet<CustomerCommand['type']> = new Set([
  'ArchiveCustomer',
  'RestoreCustomer',
  'EraseCustomerPersonalData',
  'LinkLead',
  'AcquireCustomer',
  'LogInteraction',
  // Duplicates are often archived ones; and the survivor's side records a merge already decided.
  'MergeCustomer',
  'UnmergeCustomer',
  'RecordMerge',
  'RecordUnmerge',
] as const);

/**
 * What a merged customer still accepts (docs/merging.md): its unmerge; its erasure (which must
 * always work, and which the survivor's erasure sends); the link of a lead converted into it before
 * the merge (so that erasure finds that lead); and the survivor's side of an unmerge. Anything else
 * is a 409 naming the survivor.
 */
const ACCEPTED_WHILE_MERGED: ReadonlySet<CustomerCommand['type']> = new Set([
  'UnmergeCustomer',
  'EraseCustomerPersonalData',
  'LinkLead',
  'RecordUnmerge',
] as const);

/** The data of CustomerMerged / CustomerUnmerged on the stream of `customerId`: `reason` only when given. */
const mergeData = (customerId: string, mergedId: string, survivorId: string, reason: string | undefined) =>
  reason === undefined ? { customerId, mergedId, survivorId } : { customerId, mergedId, survivorId, reason };

export const customerDecider: Decider<CustomerState, CustomerCommand, CustomerEvent> = {
  initialState: initialCustomerState,

  decide(command, state) {
    const { occurredAt } = command;
    if (state.mergedInto !== undefined && !ACCEPTED_WHILE_MERGED.has(command.type))
      throw new CustomerWasMerged(streamIdOf('customer', command.data.customerId), state.mergedInto);
    if (!ACCEPTED_WHILE_ARCHIVED.has(command.type)) assertNotArchived(state, streamIdOf('customer', command.data.customerId));
    switch (command.type) {
      case 'RegisterCustomer': {
        const d = command.data;
        if (state.exists) throw new AggregateAlreadyExists(streamIdOf('customer', d.customerId));
        if (!d.name.trim()) throw new InvalidInput('name', 'must not be empty');
        if (!d.source.trim()) throw new InvalidInput('source', 'must not be empty');
        return [{ type: 'CustomerRegistered', data: { ...d }, occurredAt }];
      }
      case 'UpdateCustomerProfile': {
        const { customerId, ownerId, ...changes } = command.data;
        mustExist(state, customerId);
        if (changes.name !== undefined && !changes.name.trim()) throw new InvalidInput('name', 'must not be empty');
        rule(
          !state.personalDataErased || personalProfileFields.every((f) => changes[f as keyof typeof changes] === undefined),
          `the personal data of ${streamIdOf('customer', customerId)} was erased; ${personalProfileFields.join(', ')} cannot be set again`,
          'personal-data-erased',
        );
        const changed: Record<string, unknown> = {};
        for (const field of profileFields) {
          const value = changes[field];
          if (value !== undefined && JSON.stringify(value) !== JSON.stringify(state[field])) changed[field] = value;
        }
        const events: CustomerEvent[] = [];
        if (Object.keys(changed).length > 0) {
          events.push({ type: 'CustomerProfileUpdated', data: { customerId, ...changed }, occurredAt });
        }
        if (ownerId !== undefined && ownerId !== state.ownerId) {
          events.push({ type: 'CustomerOwnerAssigned', data: { customerId, ownerId, previousOwnerId: state.ownerId }, occurredAt });
        }
        return events;
      }
      case 'AssignCustomerOwner': {
        const { customerId, ownerId, strategy, reason, ifUnassigned } = command.data;
        mustExist(state, customerId);
        if (ownerId === state.ownerId || (ifUnassigned && state.ownerId !== undefined)) return [];
        const data = JSON.parse(JSON.stringify({ customerId, ownerId, previousOwnerId: state.ownerId, strategy, reason }));
        return [{ type: 'CustomerOwnerAssigned', data, occurredAt }];
      }
      case 'ChurnCustomer': {
        const { customerId, reason } = command.data;
        mustExist(state, customerId);
        rule(
          state.status === 'active',
          `only an active customer can churn; ${streamIdOf('customer', customerId)} is ${state.status}`,
          'not-active',
        );
        inOrder(state, occurredAt);
        if (!reason.trim()) throw new InvalidInput('reason', 'must not be empty');
        return [{ type: 'CustomerChurned', data: { customerId, reason }, occurredAt }];
      }
      case 'ReactivateCustomer': {
        const { customerId, reason } = command.data;
        mustExist(state, customerId);
        rule(
          state.status === 'churned',
          `only a churned customer can be reactivated; ${streamIdOf('customer', customerId)} is ${state.status}`,
          'not-churned',
        );
        inOrder(state, occurredAt);
        return [{ type: 'CustomerReactivated', data: reason === undefined ? { customerId } : { customerId, reason }, occurredAt }];
      }
      case 'RecordPurchase': {
        const d = command.data;
        mustExist(state, d.customerId);
        assertAmount('amount', d.amount);
        return [
          { type: 'PurchaseRecorded', data: { ...d }, occurredAt },
          ...acquired(state, occurredAt, { type: 'PurchaseRecorded', purchaseId: d.purchaseId }),
        ];
      }
      case 'LogInteraction':
        return decideLogInteraction(command, state.exists);
      case 'EnrollCustomer': {
        const { customerId, campaign, reason } = command.data;
        mustExist(state, customerId);
        if (!campaign.trim()) throw new InvalidInput('campaign', 'must not be empty');
        if ((state.campaigns ?? []).includes(campaign)) return [];
        return [{ type: 'CustomerEnrolled', data: JSON.parse(JSON.stringify({ customerId, campaign, reason })), occurredAt }];
      }
      case 'TagCustomer': {
        const { customerId, tag, reason } = command.data;
        mustExist(state, customerId);
        if (!tag.trim()) throw new InvalidInput('tag', 'must not be empty');
        if ((state.tags ?? []).includes(tag)) return [];
        return [{ type: 'CustomerTagged', data: JSON.parse(JSON.stringify({ customerId, tag, reason })), occurredAt }];
      }
      case 'AcquireCustomer': {
        const { customerId, dealId } = command.data;
        mustExist(state, customerId);
        return acquired(state, occurredAt, { type: 'DealWon', dealId });
      }
      case 'LinkLead': {
        const { customerId, leadId } = command.data;
        mustExist(state, customerId);
        // Recorded once per lead; the lead the customer was registered from is linked already.
        if (state.leadId === leadId || (state.linkedLeadIds ?? []).includes(leadId)) return [];
        return [{ type: 'CustomerLeadLinked', data: { customerId, leadId }, occurredAt }];
      }
      case 'EraseCustomerPersonalData': {
        const { customerId } = command.data;
        mustExist(state, customerId);
        if (state.personalDataErased) return []; // erasing twice changes nothing
        return [{ type: 'CustomerPersonalDataErased', data: { customerId }, occurredAt }];
      }
      case 'ArchiveCustomer': {
        const { customerId, reason } = command.data;
        mustExist(state, customerId);
        assertMayArchive(state, streamIdOf('customer', customerId), occurredAt);
        return [{ type: 'CustomerArchived', data: archiveData('customerId', customerId, reason), occurredAt }];
      }
      case 'RestoreCustomer': {
        const { customerId, reason } = command.data;
        mustExist(state, customerId);
        assertMayRestore(state, streamIdOf('customer', customerId), occurredAt);
        return [{ type: 'CustomerRestored', data: archiveData('customerId', customerId, reason), occurredAt }];
      }
      case 'MergeCustomer': {
        const { customerId, intoId, reason, survivor } = command.data;
        mustExist(state, customerId);
        if (intoId === customerId) throw new InvalidInput('intoId', 'must name another customer: a customer cannot be merged into itself');
        const survivorStream = streamIdOf('customer', intoId);
        // Merges are one level deep, so every record has one survivor.
        rule(
          !state.mergedIds?.length,
          `customers were merged into ${streamIdOf('customer', customerId)} (${(state.mergedIds ?? []).join(', ')}); unmerge them first`,
          'has-merged-customers',
        );
        if (!survivor?.exists) throw new BusinessRuleViolation(`intoId: ${survivorStream} does not exist`, 'unknown-customer');
        if (survivor.mergedInto !== undefined) throw new CustomerWasMerged(survivorStream, survivor.mergedInto);
        rule(!survivor.archived, `intoId: ${survivorStream} is archived; restore it first`, 'archived');
        return [{ type: 'CustomerMerged', data: mergeData(customerId, customerId, intoId, reason), occurredAt }];
      }
      case 'UnmergeCustomer': {
        const { customerId, reason } = command.data;
        mustExist(state, customerId);
        if (state.mergedInto === undefined)
          throw new BusinessRuleViolation(`${streamIdOf('customer', customerId)} is not merged into another customer`, 'not-merged');
        return [{ type: 'CustomerUnmerged', data: mergeData(customerId, customerId, state.mergedInto, reason), occurredAt }];
      }
      case 'RecordMerge': {
        const { customerId, mergedId, reason } = command.data;
        mustExist(state, customerId);
        if ((state.mergedIds ?? []).includes(mergedId)) return []; // recorded already (a retry, or the process manager after the handler)
        return [{ type: 'CustomerMerged', data: mergeData(customerId, mergedId, customerId, reason), occurredAt }];
      }
      case 'RecordUnmerge': {
        const { customerId, mergedId, reason } = command.data;
        mustExist(state, customerId);
        if (!(state.mergedIds ?? []).includes(mergedId)) return [];
        return [{ type: 'CustomerUnmerged', data: mergeData(customerId, mergedId, customerId, reason), occurredAt }];
      }
      default: {
        const unknown: never = command;
        throw new BusinessRuleViolation(`unknown command ${(unknown as { type: string }).type}`);
      }
    }
  },

  evolve(state, event) {
    switch (event.type) {
      case 'CustomerRegistered': {
        const { leadId, ...d } = event.data;
        return { ...state, ...d, ...(leadId ? { leadId } : {}), exists: true, status: 'prospect', registeredAt: event.occurredAt };
      }
      case 'CustomerProfileUpdated': {
        const { customerId: _id, ...changes } = event.data;
        return { ...state, ...changes };
      }
      case 'CustomerOwnerAssigned':
        return { ...state, ownerId: event.data.ownerId };
      case 'CustomerAcquired':
        return {
          ...state,
          status: state.status === 'churned' ? 'churned' : 'active',
          acquiredAt: event.occurredAt,
          lifecycleAt: event.occurredAt,
        };
      case 'CustomerChurned':
        return { ...state, status: 'churned', churnedAt: event.occurredAt, lifecycleAt: event.occurredAt };
      case 'CustomerReactivated':
        return { ...state, status: 'active', churnedAt: undefined, lifecycleAt: event.occurredAt };
      case 'PurchaseRecorded':
        return {
          ...state,
          purchases: { count: state.purchases.count + 1, total: state.purchases.total + event.data.amount },
        };
      case 'InteractionLogged': {
        const last = state.lastInteraction;
        // Backdated interactions count, but do not replace a later one as the latest.
        const latest =
          last && Date.parse(last.occurredAt) > Date.parse(event.occurredAt)
            ? last
            : { interactionId: event.data.interactionId, occurredAt: event.occurredAt, channel: event.data.channel };
        return { ...state, interactions: state.interactions + 1, lastInteraction: latest };
      }
      case 'CustomerPersonalDataErased':
        return { ...state, ...erasedFields(state), attributes: undefined, personalDataErased: true };
      case 'CustomerLeadLinked':
        return { ...state, linkedLeadIds: [...(state.linkedLeadIds ?? []), event.data.leadId] };
      case 'CustomerEnrolled':
        return { ...state, campaigns: [...(state.campaigns ?? []), event.data.campaign] };
      case 'CustomerTagged':
        return { ...state, tags: [...(state.tags ?? []), event.data.tag] };
      case 'CustomerArchived':
        return { ...state, ...archivedState(event.occurredAt) };
      case 'CustomerRestored':
        return { ...state, ...restoredState(event.occurredAt) };
      case 'CustomerMerged': {
        const { customerId, mergedId, survivorId } = event.data;
        if (customerId === mergedId) return { ...state, mergedInto: survivorId, mergedAt: event.occurredAt };
        return { ...state, mergedIds: [...(state.mergedIds ?? []).filter((id) => id !== mergedId), mergedId] };
      }
      case 'CustomerUnmerged': {
        const { customerId, mergedId } = event.data;
        if (customerId === mergedId) return { ...state, mergedInto: undefined, mergedAt: undefined };
        return { ...state, mergedIds: (state.mergedIds ?? []).filter((id) => id !== mergedId) };
      }
      default:
        return state;
    }
  },
};
