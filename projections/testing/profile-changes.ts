import fc from 'fast-check';
import { streamIdOf } from '@chronicle/domain';
import type { ScenarioEvent } from './harness';
import { OWNERS, REGIONS } from './random-history';

/**
 * Adds owner reassignments and region changes to a random history (the random scripts have
 * none): after some events, a registered customer gets a new owner (CustomerOwnerAssigned) or
 * region (CustomerProfileUpdated), at that event's business time. Both are always valid.
 */
export const withProfileChanges = (history: fc.Arbitrary<ScenarioEvent[]>): fc.Arbitrary<ScenarioEvent[]> =>
  fc
    .tuple(history, fc.array(fc.record({ after: fc.nat(), pick: fc.nat(), choice: fc.nat(), region: fc.boolean() }), { maxLength: 12 }))
    .map(([events, changes]) => {
      const out: ScenarioEvent[] = [];
      const owners = new Map<string, string | undefined>();
      const regions = new Map<string, string | undefined>();
      events.forEach((event, i) => {
        out.push(event);
        if (event.type === 'CustomerRegistered') {
          const d = event.data as { customerId: string; ownerId?: string; region?: string };
          owners.set(d.customerId, d.ownerId);
          regions.set(d.customerId, d.region);
        }
        for (const change of changes) {
          if (change.after % Math.max(1, events.length) !== i || owners.size === 0) continue;
          const customers = [...owners.keys()];
          const customerId = customers[change.pick % customers.length];
          if (change.region) {
            const region = REGIONS[change.choice % REGIONS.length];
            if (region === regions.get(customerId)) continue;
            regions.set(customerId, region);
            out.push({
              streamId: streamIdOf('customer', customerId),
              type: 'CustomerProfileUpdated',
              data: { customerId, region },
              occurredAt: event.occurredAt,
            });
          } else {
            const ownerId = OWNERS[change.choice % OWNERS.length];
            const previousOwnerId = owners.get(customerId);
            if (ownerId === previousOwnerId) continue;
            owners.set(customerId, ownerId);
            out.push({
              streamId: streamIdOf('customer', customerId),
              type: 'CustomerOwnerAssigned',
              data: { customerId, ownerId, ...(previousOwnerId ? { previousOwnerId } : {}) },
              occurredAt: event.occurredAt,
            });
          }
        }
      });
      return out;
    });
