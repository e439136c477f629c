import type { RecordedEvent } from '@chronicle/event-store';
import type { ProjectionContext } from '@chronicle/projector';
import { projections } from '../index';
import { defineProjection, onEach } from './define-projection';

const event = (type: string, data: unknown = {}): RecordedEvent => ({
  eventId: 'e1',
  type,
  schemaVersion: 1,
  streamId: 's-1',
  streamRevision: 0,
  globalPosition: 1,
  occurredAt: '2024-01-01T00:00:00.000Z',
  recordedAt: '2024-01-01T00:00:00.000Z',
  actor: 'tester',
  correlationId: 'c',
  causationId: 'c',
  data,
  metadata: {},
});
const ctx = {} as ProjectionContext;

describe('defineProjection', () => {
  it('derives the event types from the handlers and hands each event to its own', async () => {
    const seen: string[] = [];
    const projection = defineProjection({
      name: 'p',
      version: 4,
      collections: ['c'],
      indexes: { c: ['x'] },
      scrubAfter: ['CustomerPersonalDataErased'],
      on: {
        DealOpened: (e) => void seen.push(`opened ${e.data.dealId} ${e.data.amount}`),
        DealWon: async (e) => void seen.push(`won ${e.data.customerId}`),
        DealLost: undefined,
      },
    });
    expect(projection).toMatchObject({
      name: 'p',
      version: 4,
      collections: ['c'],
      indexes: { c: ['x'] },
      scrubAfter: ['CustomerPersonalDataErased'],
    });
    expect(projection.eventTypes).toEqual(['DealOpened', 'DealWon']);
    expect(projection.apply(event('DealOpened', { dealId: 'd1', amount: 5 }), ctx)).toBeUndefined(); // synchronous stays synchronous
    await projection.apply(event('DealWon', { customerId: 'c1' }), ctx);
    // Types it has no handler for (also inherited names) are ignored.
    for (const type of ['DealLost', 'CustomerRegistered', 'toString', 'constructor'])
      expect(projection.apply(event(type), ctx)).toBeUndefined();
    expect(seen).toEqual(['opened d1 5', 'won c1']);
  });

  it('rejects a name that is not an event type', () => {
    // @ts-expect-error not an event type: a typo is a compile error too
    expect(() => defineProjection({ name: 'p', version: 1, collections: [], on: { DealOpend: () => undefined } })).toThrow(
      'DealOpend is not an event type',
    );
    expect(() => onEach(['LeadCaptured', 'Nope'], () => undefined)).toThrow('Nope is not an event type');
  });

  it('onEach gives every listed type the same handler', () => {
    const handler = () => undefined;
    expect(onEach(['LeadCaptured', 'LeadScored'], handler)).toEqual({ LeadCaptured: handler, LeadScored: handler });
  });

  it('keeps every built-in projection on the event types it read before handlers derived them', () => {
    const before: Record<string, string[]> = {
      customers: [
        'CustomerRegistered',
        'CustomerProfileUpdated',
        'CustomerPersonalDataErased',
        'CustomerOwnerAssigned',
        'CustomerTagged',
        'CustomerEnrolled',
        'CustomerAcquired',
        'CustomerChurned',
        'CustomerReactivated',
        'PurchaseRecorded',
        'InteractionLogged',
        'DealOpened',
        'DealWon',
        'DealLost',
        'DealReopened',
        'CustomerArchived',
        'CustomerRestored',
        'CustomerMerged',
        'CustomerUnmerged',
      ],
      'customer-timeline': [
        'CustomerRegistered',
        'CustomerAcquired',
        'CustomerChurned',
        'CustomerReactivated',
        'CustomerArchived',
        'CustomerRestored',
        'PurchaseRecorded',
        'InteractionLogged',
        'DealOpened',
        'DealStageChanged',
        'DealWon',
        'DealLost',
        'DealReopened',
        'CustomerPersonalDataErased',
        'CustomerOwnerAssigned',
        'CustomerTagged',
        'CustomerEnrolled',
        'TaskCreated',
        'TaskUpdated',
        'TaskCompleted',
        'TaskCancelled',
        'TaskReassigned',
        'CustomerMerged',
        'CustomerUnmerged',
      ],
      deals: [
        'DealOpened',
        'DealStageChanged',
        'DealAmountChanged',
        'DealExpectedCloseDateChanged',
        'DealWon',
        'DealLost',
        'DealReopened',
        'DealOwnerAssigned',
        'DealArchived',
        'DealRestored',
        'CustomerMerged',
        'CustomerUnmerged',
      ],
      leads: [
        'LeadCaptured',
        'LeadScored',
        'LeadAssigned',
        'LeadQualified',
        'LeadDisqualified',
        'LeadConverted',
        'LeadPersonalDataErased',
        'LeadArchived',
        'LeadRestored',
      ],
      tasks: [
        'TaskCreated',
        'TaskCompleted',
        'TaskUpdated',
        'TaskReassigned',
        'TaskCancelled',
        'CustomerPersonalDataErased',
        'LeadPersonalDataErased',
        'CustomerMerged',
        'CustomerUnmerged',
      ],
      pipeline: [
        'DealOpened',
        'DealStageChanged',
        'DealAmountChanged',
        'DealWon',
        'DealLost',
        'DealArchived',
        'DealRestored',
        'DealReopened',
      ],
      churn: [
        'CustomerRegistered',
        'CustomerProfileUpdated',
        'CustomerOwnerAssigned',
        'CustomerAcquired',
        'CustomerChurned',
        'CustomerReactivated',
        'CustomerMerged',
        'CustomerUnmerged',
      ],
      'sales-cycle': ['DealOpened', 'DealStageChanged', 'DealWon', 'DealLost', 'DealReopened'],
      cac: ['SpendRecorded', 'CustomerAcquired', 'CustomerMerged', 'CustomerUnmerged'],
      'lead-funnel': ['LeadCaptured', 'LeadQualified', 'LeadDisqualified', 'LeadConverted', 'SpendRecorded'],
      forecast: [
        'DealOpened',
        'DealStageChanged',
        'DealAmountChanged',
        'DealExpectedCloseDateChanged',
        'DealWon',
        'DealLost',
        'DealArchived',
        'DealRestored',
        'DealReopened',
      ],
      'owner-activity': [
        'DealOpened',
        'DealWon',
        'DealLost',
        'DealReopened',
        'InteractionLogged',
        'TaskCreated',
        'TaskCompleted',
        'TaskReassigned',
        'TaskCancelled',
      ],
      'lost-deals': ['DealLost', 'DealReopened'],
      'deal-outcomes': ['DealOpened', 'DealWon', 'DealLost', 'DealReopened'],
      campaigns: [
        'CampaignLaunched',
        'CustomerAcquired',
        'CustomerLeadLinked',
        'CustomerRegistered',
        'DealWon',
        'DealReopened',
        'LeadCaptured',
        'LeadConverted',
        'PurchaseRecorded',
        'SpendRecorded',
        'CustomerMerged',
        'CustomerUnmerged',
      ],
      'customer-value': [
        'CustomerRegistered',
        'CustomerProfileUpdated',
        'CustomerPersonalDataErased',
        'PurchaseRecorded',
        'DealWon',
        'DealReopened',
        'CustomerMerged',
        'CustomerUnmerged',
      ],
      duplicates: [
        'CustomerRegistered',
        'CustomerProfileUpdated',
        'CustomerPersonalDataErased',
        'CustomerArchived',
        'CustomerRestored',
        'CustomerMerged',
        'CustomerUnmerged',
      ],
      goals: ['GoalSet', 'GoalCancelled'],
      assignments: ['LeadAssigned', 'CustomerOwnerAssigned'],
      'lead-scores': ['LeadCaptured', 'LeadScored', 'LeadConverted'],
      'forecast-accuracy': [
        'DealOpened',
        'DealStageChanged',
        'DealAmountChanged',
        'DealWon',
        'DealLost',
        'DealReopened',
        'DealArchived',
        'DealRestored',
      ],
      'lead-response': [
        'LeadCaptured',
        'LeadAssigned',
        'LeadInteractionLogged',
        'TaskCreated',
        'TaskCompleted',
        'TaskReassigned',
        'TaskCancelled',
      ],
      'upcoming-activity': ['TaskCreated', 'TaskCompleted', 'TaskReassigned', 'TaskUpdated', 'TaskCancelled'],
      engagement: [
        'DealOpened',
        'DealOwnerAssigned',
        'DealWon',
        'DealLost',
        'DealReopened',
        'InteractionLogged',
        'LeadAssigned',
        'LeadInteractionLogged',
        'LeadConverted',
        'LeadDisqualified',
      ],
    };
    const now = Object.fromEntries(projections.map((p) => [p.name, [...(p.eventTypes ?? [])].sort()]));
    expect(now).toEqual(Object.fromEntries(Object.entries(before).map(([name, types]) => [name, [...types].sort()])));
  });
});
