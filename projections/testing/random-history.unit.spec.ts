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

  it('with reopens, reopen won and lost deals, which then close again', () => {
    let reopened = 0;
    let closedAgain = 0;
    fc.assert(
      fc.property(historyArbitrary({ minSteps: 80, maxSteps: 120, reopens: true }), (events) => {
        const reopens = new Map<string, number>();
        for (const e of events) {
          if (e.type === 'DealReopened') {
            reopened += 1;
            reopens.set(e.streamId, (reopens.get(e.streamId) ?? 0) + 1);
          } else if ((e.type === 'DealWon' || e.type === 'DealLost') && reopens.has(e.streamId)) closedAgain += 1;
        }
      }),
      { numRuns: 10, seed: 7 },
    );
    expect(reopened).toBeGreaterThan(20);
    expect(closedAgain).toBeGreaterThan(10);
  });
});
