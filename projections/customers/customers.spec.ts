import fc from 'fast-check';
import { InvalidInput } from '@chronicle/domain';
import type { RecordedEvent } from '@chronicle/event-store';
import { money } from '../common/numbers';
import { appendAndProject } from '../testing/append';
import { project, Projected, ScenarioEvent } from '../testing/harness';
import { asMerged, lastTimeOf, mergeEvents, mergePair, unmergeEvents } from '../testing/merge';
import { historyArbitrary } from '../testing/random-history';
import { customersProjection } from './projection';
import { CustomerView, getCustomer, listCustomers, ListCustomersParams, searchLimits } from './query';

const C1 = '7b1c5a1e-0000-4000-8000-000000000001';
const D1 = 'd0000000-0000-4000-8000-000000000001';
const D2 = 'd0000000-0000-4000-8000-000000000002';

const customer = (id: string, type: string, occurredAt: string, data: Record<string, unknown> = {}): ScenarioEvent => ({
  streamId: `customer-${id}`,
  type,
  data: { customerId: id, ...data },
  occurredAt,
});
const deal = (dealId: string, type: string, occurredAt: string, data: Record<string, unknown>): ScenarioEvent => ({
  streamId: `deal-${dealId}`,
  type,
  data: { dealId, ...data },
  occurredAt,
});

