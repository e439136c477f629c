import fc from 'fast-check';
import { InvalidInput } from '@chronicle/domain';
import type { RecordedEvent } from '@chronicle/event-store';
import { appendAndProject } from '../testing/append';
import { project, Projected, ScenarioEvent } from '../testing/harness';
import { asMerged, lastTimeOf, mergeEvents, mergePair, unmergeEvents } from '../testing/merge';
import { historyArbitrary } from '../testing/random-history';
import { dealsProjection } from './projection';
import { DealView, getDeal, listDeals, ListDealsParams } from './query';

const C1 = 'c1000000-0000-4000-8000-000000000001';
const C2 = 'c2000000-0000-4000-8000-000000000002';
const dealId = (n: number) => `d0000000-0000-4000-8000-00000000000${n}`;
const deal = (n: number, type: string, occurredAt: string, data: Record<string, unknown> = {}): ScenarioEvent => ({
  streamId: `deal-${dealId(n)}`,
  type,
  data: { dealId: dealId(n), ...data },
  occurredAt,
});
const opened = (n: number, occurredAt: string, data: Record<string, unknown>) =>
  deal(n, 'DealOpened', occurredAt, { title: `Deal ${n}`, source: 'web', stage: 'qualification', ownerId: 'u1', ...data });

describe('deals projection', () => {
  let p: Projected;
  afterEach(() => p?.close());

  it('follows a deal through its stages until won: stage, status, stage entry and closing times', async () => {
    p = await project(
      [opened(1, '2024-01-01T00:00:00.000Z', { customerId: C1, amount: 1000, expectedCloseDate: '2024-03-31' })],
      [dealsProjection],
    );
    const base: DealView = {
      id: dealId(1),
      customerId: C1,
      title: 'Deal 1',
      amount: 1000,
      ownerId: 'u1',
      source: 'web',
      stage: 'qualification',
      status: 'open',
      openedAt: '2024-01-01T00:00:00.000Z',
      stageEnteredAt: '2024-01-01T00:00:00.000Z',
      expectedCloseDate: '2024-03-31',
      closedAt: null,
      closedFromStage: null,
      lostReason: null,
      updatedAt: '2024-01-01T00:00:00.000Z',
      archived: false,
      archivedAt: null,
      reopenedAt: null,
      reopens: 0,
    };
    expect(await getDeal(p.readModels, dealId(1))).toEqual(base);

    await appendAndProject(p, [
      deal(1, 'DealStageChanged', '2024-01-10T00:00:00.000Z', { from: 'qualification', to: 'proposal' }),
      deal(1, 'DealAmountChanged', '2024-01-11T00:00:00.000Z', { from: 1000, to: 1500 }),
      deal(1, 'DealExpectedCloseDateChanged', '2024-01-12T00:00:00.000Z', { from: '2024-03-31', to: '2024-04-30' }),
    ]);
    const proposal = {
      ...base,
      stage: 'proposal',
      stageEnteredAt: '2024-01-10T00:00:00.000Z',
      amount: 1500,
      expectedCloseDate: '2024-04-30',
      updatedAt: '2024-01-12T00:00:00.000Z',
    };
    expect(await getDeal(p.readModels, dealId(1))).toEqual(proposal);

    await appendAndProject(p, [
      deal(1, 'DealStageChanged', '2024-02-01T00:00:00.000Z', { from: 'proposal', to: 'negotiation' }),
      deal(1, 'DealWon', '2024-02-15T00:00:00.000Z', { customerId: C1, amount: 1500, stage: 'negotiation' }),
    ]);
    expect(await getDeal(p.readModels, dealId(1))).toEqual({
      ...proposal,
      stage: 'won',
      status: 'won',
      stageEnteredAt: '2024-02-15T00:00:00.000Z',
      closedAt: '2024-02-15T00:00:00.000Z',
      closedFromStage: 'negotiation',
      updatedAt: '2024-02-15T00:00:00.000Z',
    });

    await appendAndProject(p, [
      opened(2, '2024-01-02T00:00:00.000Z', { customerId: C1, amount: 200 }),
      deal(2, 'DealLost', '2024-01-20T00:00:00.000Z', { customerId: C1, amount: 200, stage: 'qualification', reason: 'competitor' }),
    ]);
    expect(await getDeal(p.readModels, dealId(2))).toMatchObject({
      status: 'lost',
      stage: 'lost',
      closedAt: '2024-01-20T00:00:00.000Z',
      closedFromStage: 'qualification',
      lostReason: 'competitor',
      expectedCloseDate: null,
    });
    expect(await getDeal(p.readModels, 'no-such-deal')).toBeNull();
  });

  it('reopens won and lost deals: open again in the stage given, the close cleared, counted by status and stage again', async () => {
    const reopened = (n: number, occurredAt: string, data: Record<string, unknown>) =>
      deal(n, 'DealReopened', occurredAt, { customerId: C1, ownerId: 'u1', ...data });
    p = await project(
      [
        opened(1, '2024-01-01T00:00:00.000Z', { customerId: C1, amount: 1000 }),
        deal(1, 'DealWon', '2024-01-10T00:00:00.000Z', { customerId: C1, amount: 1000, stage: 'qualification' }),
        reopened(1, '2024-02-01T00:00:00.000Z', {
          amount: 1000,
          stage: 'proposal',
          outcome: 'won',
          closedAt: '2024-01-10T00:00:00.000Z',
          closedStage: 'qualification',
          reason: 'billing error',
        }),
        opened(2, '2024-01-02T00:00:00.000Z', { customerId: C1, amount: 200 }),
        deal(2, 'DealLost', '2024-01-20T00:00:00.000Z', { customerId: C1, amount: 200, stage: 'qualification', reason: 'price' }),
        reopened(2, '2024-02-02T00:00:00.000Z', {
          amount: 200,
          stage: 'qualification',
          outcome: 'lost',
          closedAt: '2024-01-20T00:00:00.000Z',
          closedStage: 'qualification',
          lostReason: 'price',
        }),
      ],
      [dealsProjection],
    );
    expect(await getDeal(p.readModels, dealId(1))).toMatchObject({
      status: 'open',
      stage: 'proposal',
      stageEnteredAt: '2024-02-01T00:00:00.000Z',
      closedAt: null,
      closedFromStage: null,
      lostReason: null,
      reopenedAt: '2024-02-01T00:00:00.000Z',
      reopens: 1,
      updatedAt: '2024-02-01T00:00:00.000Z',
    });
    expect(await getDeal(p.readModels, dealId(2))).toMatchObject({
      status: 'open',
      stage: 'qualification',
      closedAt: null,
      closedFromStage: null,
      lostReason: null,
      reopenedAt: '2024-02-02T00:00:00.000Z',
      reopens: 1,
    });
    const ids = async (params: ListDealsParams) => {
      const page = await listDeals(p.readModels, params);
      return [page.items.map((d) => Number(d.id.slice(-1))), page.total];
    };
    expect(await ids({ status: 'open' })).toEqual([[2, 1], 2]);
    expect(await ids({ status: 'won' })).toEqual([[], 0]);
    expect(await ids({ status: 'lost' })).toEqual([[], 0]);
    expect(await ids({ stage: 'proposal' })).toEqual([[1], 1]);

    // won again with another amount: closed again, the reopen remembered
    await appendAndProject(p, [
      deal(1, 'DealAmountChanged', '2024-02-05T00:00:00.000Z', { from: 1000, to: 1300 }),
      deal(1, 'DealWon', '2024-02-10T00:00:00.000Z', { customerId: C1, amount: 1300, stage: 'proposal' }),
    ]);
    expect(await getDeal(p.readModels, dealId(1))).toMatchObject({
      status: 'won',
      stage: 'won',
      amount: 1300,
      closedAt: '2024-02-10T00:00:00.000Z',
      closedFromStage: 'proposal',
      reopenedAt: '2024-02-01T00:00:00.000Z',
      reopens: 1,
    });
    expect(await ids({ status: 'won' })).toEqual([[1], 1]);
    expect(await ids({ status: 'open' })).toEqual([[2], 1]);
    expect(await ids({ stage: 'proposal' })).toEqual([[], 0]);
  });

  it('lists with filters, sorts and pagination', async () => {
    p = await project(
      [
        opened(1, '2024-01-01T00:00:00.000Z', { customerId: C1, amount: 500, expectedCloseDate: '2024-05-01' }),
        opened(2, '2024-01-02T00:00:00.000Z', { customerId: C2, amount: 900, ownerId: 'u2', expectedCloseDate: '2024-02-01' }),
        opened(3, '2024-01-03T00:00:00.000Z', { customerId: C1, amount: 100, stage: 'proposal' }),
        opened(4, '2024-01-04T00:00:00.000Z', { customerId: C2, amount: 700, ownerId: 'u2', expectedCloseDate: '2024-03-01' }),
        opened(5, '2024-01-05T00:00:00.000Z', { customerId: C1, amount: 700 }),
        deal(1, 'DealWon', '2024-02-01T00:00:00.000Z', { customerId: C1, amount: 500, stage: 'qualification' }),
        deal(4, 'DealLost', '2024-02-02T00:00:00.000Z', { customerId: C2, amount: 700, stage: 'qualification', reason: 'price' }),
        deal(5, 'DealStageChanged', '2024-02-03T00:00:00.000Z', { from: 'qualification', to: 'proposal' }),
      ],
      [dealsProjection],
    );
    const list = async (params: ListDealsParams) => {
      const page = await listDeals(p.readModels, params);
      return { ids: page.items.map((d) => Number(d.id.slice(-1))), total: page.total, limit: page.limit, offset: page.offset };
    };
    expect(await list({})).toEqual({ ids: [5, 4, 3, 2, 1], total: 5, limit: 50, offset: 0 }); // newest first
    expect(await list({ sort: 'openedAt', limit: 2, offset: 2 })).toEqual({ ids: [3, 4], total: 5, limit: 2, offset: 2 });
    expect(await list({ sort: '-amount' })).toEqual({ ids: [2, 4, 5, 1, 3], total: 5, limit: 50, offset: 0 }); // ties by id
    expect(await list({ sort: 'expectedCloseDate' })).toEqual({ ids: [3, 5, 2, 4, 1], total: 5, limit: 50, offset: 0 }); // none first
    expect(await list({ sort: '-expectedCloseDate', status: 'open' })).toEqual({ ids: [2, 3, 5], total: 3, limit: 50, offset: 0 });
    expect(await list({ status: 'open' })).toEqual({ ids: [5, 3, 2], total: 3, limit: 50, offset: 0 });
    expect(await list({ stage: 'proposal' })).toEqual({ ids: [5, 3], total: 2, limit: 50, offset: 0 });
    expect(await list({ stage: 'won' })).toEqual({ ids: [1], total: 1, limit: 50, offset: 0 });
    expect(await list({ customerId: C1, status: 'open', sort: 'amount' })).toEqual({ ids: [3, 5], total: 2, limit: 50, offset: 0 });
    expect(await list({ ownerId: 'u2' })).toEqual({ ids: [4, 2], total: 2, limit: 50, offset: 0 });
    expect(await list({ ownerId: 'u2', customerId: C1 })).toEqual({ ids: [], total: 0, limit: 50, offset: 0 });
    for (const bad of [{ status: 'closed' }, { sort: 'title' }, { limit: 1000 }, { offset: 1.5 }]) {
      await expect(listDeals(p.readModels, bad)).rejects.toBeInstanceOf(InvalidInput);
    }
  });
});

