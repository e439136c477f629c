import fc from 'fast-check';
import { InvalidInput } from '@chronicle/domain';
import { project, Projected, ScenarioEvent } from '../testing/harness';
import { historyArbitrary } from '../testing/random-history';
import { reportParams } from '../testing/report-params';
import { customerValueProjection } from './projection';
import { customerValueReport } from './query';
import { customerValueReference } from './reference';

const customer = (id: string, type: string, occurredAt: string, data: Record<string, unknown> = {}): ScenarioEvent => ({
  streamId: `customer-${id}`,
  type,
  occurredAt,
  data: { customerId: id, ...data },
});
const registered = (id: string, name: string) => customer(id, 'CustomerRegistered', '2024-01-01T00:00:00.000Z', { name, source: 'web' });
let n = 0;
const purchase = (id: string, amount: number) =>
  customer(id, 'PurchaseRecorded', '2024-02-01T00:00:00.000Z', { purchaseId: `p${++n}`, amount });
const won = (customerId: string, amount: number): ScenarioEvent => ({
  streamId: `deal-D${++n}`,
  type: 'DealWon',
  occurredAt: '2024-02-01T00:00:00.000Z',
  data: { dealId: `D${n}`, customerId, amount, stage: 'proposal' },
});

const scenario: ScenarioEvent[] = [
  registered('C1', 'Acme'),
  registered('C2', 'Beta'),
  registered('C3', 'Gamma'), // never buys
  registered('C4', 'Delta'),
  registered('C5', 'Epsilon'),
  won('C1', 1000),
  purchase('C1', 250.125),
  purchase('C2', 1250.125), // the same revenue as C1: ties go by id
  purchase('C4', 0), // acquired, with no revenue
  won('C5', 5000),
  customer('C2', 'CustomerProfileUpdated', '2024-03-01T00:00:00.000Z', { name: 'Beta Ltd' }),
];

describe('customer-value report', () => {
  let p: Projected;
  afterEach(() => p?.close());

  it('lifetime revenue (won deals + purchases): top N and average CLV over acquired customers', async () => {
    p = await project(scenario, [customerValueProjection]);
    expect(await customerValueReport.run(reportParams({ limit: 3 }), p.context)).toEqual({
      asOf: expect.any(String),
      customers: 4,
      revenue: 7500.25,
      averageClv: 1875.06, // 7500.25 / 4 = 1875.0625
      top: [
        { customerId: 'C5', name: 'Epsilon', revenue: 5000, wonDeals: 1, wonRevenue: 5000, purchases: 0, purchaseRevenue: 0 },
        { customerId: 'C1', name: 'Acme', revenue: 1250.13, wonDeals: 1, wonRevenue: 1000, purchases: 1, purchaseRevenue: 250.13 },
        { customerId: 'C2', name: 'Beta Ltd', revenue: 1250.13, wonDeals: 0, wonRevenue: 0, purchases: 1, purchaseRevenue: 1250.13 },
      ],
    });
    const all = await customerValueReport.run(reportParams({ limit: 100 }), p.context);
    expect(all.top.map((c) => c.customerId)).toEqual(['C5', 'C1', 'C2', 'C4']); // C3 was never acquired
    await expect(customerValueReport.run(reportParams({ asOf: '2024-01-15T00:00:00.000Z' }), p.context)).rejects.toBeInstanceOf(
      InvalidInput,
    );
  });

  it('has no average before the first customer is acquired', async () => {
    p = await project([registered('C1', 'Acme')], [customerValueProjection]);
    expect(await customerValueReport.run(reportParams(), p.context)).toEqual({
      asOf: expect.any(String),
      customers: 0,
      revenue: 0,
      averageClv: null,
      top: [],
    });
  });
});

describe('customer-value report = a fold of the raw events (property)', () => {
  it('matches for random histories', async () => {
    let withCustomers = 0;
    await fc.assert(
      fc.asyncProperty(historyArbitrary({ minSteps: 100, maxSteps: 300 }), fc.integer({ min: 1, max: 8 }), async (history, limit) => {
        const p = await project(history, [customerValueProjection]);
        try {
          const served = await customerValueReport.run(reportParams({ limit }), p.context);
          expect(served).toEqual(customerValueReference(p.events, limit, served.asOf));
          if (served.customers > 1) withCustomers += 1;
        } finally {
          await p.close();
        }
      }),
      { numRuns: 25, seed: 67 },
    );
    expect(withCustomers).toBeGreaterThan(10);
  });
});
