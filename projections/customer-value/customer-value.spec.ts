import fc from 'fast-check';
import { InvalidInput } from '@chronicle/domain';
import { appendAndProject } from '../testing/append';
import { project, Projected, ScenarioEvent } from '../testing/harness';
import { asMerged, lastTimeOf, mergeEvents, mergePair, unmergeEvents } from '../testing/merge';
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

  it('withdraws a reopened win; won again, the deal counts with its new amount; a customer acquired by a reopened win stays acquired', async () => {
    const deal = (dealId: string, customerId: string, type: string, occurredAt: string, data: Record<string, unknown>): ScenarioEvent => ({
      streamId: `deal-${dealId}`,
      type,
      occurredAt,
      data: { dealId, customerId, ...data },
    });
    const reopened = (dealId: string, customerId: string, occurredAt: string, data: Record<string, unknown>) =>
      deal(dealId, customerId, 'DealReopened', occurredAt, { ownerId: 'u1', stage: 'proposal', closedStage: 'proposal', ...data });
    p = await project(
      [
        registered('C1', 'Acme'),
        registered('C2', 'Beta'),
        registered('C3', 'Gamma'),
        purchase('C1', 100),
        // Acquired by a win reopened since: still acquired, with no revenue.
        deal('R3', 'C3', 'DealWon', '2024-02-01T00:00:00.000Z', { amount: 200, stage: 'proposal' }),
        reopened('R3', 'C3', '2024-02-20T00:00:00.000Z', { amount: 200, outcome: 'won', closedAt: '2024-02-01T00:00:00.000Z' }),
        deal('R1', 'C1', 'DealWon', '2024-02-02T00:00:00.000Z', { amount: 1000, stage: 'proposal' }),
        reopened('R1', 'C1', '2024-03-01T00:00:00.000Z', { amount: 1000, outcome: 'won', closedAt: '2024-02-02T00:00:00.000Z' }),
        // A lost deal reopened: nothing was counted, nothing changes.
        deal('R2', 'C2', 'DealLost', '2024-02-03T00:00:00.000Z', { amount: 400, stage: 'proposal', reason: 'price' }),
        reopened('R2', 'C2', '2024-03-02T00:00:00.000Z', {
          amount: 400,
          outcome: 'lost',
          closedAt: '2024-02-03T00:00:00.000Z',
          lostReason: 'price',
        }),
      ],
      [customerValueProjection],
    );
    const acme = { customerId: 'C1', name: 'Acme', purchases: 1, purchaseRevenue: 100 };
    const gamma = { customerId: 'C3', name: 'Gamma', revenue: 0, wonDeals: 0, wonRevenue: 0, purchases: 0, purchaseRevenue: 0 };
    expect(await customerValueReport.run(reportParams({ limit: 5 }), p.context)).toEqual({
      asOf: expect.any(String),
      customers: 2,
      revenue: 100,
      averageClv: 50,
      top: [{ ...acme, revenue: 100, wonDeals: 0, wonRevenue: 0 }, gamma],
    });
    await appendAndProject(p, [
      deal('R1', 'C1', 'DealAmountChanged', '2024-03-05T00:00:00.000Z', { from: 1000, to: 1500 }),
      deal('R1', 'C1', 'DealWon', '2024-03-10T00:00:00.000Z', { amount: 1500, stage: 'proposal' }),
    ]);
    expect(await customerValueReport.run(reportParams({ limit: 5 }), p.context)).toEqual({
      asOf: expect.any(String),
      customers: 2,
      revenue: 1600,
      averageClv: 800,
      top: [{ ...acme, revenue: 1600, wonDeals: 1, wonRevenue: 1500 }, gamma],
    });
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

  it('matches for random histories with reopened deals (closed, reopened, closed again)', async () => {
    let withReopens = 0;
    await fc.assert(
      fc.asyncProperty(
        historyArbitrary({ minSteps: 100, maxSteps: 250, reopens: true }),
        fc.integer({ min: 1, max: 8 }),
        async (history, limit) => {
          const p = await project(history, [customerValueProjection]);
          try {
            const served = await customerValueReport.run(reportParams({ limit }), p.context);
            expect(served).toEqual(customerValueReference(p.events, limit, served.asOf));
            if (p.events.some((e) => e.type === 'DealReopened')) withReopens += 1;
          } finally {
            await p.close();
          }
        },
      ),
      { numRuns: 15, seed: 1613 },
    );
    expect(withReopens).toBeGreaterThan(5);
  });
});