describe('customers projection: profile, lifecycle and totals', () => {
  let p: Projected;
  afterEach(() => p?.close());

  it('follows a customer acquired by a won deal, churned and reactivated, with exact totals at each step', async () => {
    p = await project(
      [
        customer(C1, 'CustomerRegistered', '2024-01-01T09:00:00.000Z', {
          name: 'Ada Lovelace',
          email: 'ada@engines.io',
          company: 'Analytical Engines',
          region: 'emea',
          industry: 'tech',
          source: 'referral',
          ownerId: 'u1',
        }),
        deal(D1, 'DealOpened', '2024-01-02T09:00:00.000Z', {
          customerId: C1,
          title: 'Engine',
          amount: 1000,
          ownerId: 'u1',
          source: 'referral',
          stage: 'qualification',
        }),
        deal(D2, 'DealOpened', '2024-01-02T10:00:00.000Z', {
          customerId: C1,
          title: 'Support',
          amount: 300,
          ownerId: 'u1',
          source: 'referral',
          stage: 'qualification',
        }),
        customer(C1, 'InteractionLogged', '2024-01-03T09:00:00.000Z', {
          interactionId: 'i1',
          type: 'call',
          direction: 'outbound',
          subject: 'intro',
        }),
        // imported with an older business time: lastInteractionAt keeps the latest
        customer(C1, 'InteractionLogged', '2024-01-02T12:00:00.000Z', {
          interactionId: 'i2',
          type: 'email',
          direction: 'inbound',
          subject: 'question',
        }),
      ],
      [customersProjection],
    );
    const base = {
      id: C1,
      name: 'Ada Lovelace',
      email: 'ada@engines.io',
      phone: null,
      company: 'Analytical Engines',
      industry: 'tech',
      region: 'emea',
      attributes: null,
      source: 'referral',
      ownerId: 'u1',
      leadId: null,
      registeredAt: '2024-01-01T09:00:00.000Z',
      tags: [],
      campaigns: [],
      archived: false,
      archivedAt: null,
      mergedInto: null,
      mergedAt: null,
      mergedIds: [],
    };
    expect(await getCustomer(p.readModels, C1)).toEqual<CustomerView>({
      ...base,
      status: 'prospect',
      acquiredAt: null,
      churnedAt: null,
      churnReason: null,
      reactivatedAt: null,
      totals: {
        purchases: { count: 0, amount: 0 },
        wonDeals: { count: 0, amount: 0 },
        openDeals: 2,
        revenue: 0,
        interactions: 2,
        lastInteractionAt: '2024-01-03T09:00:00.000Z',
      },
    });

    await appendAndProject(p, [
      deal(D1, 'DealWon', '2024-02-01T00:00:00.000Z', { customerId: C1, amount: 1000, stage: 'qualification' }),
      customer(C1, 'CustomerAcquired', '2024-02-01T00:00:00.000Z', { channel: 'referral', trigger: { type: 'DealWon', dealId: D1 } }),
    ]);
    expect(await getCustomer(p.readModels, C1)).toEqual<CustomerView>({
      ...base,
      status: 'active',
      acquiredAt: '2024-02-01T00:00:00.000Z',
      churnedAt: null,
      churnReason: null,
      reactivatedAt: null,
      totals: {
        purchases: { count: 0, amount: 0 },
        wonDeals: { count: 1, amount: 1000 },
        openDeals: 1,
        revenue: 1000,
        interactions: 2,
        lastInteractionAt: '2024-01-03T09:00:00.000Z',
      },
    });

    await appendAndProject(p, [
      customer(C1, 'PurchaseRecorded', '2024-02-10T00:00:00.000Z', { purchaseId: 'p1', amount: 250.1 }),
      customer(C1, 'PurchaseRecorded', '2024-02-11T00:00:00.000Z', { purchaseId: 'p2', amount: 0.2 }),
      deal(D2, 'DealLost', '2024-02-12T00:00:00.000Z', { customerId: C1, amount: 300, stage: 'qualification', reason: 'price' }),
      customer(C1, 'CustomerChurned', '2024-03-01T00:00:00.000Z', { reason: 'price' }),
    ]);
    expect(await getCustomer(p.readModels, C1)).toEqual<CustomerView>({
      ...base,
      status: 'churned',
      acquiredAt: '2024-02-01T00:00:00.000Z',
      churnedAt: '2024-03-01T00:00:00.000Z',
      churnReason: 'price',
      reactivatedAt: null,
      totals: {
        purchases: { count: 2, amount: 250.3 },
        wonDeals: { count: 1, amount: 1000 },
        openDeals: 0,
        revenue: 1250.3,
        interactions: 2,
        lastInteractionAt: '2024-01-03T09:00:00.000Z',
      },
    });

    await appendAndProject(p, [
      customer(C1, 'CustomerReactivated', '2024-04-01T00:00:00.000Z'),
      customer(C1, 'CustomerProfileUpdated', '2024-04-02T00:00:00.000Z', { name: 'Ada King', phone: '+44 20 1234' }),
      customer(C1, 'CustomerOwnerAssigned', '2024-04-03T00:00:00.000Z', { ownerId: 'u2', previousOwnerId: 'u1' }),
      customer(C1, 'InteractionLogged', '2024-04-04T00:00:00.000Z', {
        interactionId: 'i3',
        type: 'meeting',
        direction: 'outbound',
        subject: 'welcome back',
      }),
    ]);
    expect(await getCustomer(p.readModels, C1)).toEqual<CustomerView>({
      ...base,
      name: 'Ada King',
      phone: '+44 20 1234',
      ownerId: 'u2',
      status: 'active',
      acquiredAt: '2024-02-01T00:00:00.000Z',
      churnedAt: null,
      churnReason: null,
      reactivatedAt: '2024-04-01T00:00:00.000Z',
      totals: {
        purchases: { count: 2, amount: 250.3 },
        wonDeals: { count: 1, amount: 1000 },
        openDeals: 0,
        revenue: 1250.3,
        interactions: 3,
        lastInteractionAt: '2024-04-04T00:00:00.000Z',
      },
    });
    expect(await getCustomer(p.readModels, 'no-such-customer')).toBeNull();
  });

  it('lists with filters, sorts, pagination and a case-insensitive search that follows profile changes', async () => {
    const id = (n: number) => `00000000-0000-4000-8000-00000000000${n}`;
    const reg = (n: number, at: string, data: Record<string, unknown>) => customer(id(n), 'CustomerRegistered', at, data);
    p = await project(
      [
        reg(1, '2024-01-01T00:00:00.000Z', {
          name: 'zeta Corp',
          email: 'hello@zeta.com',
          source: 'web',
          ownerId: 'u1',
          region: 'emea',
          industry: 'retail',
        }),
        reg(2, '2024-01-02T00:00:00.000Z', {
          name: 'Alpha Ltd',
          company: 'Alpha Holdings',
          source: 'ads',
          ownerId: 'u2',
          region: 'amer',
          industry: 'tech',
        }),
        reg(3, '2024-01-03T00:00:00.000Z', {
          name: 'beta GmbH',
          email: 'info@BETA.de',
          source: 'web',
          ownerId: 'u1',
          region: 'emea',
          industry: 'tech',
        }),
        reg(4, '2024-01-04T00:00:00.000Z', { name: 'Gamma Inc', source: 'web', ownerId: 'u2', region: 'apac' }),
        reg(5, '2024-01-05T00:00:00.000Z', { name: 'delta plc', company: 'Zetaworks', source: 'referral', region: 'emea' }),
        customer(id(2), 'PurchaseRecorded', '2024-01-06T00:00:00.000Z', { purchaseId: 'p1', amount: 500 }),
        customer(id(2), 'CustomerAcquired', '2024-01-06T00:00:00.000Z', {
          channel: 'ads',
          trigger: { type: 'PurchaseRecorded', purchaseId: 'p1' },
        }),
        customer(id(3), 'PurchaseRecorded', '2024-01-07T00:00:00.000Z', { purchaseId: 'p2', amount: 900 }),
        customer(id(3), 'CustomerAcquired', '2024-01-07T00:00:00.000Z', {
          channel: 'web',
          trigger: { type: 'PurchaseRecorded', purchaseId: 'p2' },
        }),
        customer(id(4), 'PurchaseRecorded', '2024-01-08T00:00:00.000Z', { purchaseId: 'p3', amount: 100 }),
        customer(id(4), 'CustomerAcquired', '2024-01-08T00:00:00.000Z', {
          channel: 'web',
          trigger: { type: 'PurchaseRecorded', purchaseId: 'p3' },
        }),
        customer(id(4), 'CustomerChurned', '2024-02-01T00:00:00.000Z', { reason: 'moved' }),
      ],
      [customersProjection],
    );
    const list = async (params: ListCustomersParams) => {
      const page = await listCustomers(p.readModels, params);
      return { ids: page.items.map((c) => Number(c.id.slice(-1))), total: page.total, limit: page.limit, offset: page.offset };
    };
    // default: by name, case-insensitively
    expect(await list({})).toEqual({ ids: [2, 3, 5, 4, 1], total: 5, limit: 50, offset: 0 });
    expect(await list({ sort: '-name' })).toEqual({ ids: [1, 4, 5, 3, 2], total: 5, limit: 50, offset: 0 });
    expect(await list({ sort: '-registeredAt', limit: 2, offset: 1 })).toEqual({ ids: [4, 3], total: 5, limit: 2, offset: 1 });
    expect(await list({ sort: '-revenue' })).toEqual({ ids: [3, 2, 4, 1, 5], total: 5, limit: 50, offset: 0 });
    expect(await list({ sort: 'revenue' })).toEqual({ ids: [1, 5, 4, 2, 3], total: 5, limit: 50, offset: 0 }); // ties by id
    expect(await list({ status: 'active', sort: '-revenue' })).toEqual({ ids: [3, 2], total: 2, limit: 50, offset: 0 });
    expect(await list({ status: 'active' })).toEqual({ ids: [2, 3], total: 2, limit: 50, offset: 0 });
    expect(await list({ status: 'prospect', sort: '-registeredAt' })).toEqual({ ids: [5, 1], total: 2, limit: 50, offset: 0 });
    expect(await list({ source: 'web', ownerId: 'u1' })).toEqual({ ids: [3, 1], total: 2, limit: 50, offset: 0 });
    expect(await list({ region: 'emea', industry: 'tech' })).toEqual({ ids: [3], total: 1, limit: 50, offset: 0 });
    expect(await list({ ownerId: 'u9' })).toEqual({ ids: [], total: 0, limit: 50, offset: 0 });
    // q: substring of name, email or company, any case
    expect(await list({ q: 'ZETA' })).toEqual({ ids: [5, 1], total: 2, limit: 50, offset: 0 });
    expect(await list({ q: 'beta.d' })).toEqual({ ids: [3], total: 1, limit: 50, offset: 0 });
    expect(await list({ q: 'holdings', status: 'active' })).toEqual({ ids: [2], total: 1, limit: 50, offset: 0 });
    expect(await list({ q: ' A I ', sort: '-revenue', limit: 1 })).toEqual({ ids: [4], total: 1, limit: 1, offset: 0 }); // "gamma inc", trimmed
    expect(await list({ q: 'l', limit: 2, offset: 1 })).toEqual({ ids: [5, 1], total: 3, limit: 2, offset: 1 });
    expect(await list({ q: '.*' })).toEqual({ ids: [], total: 0, limit: 50, offset: 0 });
    // beyond searchLimits.maxMatches the store scans `search` with a literal regular expression: same answers
    searchLimits.maxMatches = 1;
    try {
      expect(await list({ q: 'ZETA' })).toEqual({ ids: [5, 1], total: 2, limit: 50, offset: 0 });
      expect(await list({ q: 'l', limit: 2, offset: 1 })).toEqual({ ids: [5, 1], total: 3, limit: 2, offset: 1 });
      expect(await list({ q: '.', status: 'prospect' })).toEqual({ ids: [1], total: 1, limit: 50, offset: 0 }); // a literal dot
    } finally {
      searchLimits.maxMatches = 16_384;
    }

    // the search follows profile changes at once (its in-memory index syncs by searchSeq)
    await appendAndProject(p, [
      customer(id(1), 'CustomerProfileUpdated', '2024-03-01T00:00:00.000Z', { name: 'Omega Corp', email: 'hi@omega.com' }),
    ]);
    expect(await list({ q: 'zeta' })).toEqual({ ids: [5], total: 1, limit: 50, offset: 0 });
    expect(await list({ q: 'omega' })).toEqual({ ids: [1], total: 1, limit: 50, offset: 0 });
    await appendAndProject(p, [customer(id(6), 'CustomerRegistered', '2024-03-02T00:00:00.000Z', { name: 'Omega Two', source: 'web' })]);
    expect(await list({ q: 'OMEGA', sort: 'registeredAt' })).toEqual({ ids: [1, 6], total: 2, limit: 50, offset: 0 });

    for (const bad of [
      { limit: 0 },
      { limit: 201 },
      { offset: -1 },
      { sort: 'email' },
      { status: 'lost' },
      { q: 'a\u0000b' },
      { ownerId: '' },
    ]) {
      await expect(listCustomers(p.readModels, bad)).rejects.toBeInstanceOf(InvalidInput);
    }
  });
});

