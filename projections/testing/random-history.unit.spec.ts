import fc from 'fast-check';
import { historyArbitrary } from './random-history';

describe('random histories (test support)', () => {
  it('produce valid, business-time-ordered scripts covering every aggregate', () => {
    const seen = new Set<string>();
    fc.assert(
      fc.property(historyArbitrary({ minSteps: 80, maxSteps: 120 }), (events) => {
        for (let i = 1; i < events.length; i++)
          expect(Date.parse(events[i].occurredAt)).toBeGreaterThanOrEqual(Date.parse(events[i - 1].occurredAt));
        events.forEach((e) => seen.add(e.type));
      }),
      { numRuns: 30, seed: 7 },
    );
    for (const type of [
      'CustomerRegistered',
      'CustomerAcquired',
      'DealOpened',
      'DealStageChanged',
      'DealWon',
      'DealLost',
      'LeadCaptured',
      'LeadConverted',
      'SpendRecorded',
      'TaskCreated',
      'CustomerChurned',
    ]) {
      expect(seen).toContain(type);
    }
  });

  it('with taskChanges, also edit, cancel and reassign tasks', () => {
    const seen = new Set<string>();
    fc.assert(
      fc.property(historyArbitrary({ minSteps: 80, maxSteps: 120, taskChanges: true }), (events) =>
        events.forEach((e) => seen.add(e.type)),
      ),
      { numRuns: 10, seed: 7 },
    );
    for (const type of ['TaskUpdated', 'TaskCancelled', 'TaskReassigned', 'TaskCompleted']) expect(seen).toContain(type);
  });
});