/** Deals folded from the raw events, as the list should show them. */
function foldDeals(events: RecordedEvent[]): DealView[] {
  const deals = new Map<string, DealView>();
  for (const e of events) {
    const d = e.data as Record<string, any>;
    const current = deals.get(d.dealId);
    switch (e.type) {
      case 'DealOpened':
        deals.set(d.dealId, {
          id: d.dealId,
          customerId: d.customerId,
          title: d.title,
          amount: d.amount,
          ownerId: d.ownerId,
          source: d.source,
          stage: d.stage,
          status: 'open',
          openedAt: e.occurredAt,
          stageEnteredAt: e.occurredAt,
          expectedCloseDate: d.expectedCloseDate ?? null,
          closedAt: null,
          closedFromStage: null,
          lostReason: null,
          updatedAt: e.occurredAt,
          archived: false,
          archivedAt: null,
          reopenedAt: null,
          reopens: 0,
        });
        break;
      case 'DealStageChanged':
        Object.assign(current!, { stage: d.to, stageEnteredAt: e.occurredAt, updatedAt: e.occurredAt });
        break;
      case 'DealAmountChanged':
        Object.assign(current!, { amount: d.to, updatedAt: e.occurredAt });
        break;
      case 'DealExpectedCloseDateChanged':
        Object.assign(current!, { expectedCloseDate: d.to, updatedAt: e.occurredAt });
        break;
      case 'DealWon':
      case 'DealLost': {
        const status = e.type === 'DealWon' ? 'won' : 'lost';
        Object.assign(current!, {
          closedFromStage: current!.stage,
          stage: status,
          status,
          stageEnteredAt: e.occurredAt,
          closedAt: e.occurredAt,
          updatedAt: e.occurredAt,
          lostReason: d.reason ?? null,
        });
        break;
      }
      case 'DealReopened':
        Object.assign(current!, {
          status: 'open',
          stage: d.stage,
          stageEnteredAt: e.occurredAt,
          closedAt: null,
          closedFromStage: null,
          lostReason: null,
          reopenedAt: e.occurredAt,
          reopens: current!.reopens + 1,
          updatedAt: e.occurredAt,
        });
        break;
    }
  }
  return [...deals.values()];
}