describe('customers projection: reopened deals', () => {
  let p: Projected;
  afterEach(() => p?.close());

  it('a reopened win leaves the won totals and the deal is open again; won again, it counts with its new amount', async () => {
    const opened = (dealId: string, amount: number) =>
      deal(dealId, 'DealOpened', '2024-01-02T00:00:00.000Z', {
        customerId: C1,
        title: 'Deal',
        amount,
        ownerId: 'u1',
        source: 'web',
        stage: 'qualification',
      });
    const reopened = (dealId: string, occurredAt: string, data: Record<string, unknown>) =>
      deal(dealId, 'DealReopened', occurredAt, {
        customerId: C1,
        ownerId: 'u1',
        stage: 'qualification',
        closedStage: 'qualification',
        ...data,
      });
    p = await project(
      [
        customer(C1, 'CustomerRegistered', '2024-01-01T00:00:00.000Z', { name: 'Ada', source: 'web', ownerId: 'u1' }),
        opened(D1, 1000),
        opened(D2, 300),
        customer(C1, 'PurchaseRecorded', '2024-01-03T00:00:00.000Z', { purchaseId: 'p1', amount: 50 }),
        deal(D1, 'DealWon', '2024-01-10T00:00:00.000Z', { customerId: C1, amount: 1000, stage: 'qualification' }),
        customer(C1, 'CustomerAcquired', '2024-01-10T00:00:00.000Z', { channel: 'web', trigger: { type: 'DealWon', dealId: D1 } }),
        deal(D2, 'DealLost', '2024-01-11T00:00:00.000Z', { customerId: C1, amount: 300, stage: 'qualification', reason: 'price' }),
        reopened(D1, '2024-02-01T00:00:00.000Z', { amount: 1000, outcome: 'won', closedAt: '2024-01-10T00:00:00.000Z' }),
        reopened(D2, '2024-02-02T00:00:00.000Z', {
          amount: 300,
          outcome: 'lost',
          closedAt: '2024-01-11T00:00:00.000Z',
          lostReason: 'price',
        }),
      ],
      [customersProjection],
    );
    // The acquisition stands: still active.
    expect(await getCustomer(p.readModels, C1)).toMatchObject({
      status: 'active',
      acquiredAt: '2024-01-10T00:00:00.000Z',
      totals: { purchases: { count: 1, amount: 50 }, wonDeals: { count: 0, amount: 0 }, openDeals: 2, revenue: 50 },
    });
    expect((await listCustomers(p.readModels, { sort: '-revenue' })).items.map((c) => c.totals.revenue)).toEqual([50]);

    await appendAndProject(p, [
      deal(D1, 'DealAmountChanged', '2024-02-05T00:00:00.000Z', { from: 1000, to: 1250 }),
      deal(D1, 'DealWon', '2024-02-10T00:00:00.000Z', { customerId: C1, amount: 1250, stage: 'qualification' }),
    ]);
    expect(await getCustomer(p.readModels, C1)).toMatchObject({
      status: 'active',
      totals: { purchases: { count: 1, amount: 50 }, wonDeals: { count: 1, amount: 1250 }, openDeals: 1, revenue: 1300 },
    });
  });
});