describe('customer-value report: merges', () => {
  let p: Projected;
  afterEach(() => p?.close());

  const deal = (dealId: string, customerId: string, type: string, occurredAt: string, data: Record<string, unknown>): ScenarioEvent => ({
    streamId: `deal-${dealId}`,
    type,
    occurredAt,
    data: { dealId, customerId, ...data },
  });
  const report = async () => customerValueReport.run(reportParams({ limit: 5 }), p.context);
  const row = (customerId: string, name: string, wonDeals: number, wonRevenue: number, purchases: number, purchaseRevenue: number) => ({
    customerId,
    name,
    revenue: wonRevenue + purchaseRevenue,
    wonDeals,
    wonRevenue,
    purchases,
    purchaseRevenue,
  });

  it("the survivor's value adds the merged customer's revenue, recorded before or while merged; the merged customer leaves the ranking and the averages; unmerged, all returns", async () => {
    p = await project(
      [
        registered('C1', 'Acme'), // the survivor
        registered('C2', 'Acme Inc'), // its duplicate
        registered('C3', 'Gamma'),
        purchase('C1', 100),
        deal('W1', 'C2', 'DealWon', '2024-02-01T00:00:00.000Z', { amount: 500, stage: 'proposal' }),
        purchase('C2', 50),
        purchase('C3', 300),
      ],
      [customerValueProjection],
    );
    const unmerged = {
      asOf: expect.any(String),
      customers: 3,
      revenue: 950,
      averageClv: 316.67,
      top: [row('C2', 'Acme Inc', 1, 500, 1, 50), row('C3', 'Gamma', 0, 0, 1, 300), row('C1', 'Acme', 0, 0, 1, 100)],
    };
    expect(await report()).toEqual(unmerged);

    await appendAndProject(p, mergeEvents('C2', 'C1', '2024-03-01T00:00:00.000Z', 'same company'));
    expect(await report()).toEqual({
      asOf: expect.any(String),
      customers: 2,
      revenue: 950,
      averageClv: 475,
      top: [row('C1', 'Acme', 1, 500, 2, 150), row('C3', 'Gamma', 0, 0, 1, 300)],
    });

    // The merged customer's deals keep closing under its id while merged: they count for the survivor.
    await appendAndProject(p, [
      deal('W2', 'C2', 'DealWon', '2024-03-05T00:00:00.000Z', { amount: 1000, stage: 'proposal' }),
      deal('W1', 'C2', 'DealReopened', '2024-03-06T00:00:00.000Z', {
        ownerId: 'u1',
        amount: 500,
        stage: 'proposal',
        outcome: 'won',
        closedAt: '2024-02-01T00:00:00.000Z',
        closedStage: 'proposal',
      }),
      purchase('C1', 25),
    ]);
    expect(await report()).toEqual({
      asOf: expect.any(String),
      customers: 2,
      revenue: 1475,
      averageClv: 737.5,
      top: [row('C1', 'Acme', 1, 1000, 3, 175), row('C3', 'Gamma', 0, 0, 1, 300)],
    });

    // Unmerged: what was recorded while merged stays where it was recorded (W2 is C2's, C1's purchase C1's).
    await appendAndProject(p, unmergeEvents('C2', 'C1', '2024-04-01T00:00:00.000Z', 'not the same'));
    expect(await report()).toEqual({
      asOf: expect.any(String),
      customers: 3,
      revenue: 1475,
      averageClv: 491.67,
      top: [row('C2', 'Acme Inc', 1, 1000, 1, 50), row('C3', 'Gamma', 0, 0, 1, 300), row('C1', 'Acme', 0, 0, 2, 125)],
    });
  });

  it('a survivor never acquired is acquired through its merged customer, and is not after the unmerge, also when merged again elsewhere', async () => {
    p = await project([registered('C1', 'Acme'), registered('C2', 'Acme Inc'), purchase('C2', 40)], [customerValueProjection]);
    const before = await report();
    expect(before).toMatchObject({ customers: 1, revenue: 40, top: [row('C2', 'Acme Inc', 0, 0, 1, 40)] });
    await appendAndProject(p, mergeEvents('C2', 'C1', '2024-03-01T00:00:00.000Z'));
    expect(await report()).toMatchObject({ customers: 1, revenue: 40, averageClv: 40, top: [row('C1', 'Acme', 0, 0, 1, 40)] });
    // Merged again, into another survivor (C3, acquired): C1 returns to never acquired.
    await appendAndProject(p, [
      ...unmergeEvents('C2', 'C1', '2024-03-02T00:00:00.000Z'),
      registered('C3', 'Gamma'),
      purchase('C3', 10),
      ...mergeEvents('C2', 'C3', '2024-03-03T00:00:00.000Z'),
    ]);
    expect(await report()).toMatchObject({ customers: 1, revenue: 50, averageClv: 50, top: [row('C3', 'Gamma', 0, 0, 2, 50)] });
    await appendAndProject(p, unmergeEvents('C2', 'C3', '2024-03-04T00:00:00.000Z'));
    expect(await report()).toMatchObject({
      customers: 2,
      revenue: 50,
      averageClv: 25,
      top: [row('C2', 'Acme Inc', 0, 0, 1, 40), row('C3', 'Gamma', 0, 0, 1, 10)],
    });
  });
});

describe('customer-value report after a merge = the asMerged history, after the unmerge = the history (property)', () => {
  it('matches for random histories with reopened deals', async () => {
    let withMerged = 0;
    await fc.assert(
      fc.asyncProperty(
        historyArbitrary({ minSteps: 100, maxSteps: 250, reopens: true }),
        fc.integer({ min: 1, max: 8 }),
        fc.nat(10_000),
        async (history, limit, pick) => {
          const pair = mergePair(history, pick);
          if (!pair) return;
          const [mergedId, survivorId] = pair;
          const p = await project(history, [customerValueProjection]);
          try {
            const run = () => customerValueReport.run(reportParams({ limit }), p.context);
            const before = await run();
            // The reference fold of the history as the merge reads it (stored events keep their positions, which it needs for reopens).
            const recorded = p.events as unknown as ScenarioEvent[];
            const merged = asMerged(recorded, mergedId, survivorId) as unknown as typeof p.events;
            const at = new Date(Date.parse(lastTimeOf(history)) + 60_000).toISOString();
            await appendAndProject(p, mergeEvents(mergedId, survivorId, at));
            const served = await run();
            expect(served).toEqual(customerValueReference(merged, limit, served.asOf));
            if (before.top.some((c) => c.customerId === mergedId)) withMerged += 1;
            await appendAndProject(p, unmergeEvents(mergedId, survivorId, at));
            // asOf is the time the report ran.
            expect(await run()).toEqual({ ...before, asOf: expect.any(String) });
          } finally {
            await p.close();
          }
        },
      ),
      { numRuns: 15, seed: 1616 },
    );
    expect(withMerged).toBeGreaterThan(3);
  });
});