const COMBOS: ListDealsParams[] = [
  {},
  { status: 'open', sort: '-amount' },
  { status: 'open', limit: 4, offset: 3 },
  { status: 'lost', ownerId: 'u2' },
  { status: 'won', sort: '-amount', limit: 3, offset: 1 },
  { ownerId: 'u1', stage: 'proposal' },
  { stage: 'lost', sort: '-expectedCloseDate' },
  { ownerId: 'u3', status: 'open', sort: 'expectedCloseDate' },
  { sort: 'amount', limit: 5, offset: 2 },
];

/** The served list equals foldDeals' for every combination and two customers' lists. */
async function expectListsMatchFold(p: Projected): Promise<void> {
  const deals = foldDeals(p.events);
  const customerIds = [...new Set(deals.map((d) => d.customerId))].slice(0, 2);
  for (const params of [...COMBOS, ...customerIds.map((customerId): ListDealsParams => ({ customerId, sort: 'openedAt' }))]) {
    const sort = params.sort ?? '-openedAt';
    const field = sort.replace('-', '') as 'openedAt' | 'amount' | 'expectedCloseDate';
    const dir = sort.startsWith('-') ? -1 : 1;
    const cmp = (a: DealView, b: DealView) => {
      const [x, y] = [a[field], b[field]];
      const c = x === y ? 0 : x === null ? -1 : y === null ? 1 : x < y ? -1 : 1;
      return c !== 0 ? c * dir : a.id < b.id ? -1 : 1;
    };
    const matching = deals
      .filter((d) => (!params.status || d.status === params.status) && (!params.stage || d.stage === params.stage))
      .filter((d) => (!params.ownerId || d.ownerId === params.ownerId) && (!params.customerId || d.customerId === params.customerId))
      .sort(cmp);
    const page = await listDeals(p.readModels, params);
    const offset = params.offset ?? 0;
    expect(page.total).toBe(matching.length);
    expect(page.items).toEqual(matching.slice(offset, offset + (params.limit ?? 50)));
  }
}