describe('tags and campaigns', () => {
  let p: Projected;
  const maxMatches = searchLimits.maxMatches;
  afterEach(async () => {
    searchLimits.maxMatches = maxMatches;
    await p?.close();
  });

  it('are listed on the customer in the order set (once each), and filter the list by index or, beyond maxMatches, by a scan', async () => {
    const id = (n: number) => `00000000-0000-4000-8000-00000000000${n}`;
    const at = '2024-01-02T00:00:00.000Z';
    const names = ['', 'one', 'two', 'three', 'four', 'five'];
    p = await project(
      [
        ...[1, 2, 3, 4, 5].map((n) => customer(id(n), 'CustomerRegistered', '2024-01-01T00:00:00.000Z', { name: names[n], source: 'web' })),
        ...[1, 2, 3].map((n) => customer(id(n), 'CustomerTagged', at, { tag: 'vip', reason: 'rule' })),
        customer(id(2), 'CustomerEnrolled', at, { campaign: 'nurture' }),
        customer(id(2), 'CustomerTagged', at, { tag: 'vip' }), // again: listed once
        customer(id(2), 'CustomerTagged', at, { tag: 'big' }),
        customer(id(3), 'CustomerEnrolled', at, { campaign: 'nurture' }),
        customer(id(4), 'CustomerEnrolled', at, { campaign: 'nurture' }),
        customer(id(3), 'PurchaseRecorded', at, { purchaseId: 'p1', amount: 10 }),
        customer(id(3), 'CustomerAcquired', at, { channel: 'web', trigger: { type: 'PurchaseRecorded', purchaseId: 'p1' } }),
      ],
      [customersProjection],
    );
    expect(await getCustomer(p.readModels, id(2))).toMatchObject({ tags: ['vip', 'big'], campaigns: ['nurture'] });
    expect(await getCustomer(p.readModels, id(5))).toMatchObject({ tags: [], campaigns: [] });
    const list = async (params: ListCustomersParams) => {
      const page = await listCustomers(p.readModels, params);
      return [page.items.map((c) => names[Number(c.id.slice(-1))]), page.total];
    };
    for (const limit of [maxMatches, 1]) {
      searchLimits.maxMatches = limit; // 1: every list of two or more is a scan
      expect(await list({ tag: 'vip' })).toEqual([['one', 'three', 'two'], 3]);
      expect(await list({ tag: 'vip', campaign: 'nurture' })).toEqual([['three', 'two'], 2]);
      expect(await list({ tag: 'vip', campaign: 'nurture', status: 'active' })).toEqual([['three'], 1]);
      expect(await list({ campaign: 'nurture', q: 'f' })).toEqual([['four'], 1]);
      expect(await list({ campaign: 'nurture', sort: '-name', limit: 1, offset: 1 })).toEqual([['three'], 3]);
      expect(await list({ tag: 'big' })).toEqual([['two'], 1]);
      expect(await list({ tag: 'none' })).toEqual([[], 0]);
    }
    await expect(listCustomers(p.readModels, { tag: '' })).rejects.toBeInstanceOf(InvalidInput);
  });
});

