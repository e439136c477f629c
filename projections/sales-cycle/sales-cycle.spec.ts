import fc from 'fast-check';
import { defaultPipeline } from '@chronicle/domain';
import { project, Projected, ScenarioEvent } from '../testing/harness';
import { historyArbitrary } from '../testing/random-history';
import { salesCycleProjection } from './projection';
import { buildSalesCycleReport, salesCycleReport } from './query';
import { referenceSalesCycle } from './reference';

const DAY = 86_400_000;
const iso = (ms: number) => new Date(ms).toISOString();
const deal = (id: string, type: string, occurredAt: string, data: Record<string, unknown> = {}): ScenarioEvent => ({
  streamId: `deal-${id}`,
  type,
  data: { dealId: id, ...data },
  occurredAt,
});
const opened = (id: string, occurredAt: string, stage: string, source: string, ownerId: string) =>
  deal(id, 'DealOpened', occurredAt, { customerId: 'c1', title: id, amount: 100, ownerId, source, stage });
const won = (id: string, occurredAt: string, stage = 'negotiation') =>
  deal(id, 'DealWon', occurredAt, { customerId: 'c1', amount: 100, stage });
const moved = (id: string, occurredAt: string, from: string, to: string) => deal(id, 'DealStageChanged', occurredAt, { from, to });