describe('deals list = a fold of the raw events (property)', () => {
  it('matches for random histories and several filter, sort and page combinations', async () => {
    await fc.assert(
      fc.asyncProperty(historyArbitrary({ minSteps: 120, maxSteps: 200 }), async (scenario) => {
        const p = await project(scenario, [dealsProjection]);
        try {
          await expectListsMatchFold(p);
        } finally {
          await p.close();
        }
      }),
      { numRuns: 20, seed: 11 },
    );
  });

  it('matches for random histories with reopened deals (closed, reopened, closed again)', async () => {
    let withReopens = 0;
    await fc.assert(
      fc.asyncProperty(historyArbitrary({ minSteps: 100, maxSteps: 250, reopens: true }), async (scenario) => {
        const p = await project(scenario, [dealsProjection]);
        try {
          await expectListsMatchFold(p);
          if (p.events.some((e) => e.type === 'DealReopened')) withReopens += 1;
        } finally {
          await p.close();
        }
      }),
      { numRuns: 15, seed: 1611 },
    );
    expect(withReopens).toBeGreaterThan(5);
  });
});

describe('deals of merged customers (docs/merging.md)', () => {
  let p: Projected;
  afterEach(() => p?.close());

  it("lists the merged customer's deals under the survivor while merged, its own list unchanged; the unmerge puts it back", async () => {
    const [M, S, O] = [C1, C2, 'c3000000-0000-4000-8000-000000000003'];
    p = await project(
      [
        opened(1, '2024-01-01T00:00:00.000Z', { customerId: S, amount: 100 }),
        opened(2, '2024-01-02T00:00:00.000Z', { customerId: M, amount: 200 }),
        opened(3, '2024-01-03T00:00:00.000Z', { customerId: O, amount: 300 }),
        opened(4, '2024-01-04T00:00:00.000Z', { customerId: M, amount: 400, ownerId: 'u2' }),
        deal(1, 'DealWon', '2024-01-10T00:00:00.000Z', { customerId: S, amount: 100, stage: 'qualification' }),
      ],
      [dealsProjection],
    );
    const list = async (params: ListDealsParams) => {
      const page = await listDeals(p.readModels, params);
      return { ids: page.items.map((d) => Number(d.id.slice(-1))), total: page.total };
    };
    const before = async () => {
      expect(await list({ customerId: S })).toEqual({ ids: [1], total: 1 });
      expect(await list({ customerId: M })).toEqual({ ids: [4, 2], total: 2 });
      expect(await list({ customerId: O })).toEqual({ ids: [3], total: 1 });
      expect(await list({ customerId: S, status: 'open' })).toEqual({ ids: [], total: 0 });
    };
    await before();

    await appendAndProject(p, mergeEvents(M, S, '2024-02-01T00:00:00.000Z'));
    expect(await list({ customerId: S })).toEqual({ ids: [4, 2, 1], total: 3 });
    expect(await list({ customerId: S, status: 'open' })).toEqual({ ids: [4, 2], total: 2 });
    expect(await list({ customerId: S, ownerId: 'u2' })).toEqual({ ids: [4], total: 1 });
    expect(await list({ customerId: S, sort: '-amount', limit: 2, offset: 1 })).toEqual({ ids: [2, 1], total: 3 });
    // the merged customer's deals keep their customer: its own list, and the others', as they were
    expect(await list({ customerId: M })).toEqual({ ids: [4, 2], total: 2 });
    expect(await list({ customerId: O })).toEqual({ ids: [3], total: 1 });
    expect((await getDeal(p.readModels, dealId(2)))!.customerId).toBe(M);
    expect(await list({})).toEqual({ ids: [4, 3, 2, 1], total: 4 });

    // the merged customer's deals go on changing and closing while merged: they count for the survivor
    await appendAndProject(p, [
      deal(2, 'DealWon', '2024-02-05T00:00:00.000Z', { customerId: M, amount: 200, stage: 'qualification' }),
      deal(4, 'DealLost', '2024-02-06T00:00:00.000Z', { customerId: M, amount: 400, stage: 'qualification', reason: 'price' }),
      deal(3, 'DealWon', '2024-02-07T00:00:00.000Z', { customerId: O, amount: 300, stage: 'qualification' }),
    ]);
    expect(await list({ customerId: S, status: 'won' })).toEqual({ ids: [2, 1], total: 2 });
    expect(await list({ customerId: S, status: 'lost' })).toEqual({ ids: [4], total: 1 });
    expect(await list({ customerId: S, stage: 'won', sort: 'amount' })).toEqual({ ids: [1, 2], total: 2 });
    expect(await list({ customerId: M, status: 'won' })).toEqual({ ids: [2], total: 1 });

    // unmerged: the survivor lists its own again; what was recorded while merged stays the merged customer's
    await appendAndProject(p, unmergeEvents(M, S, '2024-03-01T00:00:00.000Z'));
    expect(await list({ customerId: S })).toEqual({ ids: [1], total: 1 });
    expect(await list({ customerId: S, status: 'won' })).toEqual({ ids: [1], total: 1 });
    expect(await list({ customerId: M })).toEqual({ ids: [4, 2], total: 2 });
    expect(await list({ customerId: M, status: 'won' })).toEqual({ ids: [2], total: 1 });

    // merged again, into another survivor: listed there only
    await appendAndProject(p, mergeEvents(M, O, '2024-04-01T00:00:00.000Z'));
    expect(await list({ customerId: O })).toEqual({ ids: [4, 3, 2], total: 3 });
    expect(await list({ customerId: O, status: 'won' })).toEqual({ ids: [3, 2], total: 2 });
    expect(await list({ customerId: S })).toEqual({ ids: [1], total: 1 });
    await appendAndProject(p, unmergeEvents(M, O, '2024-05-01T00:00:00.000Z'));
    expect(await list({ customerId: O })).toEqual({ ids: [3], total: 1 });
  });
});