/** A straightforward fold of the raw events into the customer views the list should return. */
function foldCustomers(events: RecordedEvent[]): Map<string, CustomerView & { revenueRaw: number; purchaseRaw: number; wonRaw: number }> {
  type Row = CustomerView & { revenueRaw: number; purchaseRaw: number; wonRaw: number };
  const rows = new Map<string, Row>();
  const row = (id: string): Row => {
    let r = rows.get(id);
    if (!r) {
      r = {
        id,
        name: '',
        email: null,
        phone: null,
        company: null,
        industry: null,
        region: null,
        attributes: null,
        source: null,
        ownerId: null,
        leadId: null,
        status: 'prospect',
        registeredAt: null,
        acquiredAt: null,
        churnedAt: null,
        churnReason: null,
        reactivatedAt: null,
        tags: [],
        campaigns: [],
        archived: false,
        archivedAt: null,
        mergedInto: null,
        mergedAt: null,
        mergedIds: [],
        totals: {
          purchases: { count: 0, amount: 0 },
          wonDeals: { count: 0, amount: 0 },
          openDeals: 0,
          revenue: 0,
          interactions: 0,
          lastInteractionAt: null,
        },
        revenueRaw: 0,
        purchaseRaw: 0,
        wonRaw: 0,
      };
      rows.set(id, r);
    }
    return r;
  };
  const lastReopen = new Map<string, number>();
  for (const e of events) if (e.type === 'DealReopened') lastReopen.set((e.data as { dealId: string }).dealId, e.globalPosition);
  for (const e of events) {
    const d = e.data as Record<string, any>;
    if (!d.customerId) continue;
    const r = row(d.customerId);
    switch (e.type) {
      case 'CustomerRegistered':
        Object.assign(r, {
          name: d.name,
          email: d.email ?? null,
          phone: d.phone ?? null,
          company: d.company ?? null,
          industry: d.industry ?? null,
          region: d.region ?? null,
          attributes: d.attributes ?? null,
          source: d.source,
          ownerId: d.ownerId ?? null,
          leadId: d.leadId ?? null,
          registeredAt: e.occurredAt,
        });
        break;
      case 'CustomerAcquired':
        r.acquiredAt = e.occurredAt;
        if (r.status === 'prospect') r.status = 'active';
        break;
      case 'CustomerChurned':
        Object.assign(r, { status: 'churned', churnedAt: e.occurredAt, churnReason: d.reason });
        break;
      case 'CustomerReactivated':
        Object.assign(r, { status: 'active', churnedAt: null, churnReason: null, reactivatedAt: e.occurredAt });
        break;
      case 'PurchaseRecorded':
        r.totals.purchases.count += 1;
        r.purchaseRaw += d.amount;
        break;
      case 'InteractionLogged':
        r.totals.interactions += 1;
        if (r.totals.lastInteractionAt === null || e.occurredAt > r.totals.lastInteractionAt) r.totals.lastInteractionAt = e.occurredAt;
        break;
      case 'DealOpened':
        r.totals.openDeals += 1;
        break;
      case 'DealWon':
        r.totals.openDeals -= 1;
        // A deal counts by its last close: a win some later DealReopened undoes is not counted.
        if (lastReopen.get(d.dealId) === undefined || lastReopen.get(d.dealId)! < e.globalPosition) {
          r.totals.wonDeals.count += 1;
          r.wonRaw += d.amount;
        }
        break;
      case 'DealLost':
        r.totals.openDeals -= 1;
        break;
      case 'DealReopened':
        r.totals.openDeals += 1;
        break;
      case 'CustomerTagged':
        if (!r.tags.includes(d.tag)) r.tags.push(d.tag);
        break;
      case 'CustomerEnrolled':
        if (!r.campaigns.includes(d.campaign)) r.campaigns.push(d.campaign);
        break;
    }
  }
  for (const r of rows.values()) {
    r.revenueRaw = r.purchaseRaw + r.wonRaw;
    r.totals.purchases.amount = money(r.purchaseRaw);
    r.totals.wonDeals.amount = money(r.wonRaw);
    r.totals.revenue = money(r.revenueRaw);
  }
  return rows;
}

/** Tags and enrolments, as rules would set them, on some customers of a random history (some twice). */
function withLabels(history: ScenarioEvent[]): ScenarioEvent[] {
  const out: ScenarioEvent[] = [];
  let n = 0;
  for (const event of history) {
    out.push(event);
    if (event.type !== 'CustomerRegistered') continue;
    const id = event.data.customerId as string;
    n += 1;
    const at = event.occurredAt;
    if (n % 2 === 0) out.push(customer(id, 'CustomerTagged', at, { tag: 'vip' }));
    if (n % 3 === 0) out.push(customer(id, 'CustomerEnrolled', at, { campaign: 'nurture' }));
    if (n % 5 === 0)
      out.push(customer(id, 'CustomerEnrolled', at, { campaign: 'winback' }), customer(id, 'CustomerTagged', at, { tag: 'vip' }));
  }
  return out;
}

const COMBOS: ListCustomersParams[] = [
  {},
  { status: 'active', sort: '-revenue' },
  { ownerId: 'u2', sort: '-registeredAt', limit: 3, offset: 1 },
  { source: 'web', status: 'prospect' },
  { region: 'emea', sort: 'registeredAt' },
  { status: 'active', region: 'emea', sort: '-revenue', limit: 5 },
  { status: 'active', region: 'emea', source: 'web' },
  { status: 'churned', sort: 'revenue' },
  { q: 'customer c00', sort: '-name', limit: 4 },
  { q: 'LEAD', sort: '-registeredAt' },
  { q: '1', status: 'active', sort: '-revenue' },
  { q: 'customer', status: 'prospect', limit: 3, offset: 1 },
  { status: 'active', limit: 2, offset: 1 },
  { status: 'prospect', sort: '-registeredAt', limit: 5 },
  { status: 'active', sort: '-name' },
  { tag: 'vip' },
  { tag: 'vip', campaign: 'nurture', sort: '-revenue' },
  { campaign: 'nurture', status: 'active', limit: 3, offset: 1 },
  { campaign: 'winback', q: 'customer', sort: 'registeredAt' },
];