describe('sales-cycle report', () => {
  let p: Projected | undefined;
  afterEach(async () => {
    await p?.close();
    p = undefined;
  });

  it('hand-computed: cycle statistics per group and time per stage, with exact range ends', async () => {
    const feb10 = Date.parse('2024-02-10T00:00:00.000Z');
    p = await project(
      [
        // y: won before the range (excluded)
        opened('y', '2023-12-01T00:00:00.000Z', 'negotiation', 'web', 'u1'),
        won('y', '2023-12-15T00:00:00.000Z'),
        // l1: qualification → proposal on Jan 1 06:00 (before `from`, same day: excluded), lost Jan 3 06:00 (proposal: 2 d)
        opened('l1', '2023-12-20T00:00:00.000Z', 'qualification', 'web', 'u3'),
        moved('l1', '2024-01-01T06:00:00.000Z', 'qualification', 'proposal'),
        deal('l1', 'DealLost', '2024-01-03T06:00:00.000Z', { customerId: 'c1', amount: 100, stage: 'proposal', reason: 'price' }),
        // w1: won exactly at `from` (included): 1 d in negotiation, cycle 1 d
        opened('w1', '2023-12-31T12:00:00.000Z', 'negotiation', 'web', 'u1'),
        won('w1', '2024-01-01T12:00:00.000Z'),
        // s1: qualification 4 d (Jan 10 → Jan 14), needs-analysis 1.5 d (→ Jan 15 12:00), still open
        opened('s1', '2024-01-10T00:00:00.000Z', 'qualification', 'referral', 'u3'),
        moved('s1', '2024-01-14T00:00:00.000Z', 'qualification', 'needs-analysis'),
        moved('s1', '2024-01-15T12:00:00.000Z', 'needs-analysis', 'proposal'),
        // a1: proposal 4 d (Feb 1 → Feb 5), negotiation 8.25 d (→ Feb 13 06:00): cycle 12.25 d
        opened('a1', '2024-02-01T00:00:00.000Z', 'proposal', 'ads', 'u2'),
        moved('a1', '2024-02-05T00:00:00.000Z', 'proposal', 'negotiation'),
        won('a1', '2024-02-13T06:00:00.000Z'),
        // w2…w9: opened Feb 10 in negotiation, wk won k days later
        ...[2, 3, 4, 5, 6, 7, 8, 9].flatMap((k) => [
          opened(`w${k}`, iso(feb10), 'negotiation', 'web', 'u1'),
          won(`w${k}`, iso(feb10 + k * DAY)),
        ]),
        // w10: 30 d, won a millisecond before `to` (included)
        opened('w10', '2024-03-01T11:59:59.999Z', 'negotiation', 'web', 'u1'),
        won('w10', '2024-03-31T11:59:59.999Z'),
        // x: won exactly at `to` (excluded, its exit too)
        opened('x', '2024-03-20T12:00:00.000Z', 'negotiation', 'web', 'u1'),
        won('x', '2024-03-31T12:00:00.000Z'),
      ],
      [salesCycleProjection],
    );
    const params = {
      from: '2024-01-01T12:00:00.000Z',
      to: '2024-03-31T12:00:00.000Z',
      interval: 'month' as const,
      asOf: '2024-04-01T00:00:00.000Z',
      limit: 10,
    };
    const stages = [
      { stage: 'qualification', exits: 1, avgDays: 4 }, // s1
      { stage: 'needs-analysis', exits: 1, avgDays: 1.5 }, // s1
      { stage: 'proposal', exits: 2, avgDays: 3 }, // l1 2 d, a1 4 d: 6 / 2
      // w1…w10: 1 + (2 + … + 9) + 30 = 75; a1: 8.25 → 83.25 / 11 = 7.5681… → 7.57
      { stage: 'negotiation', exits: 11, avgDays: 7.57 },
    ];
    // Cycles: web 1, 2, …, 9, 30; ads 12.25.
    // overall (11): Σ = 75 + 12.25 = 87.25, / 11 = 7.9318… → 7.93; median = 6th smallest = 6;
    //   p90 = ⌈0.9 · 11⌉ = ⌈9.9⌉ = 10th smallest of 1…9, 12.25, 30 = 12.25
    const overall = { key: 'all', wonDeals: 11, avgDays: 7.93, medianDays: 6, p90Days: 12.25 };
    // web (10): 75 / 10 = 7.5; median = (5th + 6th) / 2 = (5 + 6) / 2 = 5.5; p90 = ⌈0.9 · 10⌉ = 9th smallest = 9
    const web = { wonDeals: 10, avgDays: 7.5, medianDays: 5.5, p90Days: 9 };
    const ads = { wonDeals: 1, avgDays: 12.25, medianDays: 12.25, p90Days: 12.25 };
    expect(await salesCycleReport.run({ ...params, groupBy: 'source' }, p.context)).toEqual({
      from: params.from,
      to: params.to,
      overall,
      groups: [
        { key: 'ads', ...ads },
        { key: 'web', ...web },
      ],
      stages,
    });
    // By owner: u1 owns the web deals, u2 the ads one; u3's deals were never won (no line).
    expect(await buildSalesCycleReport({ ...params, groupBy: 'owner' }, p.context)).toEqual({
      from: params.from,
      to: params.to,
      overall,
      groups: [
        { key: 'u1', ...web },
        { key: 'u2', ...ads },
      ],
      stages,
    });
    expect((await buildSalesCycleReport(params, p.context)).groups).toEqual([]);

    // One whole day (from day sums only): l1 left qualification at 06:00 after Dec 20 → Jan 1 06:00 = 12.25 d; w1 won at 12:00.
    const jan1 = {
      overall: { key: 'all', wonDeals: 1, avgDays: 1, medianDays: 1, p90Days: 1 },
      stages: [
        { stage: 'qualification', exits: 1, avgDays: 12.25 },
        { stage: 'needs-analysis', exits: 0, avgDays: null },
        { stage: 'proposal', exits: 0, avgDays: null },
        { stage: 'negotiation', exits: 1, avgDays: 1 },
      ],
    };
    expect(await buildSalesCycleReport({ from: '2024-01-01T00:00:00.000Z', to: '2024-01-02T00:00:00.000Z' }, p.context)).toMatchObject(
      jan1,
    );
    // Part of one day (single exits only).
    expect(await buildSalesCycleReport({ from: '2024-01-01T05:00:00.000Z', to: '2024-01-01T13:00:00.000Z' }, p.context)).toMatchObject(
      jan1,
    );

    // Nothing won and no exit: zero denominators give null.
    expect(
      await buildSalesCycleReport({ from: '2025-01-01T00:00:00.000Z', to: '2025-02-01T00:00:00.000Z', groupBy: 'source' }, p.context),
    ).toEqual({
      from: '2025-01-01T00:00:00.000Z',
      to: '2025-02-01T00:00:00.000Z',
      overall: { key: 'all', wonDeals: 0, avgDays: null, medianDays: null, p90Days: null },
      groups: [],
      stages: defaultPipeline.stages.map((s) => ({ stage: s.name, exits: 0, avgDays: null })),
    });
  });

  it('reopened deals: a win counts at the last close, the cycle from the opening; time closed is in no stage', async () => {
    const lostData = { customerId: 'c1', amount: 100, stage: 'qualification', reason: 'price' };
    const reopened = (id: string, occurredAt: string, stage: string, outcome: 'won' | 'lost', closedAt: string, closedStage: string) =>
      deal(id, 'DealReopened', occurredAt, {
        customerId: 'c1',
        ownerId: 'u9', // reassigned meanwhile: the groups stay those at opening
        amount: 100,
        stage,
        outcome,
        closedAt,
        closedStage,
        ...(outcome === 'lost' ? { lostReason: 'price' } : {}),
      });
    const history = [
      // R1: proposal 10 d, won Jan 11; reopened Feb 5 in negotiation, won Feb 7 (2 d there): cycle Jan 1 → Feb 7 = 37 d
      opened('R1', '2024-01-01T00:00:00.000Z', 'proposal', 'web', 'u1'),
      won('R1', '2024-01-11T00:00:00.000Z', 'proposal'),
      // R2: qualification 20 d, lost Jan 31; reopened at February's first instant, won Feb 11 (10 d): cycle 31 d
      opened('R2', '2024-01-11T00:00:00.000Z', 'qualification', 'ads', 'u2'),
      deal('R2', 'DealLost', '2024-01-31T00:00:00.000Z', lostData),
      // R3: negotiation 15 d, won Jan 20; reopened Mar 1, still open
      opened('R3', '2024-01-05T00:00:00.000Z', 'negotiation', 'web', 'u1'),
      won('R3', '2024-01-20T00:00:00.000Z'),
      reopened('R2', '2024-02-01T00:00:00.000Z', 'qualification', 'lost', '2024-01-31T00:00:00.000Z', 'qualification'),
      reopened('R1', '2024-02-05T00:00:00.000Z', 'negotiation', 'won', '2024-01-11T00:00:00.000Z', 'proposal'),
      won('R1', '2024-02-07T00:00:00.000Z'),
      won('R2', '2024-02-11T00:00:00.000Z', 'qualification'),
      reopened('R3', '2024-03-01T00:00:00.000Z', 'proposal', 'won', '2024-01-20T00:00:00.000Z', 'negotiation'),
    ];
    const JAN = { from: '2024-01-01T00:00:00.000Z', to: '2024-02-01T00:00:00.000Z' };
    const FEB = { from: '2024-02-01T00:00:00.000Z', to: '2024-03-01T00:00:00.000Z' };
    const janStages = [
      { stage: 'qualification', exits: 1, avgDays: 20 }, // R2's stay ended by its loss stands
      { stage: 'needs-analysis', exits: 0, avgDays: null },
      { stage: 'proposal', exits: 1, avgDays: 10 }, // R1's, ended by its first win
      { stage: 'negotiation', exits: 1, avgDays: 15 }, // R3's
    ];
    // Before the reopens: January holds R1 (10 d) and R3 (15 d).
    p = await project(
      history.filter((e) => e.occurredAt < '2024-02-01'),
      [salesCycleProjection],
    );
    expect(await buildSalesCycleReport(JAN, p.context)).toMatchObject({
      overall: { key: 'all', wonDeals: 2, avgDays: 12.5, medianDays: 12.5, p90Days: 15 },
      stages: janStages,
    });
    await p.close();

    p = await project(history, [salesCycleProjection]);
    // January loses both wins (R1 won again later, R3 open again); its stage exits stand.
    expect(await buildSalesCycleReport({ ...JAN, groupBy: 'source' }, p.context)).toEqual({
      ...JAN,
      overall: { key: 'all', wonDeals: 0, avgDays: null, medianDays: null, p90Days: null },
      groups: [],
      stages: janStages,
    });
    // February gains R1 (37 d) and R2 (31 d); the new stays begin at the reopens (not at the closes).
    expect(await buildSalesCycleReport({ ...FEB, groupBy: 'owner' }, p.context)).toEqual({
      ...FEB,
      overall: { key: 'all', wonDeals: 2, avgDays: 34, medianDays: 34, p90Days: 37 },
      groups: [
        { key: 'u1', wonDeals: 1, avgDays: 37, medianDays: 37, p90Days: 37 },
        { key: 'u2', wonDeals: 1, avgDays: 31, medianDays: 31, p90Days: 31 },
      ],
      stages: [
        { stage: 'qualification', exits: 1, avgDays: 10 }, // R2: Feb 1 → Feb 11
        { stage: 'needs-analysis', exits: 0, avgDays: null },
        { stage: 'proposal', exits: 0, avgDays: null },
        { stage: 'negotiation', exits: 1, avgDays: 2 }, // R1: Feb 5 → Feb 7
      ],
    });
    // A partial first day (single exits): R2's reopen at exactly `from` is no exit; nothing won before Feb 7.
    expect(await buildSalesCycleReport({ from: '2024-01-31T12:00:00.000Z', to: '2024-02-07T00:00:00.000Z' }, p.context)).toMatchObject({
      overall: { wonDeals: 0 },
      stages: janStages.map((s) => ({ ...s, exits: 0, avgDays: null })),
    });
  });

  it('property: served through the projector, equals the reference fold over the raw events', async () => {
    await fc.assert(
      fc.asyncProperty(
        historyArbitrary({ minSteps: 80, maxSteps: 160 }),
        fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: 4, maxLength: 4 }),
        async (history, picks) => {
          const projected = await project(history, [salesCycleProjection]);
          try {
            const times = projected.events.map((e) => Date.parse(e.occurredAt));
            const first = Math.min(...times);
            const last = Math.max(...times);
            const at = (x: number) => Math.round(first + x * (last - first + DAY));
            const [a, b] = [at(picks[0]), at(picks[1])].sort((x, y) => x - y);
            const ranges: [number, number][] = [
              [first, last + 1], // everything
              [a, b + 1], // arbitrary instants
              [Math.floor(a / DAY) * DAY, Math.floor(b / DAY) * DAY + DAY], // whole days
              [times[Math.floor(picks[2] * (times.length - 1))], times[Math.floor(picks[3] * (times.length - 1))] + 1], // starting exactly at an event
            ];
            for (const [from, to] of ranges) {
              if (!(from < to)) continue;
              for (const groupBy of [undefined, 'source', 'owner'] as const) {
                expect(await buildSalesCycleReport({ from: iso(from), to: iso(to), groupBy }, projected.context)).toEqual(
                  referenceSalesCycle(projected.events, iso(from), iso(to), groupBy, defaultPipeline),
                );
              }
            }
          } finally {
            await projected.close();
          }
        },
      ),
      { numRuns: 30 },
    );
  }, 60_000);

  it('property, with reopened deals: served through the projector, equals the reference fold', async () => {
    let withReopens = 0;
    let withWins = 0;
    await fc.assert(
      fc.asyncProperty(
        historyArbitrary({ minSteps: 100, maxSteps: 250, reopens: true }),
        fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: 2, maxLength: 2 }),
        async (history, picks) => {
          const projected = await project(history, [salesCycleProjection]);
          try {
            if (projected.events.some((e) => e.type === 'DealReopened')) withReopens += 1;
            const times = projected.events.map((e) => Date.parse(e.occurredAt));
            const first = Math.min(...times);
            const last = Math.max(...times);
            const at = (x: number) => Math.round(first + x * (last - first + DAY));
            const [a, b] = [at(picks[0]), at(picks[1])].sort((x, y) => x - y);
            const ranges: [number, number][] = [
              [first, last + 1],
              [a, b + 1],
              [Math.floor(a / DAY) * DAY, Math.floor(b / DAY) * DAY + DAY],
            ];
            for (const [from, to] of ranges) {
              for (const groupBy of [undefined, 'source', 'owner'] as const) {
                const served = await buildSalesCycleReport({ from: iso(from), to: iso(to), groupBy }, projected.context);
                expect(served).toEqual(referenceSalesCycle(projected.events, iso(from), iso(to), groupBy, defaultPipeline));
                if (served.overall.wonDeals > 0) withWins += 1;
              }
            }
          } finally {
            await projected.close();
          }
        },
      ),
      { numRuns: 15, seed: 1016 },
    );
    // Not vacuous: histories with reopens, reports with wins.
    expect(withReopens).toBeGreaterThan(10);
    expect(withWins).toBeGreaterThan(30);
  }, 120_000);
});
