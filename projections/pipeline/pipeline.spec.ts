import fc from 'fast-check';
import { defaultPipeline, validatePipeline } from '@chronicle/domain';
import { appendAndProject } from '../testing/append';
import { project, Projected, ScenarioEvent } from '../testing/harness';
import { historyArbitrary } from '../testing/random-history';
import { truncate } from '../common/periods';
import { pipelineProjection } from './projection';
import { buildPipelineReport, pipelineReport } from './query';
import { referencePipeline } from './reference';

const deal = (id: string, type: string, occurredAt: string, data: Record<string, unknown> = {}): ScenarioEvent => ({
  streamId: `deal-${id}`,
  type,
  data: { dealId: id, ...data },
  occurredAt,
});
const opened = (id: string, occurredAt: string, stage: string, amount: number) =>
  deal(id, 'DealOpened', occurredAt, { customerId: 'c1', title: id, amount, ownerId: 'u1', source: 'web', stage });

const asOf = (iso: string) => ({ asOf: iso, from: iso, to: iso, interval: 'month' as const, limit: 10 });

describe('pipeline report', () => {
  let p: Projected | undefined;
  afterEach(async () => {
    await p?.close();
    p = undefined;
  });

  it('hand-computed: open deals by stage at asOf, with amounts and stages as they were then', async () => {
    p = await project(
      [
        // d1: qualification → proposal on Feb 10; amount 1000 → 1200 on Feb 15 (before asOf), → 5000 on Mar 5 (after).
        opened('d1', '2024-01-01T00:00:00.000Z', 'qualification', 1000),
        deal('d1', 'DealStageChanged', '2024-02-10T00:00:00.000Z', { from: 'qualification', to: 'proposal' }),
        deal('d1', 'DealAmountChanged', '2024-02-15T12:00:00.000Z', { from: 1000, to: 1200 }),
        deal('d1', 'DealAmountChanged', '2024-03-05T00:00:00.000Z', { from: 1200, to: 5000 }),
        // d2: opened in proposal on Feb 20 at noon.
        opened('d2', '2024-02-20T12:00:00.000Z', 'proposal', 3000),
        // d3: won exactly at asOf: closed at asOf, not counted.
        opened('d3', '2024-01-15T00:00:00.000Z', 'qualification', 500),
        deal('d3', 'DealWon', '2024-03-01T00:00:00.000Z', { customerId: 'c1', amount: 500, stage: 'qualification' }),
        // d4: lost after asOf: still open at asOf.
        opened('d4', '2024-01-20T00:00:00.000Z', 'negotiation', 10000),
        deal('d4', 'DealLost', '2024-03-02T00:00:00.000Z', { customerId: 'c1', amount: 10000, stage: 'negotiation', reason: 'price' }),
        // d5: opened exactly at asOf (counted, age 0); d6: one millisecond later (not counted).
        opened('d5', '2024-03-01T00:00:00.000Z', 'qualification', 700),
        opened('d6', '2024-03-01T00:00:00.001Z', 'qualification', 900),
        // d7: needs-analysis → qualification on Feb 29 06:00 (a step back is a stage change too).
        opened('d7', '2024-02-01T00:00:00.000Z', 'needs-analysis', 2000),
        deal('d7', 'DealStageChanged', '2024-02-29T06:00:00.000Z', { from: 'needs-analysis', to: 'qualification' }),
      ],
      [pipelineProjection],
    );
    const report = await pipelineReport.run(asOf('2024-03-01T00:00:00.000Z'), p.context);
    expect(report).toEqual({
      asOf: '2024-03-01T00:00:00.000Z',
      stages: [
        // d5 (700, age 0 d) + d7 (2000, entered Feb 29 06:00 → 18 h = 0.75 d): 2700; × 0.1 = 270; (0 + 0.75) / 2 = 0.375 → 0.38
        { stage: 'qualification', deals: 2, value: 2700, weightedValue: 270, avgAgeDays: 0.38 },
        // no deals: the mean age has a zero denominator
        { stage: 'needs-analysis', deals: 0, value: 0, weightedValue: 0, avgAgeDays: null },
        // d1 (1200, entered Feb 10 → 20 d in leap-year February) + d2 (3000, Feb 20 12:00 → 9.5 d): 4200; × 0.5 = 2100; (20 + 9.5) / 2 = 14.75
        { stage: 'proposal', deals: 2, value: 4200, weightedValue: 2100, avgAgeDays: 14.75 },
        // d4 (10000, Jan 20 → Mar 1 = 11 + 29 + 1 = 41 d); × 0.8 = 8000
        { stage: 'negotiation', deals: 1, value: 10000, weightedValue: 8000, avgAgeDays: 41 },
      ],
      // 2 + 0 + 2 + 1 = 5; 2700 + 4200 + 10000 = 16900; 270 + 2100 + 8000 = 10370
      totals: { deals: 5, value: 16900, weightedValue: 10370 },
    });

    // Exactly at d1's amount change (Feb 15 12:00): 1200 counts; a millisecond before: 1000.
    // At Feb 15 12:00: qualification: — (d7 is in needs-analysis, d5/d6 not open yet, d3 500 since Jan 15 = 31.5 d);
    // needs-analysis: d7 2000 since Feb 1 = 14.5 d; proposal: d1 1200 since Feb 10 = 5.5 d; negotiation: d4 since Jan 20 = 26.5 d.
    const feb15 = (await buildPipelineReport({ asOf: '2024-02-15T12:00:00.000Z' }, p.context)) as { stages: unknown[]; totals: unknown };
    expect(feb15.stages).toEqual([
      { stage: 'qualification', deals: 1, value: 500, weightedValue: 50, avgAgeDays: 31.5 },
      { stage: 'needs-analysis', deals: 1, value: 2000, weightedValue: 400, avgAgeDays: 14.5 },
      { stage: 'proposal', deals: 1, value: 1200, weightedValue: 600, avgAgeDays: 5.5 },
      { stage: 'negotiation', deals: 1, value: 10000, weightedValue: 8000, avgAgeDays: 26.5 },
    ]);
    // 500 + 2000 + 1200 + 10000 = 13700; 50 + 400 + 600 + 8000 = 9050
    expect(feb15.totals).toEqual({ deals: 4, value: 13700, weightedValue: 9050 });
    const before = await buildPipelineReport({ asOf: '2024-02-15T11:59:59.999Z' }, p.context);
    expect(before.stages[2]).toEqual({ stage: 'proposal', deals: 1, value: 1000, weightedValue: 500, avgAgeDays: 5.5 }); // 5.49999… d → 5.5

    // Before any deal: every stage listed with zeros.
    expect(await buildPipelineReport({ asOf: '2023-12-31T23:59:59.999Z' }, p.context)).toEqual({
      asOf: '2023-12-31T23:59:59.999Z',
      stages: defaultPipeline.stages.map((s) => ({ stage: s.name, deals: 0, value: 0, weightedValue: 0, avgAgeDays: null })),
      totals: { deals: 0, value: 0, weightedValue: 0 },
    });

    // Later events move the present without changing the past: d1 won on Mar 10 (5000 by then).
    await appendAndProject(p, [deal('d1', 'DealWon', '2024-03-10T00:00:00.000Z', { customerId: 'c1', amount: 5000, stage: 'proposal' })]);
    const mar10 = await buildPipelineReport({ asOf: '2024-03-10T00:00:00.000Z' }, p.context);
    // proposal: only d2 (3000, Feb 20 12:00 → Mar 10 = 18.5 d)
    expect(mar10.stages[2]).toEqual({ stage: 'proposal', deals: 1, value: 3000, weightedValue: 1500, avgAgeDays: 18.5 });
    expect((await buildPipelineReport({ asOf: '2024-03-09T23:59:59.999Z' }, p.context)).stages[2]).toMatchObject({ deals: 2, value: 8000 }); // 5000 + 3000
    expect(await pipelineReport.run(asOf('2024-03-01T00:00:00.000Z'), p.context)).toEqual(report);
  });

  it('lists a stage that is no longer configured after the configured ones, with probability 0', async () => {
    p = await project(
      [opened('d1', '2024-01-01T00:00:00.000Z', 'legacy', 100), opened('d2', '2024-01-01T00:00:00.000Z', 'qualification', 50)],
      [pipelineProjection],
    );
    const report = await buildPipelineReport({ asOf: '2024-01-02T00:00:00.000Z' }, p.context);
    expect(report.stages.map((s) => s.stage)).toEqual([...defaultPipeline.stages.map((s) => s.name), 'legacy']);
    expect(report.stages[4]).toEqual({ stage: 'legacy', deals: 1, value: 100, weightedValue: 0, avgAgeDays: 1 });
    expect(report.totals).toEqual({ deals: 2, value: 150, weightedValue: 5 }); // 50 × 0.1 + 100 × 0
  });

  it('property: served through the projector, equals the reference fold over the raw events', async () => {
    await fc.assert(
      fc.asyncProperty(
        historyArbitrary({ minSteps: 80, maxSteps: 160 }),
        fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: 3, maxLength: 3 }),
        async (history, picks) => {
          const projected = await project(history, [pipelineProjection]);
          try {
            const times = projected.events.map((e) => Date.parse(e.occurredAt));
            const first = Math.min(...times);
            const last = Math.max(...times);
            const instants = [
              // exactly at an event, between events, and after the last one
              times[Math.floor(picks[0] * (times.length - 1))],
              Math.round(first + picks[1] * (last - first)),
              last + Math.round(picks[2] * 10 * 86_400_000),
            ];
            // The first instant of a UTC month and the last one before it: the month sums' boundary.
            const monthStart = truncate(instants[1], 'month');
            instants.push(monthStart, monthStart - 1);
            for (const ms of instants) {
              const iso = new Date(ms).toISOString();
              expect(await buildPipelineReport({ asOf: iso }, projected.context)).toEqual(
                referencePipeline(projected.events, iso, defaultPipeline),
              );
            }
          } finally {
            await projected.close();
          }
        },
      ),
      { numRuns: 30 },
    );
  }, 60_000);

  it('reopened deals: open again in their stage from the reopen, a new stay; as-of views before it unchanged', async () => {
    const pipeline = validatePipeline({
      stages: [
        { name: 'qualification', probability: 0.1, stallAfterDays: 7 },
        { name: 'proposal', probability: 0.5 },
        { name: 'negotiation', probability: 0.8 },
      ],
    });
    p = await project(
      [
        // r1: won from proposal on Feb 1, reopened into negotiation on Mar 1 12:00, won again on Mar 20.
        opened('r1', '2024-01-01T00:00:00.000Z', 'proposal', 1000),
        deal('r1', 'DealWon', '2024-02-01T00:00:00.000Z', { customerId: 'c1', amount: 1000, stage: 'proposal' }),
        deal('r1', 'DealReopened', '2024-03-01T12:00:00.000Z', {
          customerId: 'c1',
          ownerId: 'u1',
          amount: 1000,
          stage: 'negotiation',
          outcome: 'won',
          closedAt: '2024-02-01T00:00:00.000Z',
          closedStage: 'proposal',
        }),
        deal('r1', 'DealWon', '2024-03-20T00:00:00.000Z', { customerId: 'c1', amount: 1000, stage: 'negotiation' }),
        // r2: lost from qualification on Feb 10, reopened into qualification on Feb 20, still open.
        opened('r2', '2024-01-05T00:00:00.000Z', 'qualification', 2000),
        deal('r2', 'DealLost', '2024-02-10T00:00:00.000Z', { customerId: 'c1', amount: 2000, stage: 'qualification', reason: 'price' }),
        deal('r2', 'DealReopened', '2024-02-20T00:00:00.000Z', {
          customerId: 'c1',
          ownerId: 'u1',
          amount: 2000,
          stage: 'qualification',
          outcome: 'lost',
          closedAt: '2024-02-10T00:00:00.000Z',
          closedStage: 'qualification',
          lostReason: 'price',
        }),
      ],
      [pipelineProjection],
      { pipeline },
    );
    const at = (iso: string) => buildPipelineReport({ asOf: iso }, { ...p!.context, pipeline });
    // Between the closes and the reopens: nothing open.
    expect((await at('2024-02-15T00:00:00.000Z')).totals).toEqual({ deals: 0, value: 0, weightedValue: 0, stalled: 0 });
    // A millisecond before r2's reopen it is still closed; at the reopen it is open, age 0.
    expect((await at('2024-02-19T23:59:59.999Z')).totals.deals).toBe(0);
    expect((await at('2024-02-20T00:00:00.000Z')).stages[0]).toEqual({
      stage: 'qualification',
      deals: 1,
      value: 2000,
      weightedValue: 200,
      avgAgeDays: 0,
      stalled: 0,
    });
    // Feb 25: 5 days into its new stay, not stalled (its first stay, from Jan 5, ended at the loss).
    expect((await at('2024-02-25T00:00:00.000Z')).stages[0]).toMatchObject({ deals: 1, avgAgeDays: 5, stalled: 0 });
    // Mar 1 11:59:59.999: r1 not reopened yet; r2 10.5 d (− 1 ms) into qualification, stalled.
    const beforeReopen = await at('2024-03-01T11:59:59.999Z');
    expect(beforeReopen.stages.map((s) => [s.stage, s.deals, s.value, s.avgAgeDays, s.stalled])).toEqual([
      ['qualification', 1, 2000, 10.5, 1],
      ['proposal', 0, 0, null, 0],
      ['negotiation', 0, 0, null, 0],
    ]);
    // Mar 10: r1 in negotiation since Mar 1 12:00 (8.5 d), 1000 × 0.8; r2 19 d in qualification, 2000 × 0.1.
    const mar10 = await at('2024-03-10T00:00:00.000Z');
    expect(mar10.stages.map((s) => [s.stage, s.deals, s.value, s.weightedValue, s.avgAgeDays])).toEqual([
      ['qualification', 1, 2000, 200, 19],
      ['proposal', 0, 0, 0, null],
      ['negotiation', 1, 1000, 800, 8.5],
    ]);
    expect(mar10.totals).toEqual({ deals: 2, value: 3000, weightedValue: 1000, stalled: 1 });
    // Won again on Mar 20: out again.
    expect((await at('2024-03-20T00:00:00.000Z')).totals).toEqual({ deals: 1, value: 2000, weightedValue: 200, stalled: 1 });
    for (const iso of ['2024-02-15T00:00:00.000Z', '2024-03-01T12:00:00.000Z', '2024-03-10T00:00:00.000Z', '2024-03-20T00:00:00.000Z']) {
      const { stages, totals } = await at(iso);
      const ref = referencePipeline(p.events, iso, pipeline);
      expect(stages.map(({ stalled: _, ...s }) => s)).toEqual(ref.stages);
      expect({ ...totals, stalled: undefined }).toEqual({ ...ref.totals, stalled: undefined });
    }
  });

  it('property: with reopened deals, served through the projector, equals the reference fold', async () => {
    let reopened = 0;
    await fc.assert(
      fc.asyncProperty(
        historyArbitrary({ minSteps: 100, maxSteps: 250, reopens: true }),
        fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: 3, maxLength: 3 }),
        async (history, picks) => {
          const projected = await project(history, [pipelineProjection]);
          try {
            const reopens = projected.events.filter((e) => e.type === 'DealReopened');
            if (reopens.length > 0) reopened++;
            const times = projected.events.map((e) => Date.parse(e.occurredAt));
            const first = Math.min(...times);
            const last = Math.max(...times);
            const reopenAt = reopens.length ? [Date.parse(reopens[Math.floor(picks[0] * (reopens.length - 1))].occurredAt)] : [];
            const instants = [
              // at a reopen and just before it, at an event, between events, and after the last one
              ...reopenAt.flatMap((ms) => [ms, ms - 1]),
              times[Math.floor(picks[0] * (times.length - 1))],
              Math.round(first + picks[1] * (last - first)),
              last + Math.round(picks[2] * 10 * 86_400_000),
            ];
            for (const ms of instants) {
              const iso = new Date(ms).toISOString();
              expect(await buildPipelineReport({ asOf: iso }, projected.context)).toEqual(
                referencePipeline(projected.events, iso, defaultPipeline),
              );
            }
          } finally {
            await projected.close();
          }
        },
      ),
      { numRuns: 15, seed: 1604 },
    );
    expect(reopened).toBeGreaterThan(0);
  }, 90_000);

  it('stalled: deals longer in their stage than its stallAfterDays, at asOf, per stage and in total', async () => {
    const pipeline = validatePipeline({
      stages: [
        { name: 'qualification', probability: 0.1, stallAfterDays: 7 },
        { name: 'proposal', probability: 0.5, stallAfterDays: 3 },
        { name: 'negotiation', probability: 0.8 },
      ],
    });
    p = await project(
      [
        opened('s1', '2024-03-01T00:00:00.000Z', 'qualification', 100), // 9 days at asOf: stalled
        opened('s2', '2024-03-05T00:00:00.000Z', 'qualification', 100), // 5 days: not yet
        opened('s3', '2024-03-01T00:00:00.000Z', 'qualification', 100),
        deal('s3', 'DealStageChanged', '2024-03-06T00:00:00.000Z', { from: 'qualification', to: 'proposal' }), // 4 days in proposal: stalled
        opened('s4', '2024-02-01T00:00:00.000Z', 'negotiation', 100), // no limit: never stalled
        opened('s5', '2024-02-01T00:00:00.000Z', 'qualification', 100),
        deal('s5', 'DealWon', '2024-03-09T00:00:00.000Z', { customerId: 'c1', amount: 100, stage: 'qualification' }), // closed before asOf
        opened('s6', '2024-02-01T00:00:00.000Z', 'proposal', 100),
        deal('s6', 'DealLost', '2024-03-11T00:00:00.000Z', { customerId: 'c1', amount: 100, stage: 'proposal', reason: 'x' }), // lost after asOf: stalled at asOf
      ],
      [pipelineProjection],
      { pipeline },
    );
    const at = (iso: string) => buildPipelineReport({ asOf: iso }, { ...p!.context, pipeline });
    const report = await at('2024-03-10T00:00:00.000Z');
    expect(report.stages.map((s) => [s.stage, s.deals, s.stalled])).toEqual([
      ['qualification', 2, 1],
      ['proposal', 2, 2],
      ['negotiation', 1, 0],
    ]);
    expect(report.totals).toEqual({ deals: 5, value: 500, weightedValue: 200, stalled: 3 });
    // Exactly at the limit it is not stalled yet: s1 on Mar 8 00:00 has been there 7 days.
    expect((await at('2024-03-08T00:00:00.000Z')).stages[0].stalled).toBe(1); // s5 (since Feb 1), not s1
    expect((await at('2024-03-08T00:00:00.001Z')).stages[0].stalled).toBe(2); // s1 and s5 (s3 moved to proposal on Mar 6)
    // The default pipeline has no limits: the response keeps its shape.
    expect(
      (await buildPipelineReport({ asOf: '2024-03-10T00:00:00.000Z' }, { ...p.context, pipeline: defaultPipeline })).stages[0],
    ).not.toHaveProperty('stalled');
  });
});