/** The served list equals foldCustomers' for every combination. */
async function expectListsMatchFold(p: Projected): Promise<void> {
  const rows = [...foldCustomers(p.events).values()];
  for (const params of COMBOS) {
    const q = params.q?.toLowerCase();
    const field = (params.sort ?? 'name').replace('-', '');
    const dir = params.sort?.startsWith('-') ? -1 : 1;
    const key = (r: (typeof rows)[number]): string | number | null =>
      field === 'name' ? r.name.toLowerCase() : field === 'revenue' ? r.totals.revenue : r.registeredAt;
    const cmp = (a: (typeof rows)[number], b: (typeof rows)[number]) => {
      const [x, y] = [key(a), key(b)];
      const c = x === y ? 0 : x === null ? -1 : y === null ? 1 : x < y ? -1 : 1;
      return c !== 0 ? c * dir : a.id < b.id ? -1 : 1;
    };
    const matching = rows
      .filter((r) => (!params.status || r.status === params.status) && (!params.ownerId || r.ownerId === params.ownerId))
      .filter((r) => (!params.source || r.source === params.source) && (!params.region || r.region === params.region))
      .filter((r) => !q || [r.name, r.email ?? '', r.company ?? ''].some((s) => s.toLowerCase().includes(q)))
      .filter((r) => (!params.tag || r.tags.includes(params.tag)) && (!params.campaign || r.campaigns.includes(params.campaign)))
      .sort(cmp);
    const limit = params.limit ?? 50;
    const offset = params.offset ?? 0;
    const page = await listCustomers(p.readModels, params);
    expect(page.total).toBe(matching.length);
    expect(page.items).toEqual(
      matching.slice(offset, offset + limit).map(({ revenueRaw: _r, purchaseRaw: _p, wonRaw: _w, ...view }) => view),
    );
  }
}

describe('customers list = a fold of the raw events (property)', () => {
  it('matches for random histories and several filter, sort and page combinations', async () => {
    await fc.assert(
      fc.asyncProperty(historyArbitrary({ minSteps: 120, maxSteps: 200 }), async (history) => {
        const p = await project(withLabels(history), [customersProjection]);
        try {
          await expectListsMatchFold(p);
        } finally {
          await p.close();
        }
      }),
      { numRuns: 20, seed: 42 },
    );
  });

  it('matches for random histories with reopened deals (closed, reopened, closed again)', async () => {
    let withReopens = 0;
    await fc.assert(
      fc.asyncProperty(historyArbitrary({ minSteps: 100, maxSteps: 250, reopens: true }), async (history) => {
        const p = await project(withLabels(history), [customersProjection]);
        try {
          await expectListsMatchFold(p);
          if (p.events.some((e) => e.type === 'DealReopened')) withReopens += 1;
        } finally {
          await p.close();
        }
      }),
      { numRuns: 15, seed: 1612 },
    );
    expect(withReopens).toBeGreaterThan(5);
  });
});