describe('deals lists after a merge = the asMerged history, after the unmerge = the history (property)', () => {
  const combos = (customerId: string): ListDealsParams[] => [
    { customerId },
    { customerId, status: 'open' },
    { customerId, status: 'won', sort: '-amount' },
    { customerId, status: 'lost', sort: 'openedAt' },
    { customerId, ownerId: 'u1', limit: 3, offset: 1 },
    { customerId, stage: 'proposal', sort: 'expectedCloseDate' },
  ];
  const lists = async (p: Projected, params: ListDealsParams[]) => Promise.all(params.map((q) => listDeals(p.readModels, q)));

  it("lists the survivor's deals and its merged customer's, including events after the merge; the unmerge restores every list", async () => {
    let merged = 0;
    let whileMerged = 0;
    await fc.assert(
      fc.asyncProperty(
        historyArbitrary({ minSteps: 80, maxSteps: 160, reopens: true }),
        fc.nat(),
        fc.integer({ min: 20, max: 100 }),
        async (history, pick, percent) => {
          // The merge comes after the first part of the history; the rest follows while merged, less the
          // merged customer's own stream (refused while merged), so its deals go on changing and closing.
          const split = Math.floor((history.length * percent) / 100);
          const pair = mergePair(history.slice(0, split), pick);
          if (!pair) return;
          const [mergedId, survivorId] = pair;
          const first = history.slice(0, split);
          const rest = history.slice(split).filter((e) => e.streamId !== `customer-${mergedId}`);
          const all = [...first, ...rest];
          const merge = mergeEvents(mergedId, survivorId, lastTimeOf(first));
          const [p, reference, unmerged] = [
            await project([...first, ...merge, ...rest], [dealsProjection]),
            await project(asMerged(all, mergedId, survivorId), [dealsProjection]),
            await project(all, [dealsProjection]),
          ];
          try {
            // The merged customer's deals keep their customer (a deal's customer never changes); asMerged renames it.
            const renamed = (pages: Awaited<ReturnType<typeof lists>>) =>
              pages.map((page) => ({
                ...page,
                items: page.items.map((d) => ({ ...d, customerId: d.customerId === mergedId ? survivorId : d.customerId })),
              }));
            const survivorLists = combos(survivorId);
            expect(renamed(await lists(p, survivorLists))).toEqual(await lists(reference, survivorLists));
            // The merged customer's own list is as it is without the merge ("listed as they are").
            expect(await lists(p, combos(mergedId))).toEqual(await lists(unmerged, combos(mergedId)));
            if ((await listDeals(p.readModels, { customerId: mergedId })).total > 0) merged += 1;
            if (rest.some((e) => e.streamId.startsWith('deal-') && e.data.customerId === mergedId)) whileMerged += 1;

            await appendAndProject(p, unmergeEvents(mergedId, survivorId, lastTimeOf(all)));
            const every = [...survivorLists, ...combos(mergedId), {}];
            expect(await lists(p, every)).toEqual(await lists(unmerged, every));
          } finally {
            await Promise.all([p.close(), reference.close(), unmerged.close()]);
          }
        },
      ),
      { numRuns: 15, seed: 2912 },
    );
    expect(merged).toBeGreaterThan(3);
    expect(whileMerged).toBeGreaterThan(1);
  });
});
