import { project, Projected, ScenarioEvent } from '../testing/harness';
import { reportParams } from '../testing/report-params';
import { assignmentsProjection } from './projection';
import { assignmentsReport } from './query';

const leadAssigned = (id: string, at: string, ownerId: string, strategy?: string): ScenarioEvent => ({
  streamId: `lead-${id}`,
  type: 'LeadAssigned',
  occurredAt: at,
  data: { leadId: id, ownerId, ...(strategy ? { strategy } : {}) },
});
const customerAssigned = (id: string, at: string, ownerId: string, strategy?: string): ScenarioEvent => ({
  streamId: `customer-${id}`,
  type: 'CustomerOwnerAssigned',
  occurredAt: at,
  data: { customerId: id, ownerId, ...(strategy ? { strategy } : {}) },
});

const scenario: ScenarioEvent[] = [
  leadAssigned('L1', '2024-01-31T23:59:59.999Z', 'ann', 'round-robin'), // January
  leadAssigned('L2', '2024-02-01T00:00:00.000Z', 'bob', 'round-robin'), // February's first instant
  leadAssigned('L3', '2024-02-10T00:00:00.000Z', 'ann', 'manual'),
  customerAssigned('C1', '2024-02-11T00:00:00.000Z', 'ann', 'territory'),
  leadAssigned('L4', '2024-03-01T00:00:00.000Z', 'cid', 'least-busy'), // after the range: cid not listed
];

describe('assignments (fairness) report', () => {
  let p: Projected;
  beforeAll(async () => {
    p = await project(scenario, [assignmentsProjection]);
  });
  afterAll(() => p.close());

  it('per rep per period, zeros included, automatic vs manual, and the spread', async () => {
    const report = await assignmentsReport.run(
      reportParams({ from: '2024-01-01T00:00:00.000Z', to: '2024-03-01T00:00:00.000Z', interval: 'month' }),
      p.context,
    );
    const rep = (ownerId: string, assigned: number, leads: number, customers: number, automatic: number) => ({
      ownerId,
      assigned,
      leads,
      customers,
      automatic,
    });
    expect(report).toEqual({
      interval: 'month',
      periods: [
        {
          start: '2024-01-01T00:00:00.000Z',
          end: '2024-02-01T00:00:00.000Z',
          reps: [rep('ann', 1, 1, 0, 1), rep('bob', 0, 0, 0, 0)],
          spread: 1,
        },
        {
          start: '2024-02-01T00:00:00.000Z',
          end: '2024-03-01T00:00:00.000Z',
          reps: [rep('ann', 2, 1, 1, 1), rep('bob', 1, 1, 0, 1)],
          spread: 1,
        },
      ],
      total: { reps: [rep('ann', 3, 2, 1, 2), rep('bob', 1, 1, 0, 1)], spread: 2 },
    });
  });
});