describe('merges (docs/merging.md)', () => {
  let p: Projected | undefined;
  afterEach(async () => {
    await p?.close();
    p = undefined;
  });

  it('the merged customers leave the lists and totals, their figures count for the survivor; unmerged, each is as before', async () => {
    const [S, M, A, X] = ['cus-s', 'cus-m', 'cus-a', 'cus-x'];
    const reg = (id: string, at: string, name: string, ownerId: string, region: string) =>
      customer(id, 'CustomerRegistered', at, { name, source: 'web', ownerId, region });
    const opened = (dealId: string, at: string, customerId: string, amount: number) =>
      deal(dealId, 'DealOpened', at, { customerId, title: dealId, amount, ownerId: 'u1', source: 'web', stage: 'qualification' });
    const interaction = (id: string, at: string) =>
      customer(id, 'InteractionLogged', at, { interactionId: `i-${at}`, type: 'call', direction: 'outbound', subject: 'hi' });
    p = await project(
      [
        reg(S, '2024-01-01T00:00:00.000Z', 'Sam Survivor', 'u1', 'emea'),
        reg(M, '2024-01-02T00:00:00.000Z', 'Sam Dup', 'u2', 'emea'),
        reg(A, '2024-01-03T00:00:00.000Z', 'Sam Archived', 'u2', 'emea'),
        reg(X, '2024-01-04T00:00:00.000Z', 'Xavier', 'u1', 'apac'),
        customer(S, 'PurchaseRecorded', '2024-01-05T00:00:00.000Z', { purchaseId: 'p1', amount: 200 }),
        customer(S, 'CustomerTagged', '2024-01-05T00:00:00.000Z', { tag: 'big' }),
        customer(S, 'CustomerTagged', '2024-01-05T00:00:00.000Z', { tag: 'vip' }),
        interaction(S, '2024-01-06T00:00:00.000Z'),
        customer(M, 'PurchaseRecorded', '2024-01-07T00:00:00.000Z', { purchaseId: 'p2', amount: 100.5 }),
        opened(D1, '2024-01-08T00:00:00.000Z', M, 1000),
        deal(D1, 'DealWon', '2024-01-10T00:00:00.000Z', { customerId: M, amount: 1000, stage: 'qualification' }),
        customer(M, 'CustomerAcquired', '2024-01-10T00:00:00.000Z', { channel: 'web', trigger: { type: 'DealWon', dealId: D1 } }),
        opened(D2, '2024-01-11T00:00:00.000Z', M, 500),
        interaction(M, '2024-01-20T00:00:00.000Z'),
        customer(M, 'CustomerTagged', '2024-01-20T00:00:00.000Z', { tag: 'vip' }),
        customer(M, 'CustomerEnrolled', '2024-01-20T00:00:00.000Z', { campaign: 'nurture' }),
        customer(A, 'PurchaseRecorded', '2024-01-09T00:00:00.000Z', { purchaseId: 'p3', amount: 40 }),
        customer(A, 'CustomerArchived', '2024-02-01T00:00:00.000Z', { reason: 'duplicate' }),
        customer(X, 'PurchaseRecorded', '2024-01-12T00:00:00.000Z', { purchaseId: 'p4', amount: 1250 }),
        customer(X, 'CustomerAcquired', '2024-01-12T00:00:00.000Z', {
          channel: 'web',
          trigger: { type: 'PurchaseRecorded', purchaseId: 'p4' },
        }),
      ],
      [customersProjection],
    );
    const list = async (params: ListCustomersParams = {}) => {
      const page = await listCustomers(p!.readModels, params);
      return [page.items.map((c) => c.id), page.total];
    };
    const totals = async (id: string) => {
      const c = (await getCustomer(p!.readModels, id))!;
      return { ...c.totals, tags: c.tags, campaigns: c.campaigns, mergedInto: c.mergedInto, mergedAt: c.mergedAt, mergedIds: c.mergedIds };
    };
    const figures = (purchases: [number, number], won: [number, number], openDeals: number, interactions: [number, string | null]) => ({
      purchases: { count: purchases[0], amount: purchases[1] },
      wonDeals: { count: won[0], amount: won[1] },
      openDeals,
      revenue: money(purchases[1] + won[1]),
      interactions: interactions[0],
      lastInteractionAt: interactions[1],
    });
    const unmerged = { mergedInto: null, mergedAt: null, mergedIds: [] };
    const sOwn = { ...figures([1, 200], [0, 0], 0, [1, '2024-01-06T00:00:00.000Z']), tags: ['big', 'vip'], campaigns: [], ...unmerged };
    const mOwn = { ...figures([1, 100.5], [1, 1000], 1, [1, '2024-01-20T00:00:00.000Z']), tags: ['vip'], campaigns: ['nurture'] };
    expect(await list()).toEqual([[M, S, X], 3]); // by name: "sam dup", "sam survivor", "xavier"
    expect(await list({ archived: 'true' })).toEqual([[A], 1]);
    expect(await totals(S)).toEqual(sOwn);

    const M_AT = '2024-03-01T00:00:00.000Z';
    const A_AT = '2024-03-02T00:00:00.000Z';
    await appendAndProject(p, [...mergeEvents(M, S, M_AT, 'same person'), ...mergeEvents(A, S, A_AT)]);
    // The survivor adds the merged customers' figures (tags and campaigns: its own first); its lifecycle is its own (a prospect).
    expect(await totals(S)).toEqual({
      ...figures([3, 340.5], [1, 1000], 1, [2, '2024-01-20T00:00:00.000Z']),
      tags: ['big', 'vip'],
      campaigns: ['nurture'],
      mergedInto: null,
      mergedAt: null,
      mergedIds: [M, A],
    });
    expect(await getCustomer(p.readModels, S)).toMatchObject({ status: 'prospect', acquiredAt: null, ownerId: 'u1', archived: false });
    // The merged customer's own document, for the pointer.
    expect(await totals(M)).toEqual({ ...mOwn, mergedInto: S, mergedAt: M_AT, mergedIds: [] });
    expect(await getCustomer(p.readModels, A)).toMatchObject({ mergedInto: S, mergedAt: A_AT, archived: true });
    // Out of every list and total (stats: status, owner, region), archived or not.
    expect(await list()).toEqual([[S, X], 2]);
    expect(await list({ archived: 'true' })).toEqual([[], 0]);
    expect(await list({ status: 'active' })).toEqual([[X], 1]);
    expect(await list({ ownerId: 'u2' })).toEqual([[], 0]);
    expect(await list({ region: 'emea' })).toEqual([[S], 1]);
    expect(await list({ region: 'emea', ownerId: 'u1' })).toEqual([[S], 1]);
    expect(await list({ q: 'sam' })).toEqual([[S], 1]);
    expect(await list({ q: 'dup' })).toEqual([[], 0]);
    // The survivor is found by the merged customer's labels, and sorted by the combined revenue.
    expect(await list({ tag: 'vip' })).toEqual([[S], 1]);
    expect(await list({ campaign: 'nurture' })).toEqual([[S], 1]);
    expect(await list({ sort: '-revenue' })).toEqual([[S, X], 2]); // 1340.5 > 1250
    // The same by a scan (beyond maxMatches): on the survivor's combined lists, the merged customer's documents filtered out.
    searchLimits.maxMatches = 1;
    try {
      expect(await list({ tag: 'vip' })).toEqual([[S], 1]);
      expect(await list({ q: 'sam' })).toEqual([[S], 1]);
      expect(await list({ q: 'dup' })).toEqual([[], 0]);
    } finally {
      searchLimits.maxMatches = 16_384;
    }

    // The merged customer's deal closes, a late purchase and interaction arrive: its own figures and the survivor's.
    await appendAndProject(p, [
      deal(D2, 'DealWon', '2024-03-05T00:00:00.000Z', { customerId: M, amount: 500, stage: 'qualification' }),
      customer(S, 'CustomerAcquired', '2024-03-05T00:00:00.000Z', { channel: 'web', trigger: { type: 'DealWon', dealId: D2 } }),
      customer(M, 'PurchaseRecorded', '2024-03-06T00:00:00.000Z', { purchaseId: 'p5', amount: 9.5 }),
      interaction(M, '2024-03-07T00:00:00.000Z'),
      customer(M, 'CustomerTagged', '2024-03-07T00:00:00.000Z', { tag: 'late' }),
    ]);
    const mLater = { ...figures([2, 110], [2, 1500], 0, [2, '2024-03-07T00:00:00.000Z']), tags: ['vip', 'late'], campaigns: ['nurture'] };
    expect(await totals(M)).toEqual({ ...mLater, mergedInto: S, mergedAt: M_AT, mergedIds: [] });
    expect(await totals(S)).toEqual({
      ...figures([4, 350], [2, 1500], 0, [3, '2024-03-07T00:00:00.000Z']),
      tags: ['big', 'vip', 'late'],
      campaigns: ['nurture'],
      mergedInto: null,
      mergedAt: null,
      mergedIds: [M, A],
    });
    expect(await list({ status: 'active', sort: '-revenue' })).toEqual([[S, X], 2]);
    expect(await list({ tag: 'late' })).toEqual([[S], 1]);

    // Unmerged, the merged customer is listed again with its figures (those recorded while merged too); the survivor keeps the other's.
    await appendAndProject(p, unmergeEvents(M, S, '2024-04-01T00:00:00.000Z', 'mistake'));
    expect(await totals(M)).toEqual({ ...mLater, ...unmerged });
    expect(await totals(S)).toEqual({
      ...figures([2, 240], [0, 0], 0, [1, '2024-01-06T00:00:00.000Z']),
      tags: ['big', 'vip'],
      campaigns: [],
      mergedInto: null,
      mergedAt: null,
      mergedIds: [A],
    });
    expect(await list()).toEqual([[M, S, X], 3]);
    expect(await list({ status: 'active' })).toEqual([[M, S, X], 3]);
    expect(await list({ ownerId: 'u2' })).toEqual([[M], 1]);
    expect(await list({ tag: 'late' })).toEqual([[M], 1]);
    expect(await list({ tag: 'vip' })).toEqual([[M, S], 2]);
    expect(await list({ campaign: 'nurture' })).toEqual([[M], 1]);
    expect(await list({ sort: '-revenue' })).toEqual([[M, X, S], 3]);

    // The last one unmerged, the survivor's figures are exactly its own; the archived customer is archived again.
    await appendAndProject(p, unmergeEvents(A, S, '2024-04-02T00:00:00.000Z'));
    expect(await totals(S)).toEqual(sOwn);
    expect(await list({ archived: 'true' })).toEqual([[A], 1]);
    expect(await list({ archived: 'true', ownerId: 'u2' })).toEqual([[A], 1]);
    expect(await getCustomer(p.readModels, A)).toMatchObject({ ...unmerged, archived: true, totals: { revenue: 40 } });

    // Merged again, into another survivor.
    await appendAndProject(p, mergeEvents(M, X, '2024-04-03T00:00:00.000Z'));
    expect(await getCustomer(p.readModels, X)).toMatchObject({
      mergedIds: [M],
      tags: ['vip', 'late'],
      totals: { purchases: { count: 3, amount: 1360 }, wonDeals: { count: 2, amount: 1500 }, revenue: 2860, interactions: 2 },
    });
    expect(await list({ sort: '-revenue' })).toEqual([[X, S], 2]);
    expect(await totals(S)).toEqual(sOwn);
  });

  /** The views users see: the lists of COMBOS (and all of them by revenue) and the survivor's. */
  const views = async (p: Projected, survivorId: string) => ({
    lists: await Promise.all([...COMBOS, { sort: '-revenue', limit: 200 }].map((params) => listCustomers(p.readModels, params))),
    survivor: await getCustomer(p.readModels, survivorId),
  });
  /**
   * What a merge must show differently from `asMerged`: the survivor lists its merged customer
   * (`mergedIds`), and its tags and campaigns put its own first where the rewritten history has
   * them in the order they were set (a set either way).
   */
  const asReference = (view: CustomerView | null, survivorId: string): CustomerView | null =>
    view && {
      ...view,
      ...(view.id === survivorId && { mergedIds: [] }),
      tags: [...view.tags].sort(),
      campaigns: [...view.campaigns].sort(),
    };
  const normalised = (v: Awaited<ReturnType<typeof views>>, survivorId: string) => ({
    lists: v.lists.map((page) => ({ ...page, items: page.items.map((item) => asReference(item, survivorId)) })),
    survivor: asReference(v.survivor, survivorId),
  });

  it('property: merged, the lists and the survivor are those of the history as merged; unmerged, those of the history', async () => {
    let withFigures = 0;
    await fc.assert(
      fc.asyncProperty(
        historyArbitrary({ minSteps: 80, maxSteps: 160, reopens: true }),
        fc.nat(),
        fc.integer({ min: 1, max: 4 }),
        async (raw, pick, quarter) => {
          // The merge after a part of the history (all of it for quarter 4): the rest is recorded while merged.
          const history = withLabels(raw);
          const cut = Math.floor((history.length * quarter) / 4);
          const pair = mergePair(history.slice(0, cut), pick);
          if (!pair) return;
          const [mergedId, survivorId] = pair;
          const mergedAt = lastTimeOf(history.slice(0, cut));
          const projected = await Promise.all([
            project(
              [...history.slice(0, cut), ...mergeEvents(mergedId, survivorId, mergedAt), ...history.slice(cut)],
              [customersProjection],
            ),
            project(asMerged(history, mergedId, survivorId), [customersProjection]),
            project(history, [customersProjection]),
          ]);
          const [merged, reference, plain] = projected;
          try {
            expect(normalised(await views(merged, survivorId), survivorId)).toEqual(
              normalised(await views(reference, survivorId), survivorId),
            );
            // The merged customer's own document, with the pointer.
            const own = (await getCustomer(plain.readModels, mergedId))!;
            expect(await getCustomer(merged.readModels, mergedId)).toEqual({ ...own, mergedInto: survivorId, mergedAt });
            if (own.totals.revenue !== 0 || own.totals.interactions > 0 || own.tags.length > 0) withFigures += 1;

            await appendAndProject(merged, unmergeEvents(mergedId, survivorId, lastTimeOf(history)));
            expect(await views(merged, survivorId)).toEqual(await views(plain, survivorId));
            expect(await getCustomer(merged.readModels, mergedId)).toEqual(await getCustomer(plain.readModels, mergedId));
          } finally {
            await Promise.all(projected.map((x) => x.close()));
          }
        },
      ),
      { numRuns: 15, seed: 2026 },
    );
    expect(withFigures).toBeGreaterThan(5);
  });
});
