import fc from 'fast-check';
import { buildCacReport } from '../cac/query';
import { cacProjection } from '../cac/projection';
import { money } from '../common/numbers';
import { appendAndProject } from '../testing/append';
import { project, Projected, ScenarioEvent } from '../testing/harness';
import { asMerged, lastTimeOf, mergeEvents, mergePair, registeredCustomers, unmergeEvents } from '../testing/merge';
import { historyArbitrary, runScript, Step } from '../testing/random-history';
import { reportParams, reportParamsArbitrary } from '../testing/report-params';
import { campaignsProjection } from './projection';
import { CampaignView, ListCampaignsParams, listCampaigns } from './query';
import { campaignsListReference, campaignsReference } from './reference';
import { CampaignsReport, campaignsReport } from './report';

const launched = (id: string, occurredAt: string, name: string, channel: string, budget?: number): ScenarioEvent => ({
  streamId: `campaign-${id}`,
  type: 'CampaignLaunched',
  occurredAt,
  data: { campaignId: id, name, channel, ...(budget === undefined ? {} : { budget }) },
});
let spends = 0;
const spend = (occurredAt: string, amount: number, channel: string | null, campaignId?: string): ScenarioEvent => ({
  streamId: campaignId ? `campaign-${campaignId}` : `spend-${channel ?? 'unattributed'}`,
  type: 'SpendRecorded',
  occurredAt,
  data: { spendId: `s${++spends}`, amount, category: 'marketing', channel, ...(campaignId ? { campaignId } : {}) },
});
const captured = (id: string, occurredAt: string, campaignId?: string): ScenarioEvent => ({
  streamId: `lead-${id}`,
  type: 'LeadCaptured',
  occurredAt,
  data: { leadId: id, name: `Lead ${id}`, source: 'web', ...(campaignId ? { campaignId } : {}) },
});
const converted = (leadId: string, customerId: string, occurredAt: string): ScenarioEvent => ({
  streamId: `lead-${leadId}`,
  type: 'LeadConverted',
  occurredAt,
  data: { leadId, customerId, source: 'web' },
});
const registered = (customerId: string, occurredAt: string, leadId?: string): ScenarioEvent => ({
  streamId: `customer-${customerId}`,
  type: 'CustomerRegistered',
  occurredAt,
  data: { customerId, name: `Customer ${customerId}`, source: 'web', ...(leadId ? { leadId } : {}) },
});
const linked = (customerId: string, leadId: string, occurredAt: string): ScenarioEvent => ({
  streamId: `customer-${customerId}`,
  type: 'CustomerLeadLinked',
  occurredAt,
  data: { customerId, leadId },
});
const acquired = (customerId: string, occurredAt: string): ScenarioEvent => ({
  streamId: `customer-${customerId}`,
  type: 'CustomerAcquired',
  occurredAt,
  data: { customerId, channel: 'web', trigger: { type: 'PurchaseRecorded', purchaseId: 'p' } },
});
let purchases = 0;
const purchase = (customerId: string, occurredAt: string, amount: number): ScenarioEvent => ({
  streamId: `customer-${customerId}`,
  type: 'PurchaseRecorded',
  occurredAt,
  data: { customerId, purchaseId: `p${++purchases}`, amount },
});
const won = (dealId: string, customerId: string, occurredAt: string, amount: number): ScenarioEvent => ({
  streamId: `deal-${dealId}`,
  type: 'DealWon',
  occurredAt,
  data: { dealId, customerId, amount, stage: 'negotiation' },
});

// Window of the main case: February 2024. K1 "Spring" (web), K2 "autumn" (ads, launched in the
// window), K3 "Winter" (launched in the window, nothing else), K4 "Old" (spend before the window only).
const scenario: ScenarioEvent[] = [
  launched('K4', '2023-06-01T00:00:00.000Z', 'Old', 'print'),
  launched('K1', '2024-01-01T00:00:00.000Z', 'Spring', 'web', 1000),
  registered('C9', '2023-12-01T00:00:00.000Z'), // an existing customer, acquired before any campaign lead
  purchase('C9', '2024-01-15T00:00:00.000Z', 80),
  acquired('C9', '2024-01-15T00:00:00.000Z'),
  spend('2024-01-10T00:00:00.000Z', 40, 'print', 'K4'),
  // K1: a lead the last millisecond before the window, its customer acquired by a purchase
  captured('L1', '2024-01-31T23:59:59.999Z', 'K1'),
  spend('2024-01-31T23:59:59.999Z', 50, 'web', 'K1'),
  converted('L1', 'C1', '2024-02-02T00:00:00.000Z'),
  registered('C1', '2024-02-02T00:00:00.000Z', 'L1'),
  purchase('C1', '2024-02-03T00:00:00.000Z', 500),
  acquired('C1', '2024-02-03T00:00:00.000Z'),
  // K1 in the window: L2 (first millisecond) becomes C2, acquired and earning after the window
  captured('L2', '2024-02-01T00:00:00.000Z', 'K1'),
  spend('2024-02-01T00:00:00.000Z', 100, 'web', 'K1'),
  converted('L2', 'C2', '2024-02-05T00:00:00.000Z'),
  registered('C2', '2024-02-05T00:00:00.000Z', 'L2'),
  // L3 converts into C9, acquired long before: a converted lead, not a new customer
  captured('L3', '2024-02-10T00:00:00.000Z', 'K1'),
  converted('L3', 'C9', '2024-02-11T00:00:00.000Z'),
  linked('C9', 'L3', '2024-02-11T00:00:00.000Z'),
  spend('2024-02-10T00:00:00.000Z', 60, 'ads'), // channel spend, no campaign
  spend('2024-02-11T00:00:00.000Z', 15.5, null), // no channel either
  // K2, launched in the window; its spend names its own channel but is still the campaign's
  launched('K2', '2024-02-15T10:00:00.000Z', 'autumn', 'ads'),
  captured('L6', '2024-02-16T00:00:00.000Z', 'K2'),
  spend('2024-02-16T00:00:00.000Z', 300, 'social', 'K2'),
  converted('L6', 'C6', '2024-02-17T00:00:00.000Z'),
  registered('C6', '2024-02-17T00:00:00.000Z', 'L6'), // never acquired
  // C7 came from L7 (no campaign); K2's L8 converted into it later, before its acquisition: first touch wins
  captured('L7', '2024-02-12T00:00:00.000Z'),
  converted('L7', 'C7', '2024-02-12T01:00:00.000Z'),
  registered('C7', '2024-02-12T01:00:00.000Z', 'L7'),
  captured('L8', '2024-02-18T00:00:00.000Z', 'K2'),
  converted('L8', 'C7', '2024-02-19T00:00:00.000Z'),
  linked('C7', 'L8', '2024-02-19T00:00:00.000Z'),
  purchase('C7', '2024-02-20T00:00:00.000Z', 700),
  acquired('C7', '2024-02-20T00:00:00.000Z'),
  launched('K3', '2024-02-20T00:00:00.000Z', 'Winter', 'tv'),
  // C10, a prospect without a lead, comes to K2 through L9 and is then acquired
  registered('C10', '2024-02-01T00:00:00.000Z'),
  captured('L9', '2024-02-21T00:00:00.000Z', 'K2'),
  converted('L9', 'C10', '2024-02-22T00:00:00.000Z'),
  linked('C10', 'L9', '2024-02-22T00:00:00.000Z'),
  purchase('C10', '2024-02-25T00:00:00.000Z', 250),
  acquired('C10', '2024-02-25T00:00:00.000Z'),
  // C11 wins a deal, then L10 (K2) is linked before the acquisition arrives: the deal counts for K2
  registered('C11', '2024-02-01T00:00:00.000Z'),
  captured('L10', '2024-02-22T00:00:00.000Z', 'K2'),
  won('D2', 'C11', '2024-02-23T00:00:00.000Z', 1000),
  converted('L10', 'C11', '2024-02-24T00:00:00.000Z'),
  linked('C11', 'L10', '2024-02-24T00:00:00.000Z'),
  acquired('C11', '2024-02-24T00:00:01.000Z'),
  // K1's last lead in the window, and one the first millisecond after it
  captured('L4', '2024-02-29T23:59:59.999Z', 'K1'),
  spend('2024-02-29T23:59:59.999Z', 200.25, 'web', 'K1'),
  captured('L5', '2024-03-01T00:00:00.000Z', 'K1'),
  spend('2024-03-01T00:00:00.000Z', 999, 'web', 'K1'),
  spend('2024-03-01T00:00:00.000Z', 7, null),
  // C2's revenue after the window still counts for February's cohort
  won('D1', 'C2', '2024-03-10T00:00:00.000Z', 1200),
  acquired('C2', '2024-03-10T00:00:00.000Z'),
  purchase('C2', '2024-04-01T00:00:00.000Z', 300.5),
  purchase('C9', '2024-04-01T00:00:00.000Z', 90), // C9's revenue is never K1's
];

const FEBRUARY = { from: '2024-02-01T00:00:00.000Z', to: '2024-03-01T00:00:00.000Z' };

describe('campaigns report', () => {
  let p: Projected;
  beforeAll(async () => {
    p = await project(scenario, [campaignsProjection, cacProjection]);
  });
  afterAll(() => p.close());

  it('per campaign: the cohort of leads, what came of them so far, the spend in the window, CPL, CAC and ROI', async () => {
    const report = await campaignsReport.run(reportParams(FEBRUARY), p.context);
    expect(report).toEqual({
      ...FEBRUARY,
      // code-point order: upper case first
      campaigns: [
        {
          campaignId: 'K1',
          name: 'Spring',
          channel: 'web',
          budget: 1000,
          launchedAt: '2024-01-01T00:00:00.000Z',
          leads: 3, // L2, L3, L4
          convertedLeads: 2, // L2, L3
          newCustomers: 1, // C2 (C9 was acquired before L3)
          revenue: 1500.5, // C2: 1200 + 300.5, after the window
          spend: 300.25, // 100 + 200.25
          costPerLead: 100.08, // 300.25 / 3 = 100.0833…
          cac: 300.25,
          roi: 3.9975, // (1500.5 − 300.25) / 300.25 = 3.99750…
        },
        {
          campaignId: 'K3',
          name: 'Winter',
          channel: 'tv',
          budget: null,
          launchedAt: '2024-02-20T00:00:00.000Z',
          leads: 0,
          convertedLeads: 0,
          newCustomers: 0,
          revenue: 0,
          spend: 0,
          costPerLead: null,
          cac: null,
          roi: null,
        },
        {
          campaignId: 'K2',
          name: 'autumn',
          channel: 'ads',
          budget: null,
          launchedAt: '2024-02-15T10:00:00.000Z',
          leads: 4, // L6, L8, L9, L10
          convertedLeads: 4,
          newCustomers: 2, // C10, C11 (C6 not acquired; C7 came from L7)
          revenue: 1250, // C10 250 + C11 1000 (won before the link)
          spend: 300,
          costPerLead: 75,
          cac: 150,
          roi: 3.1667, // 950 / 300
        },
      ],
      totals: {
        leads: 7,
        convertedLeads: 6,
        newCustomers: 3,
        revenue: 2750.5,
        spend: 600.25,
        costPerLead: 85.75, // 600.25 / 7
        cac: 200.08, // 600.25 / 3 = 200.0833…
        roi: 3.5823, // 2150.25 / 600.25 = 3.58225…
        unattributedSpend: 75.5, // 60 (ads) + 15.5 (no channel)
      },
    });
    expect(report).toEqual(campaignsReference(p.events, reportParams(FEBRUARY)));
  });

  it("adds up with cac: campaign spend + unattributed spend = cac's total spend over the same days", async () => {
    const report = await campaignsReport.run(reportParams(FEBRUARY), p.context);
    for (const interval of ['day', 'month'] as const) {
      const cac = await buildCacReport(reportParams({ ...FEBRUARY, interval }), p.context);
      expect(cac.total.spend).toBe(675.75);
      expect(money(report.totals.spend + report.totals.unattributedSpend)).toBe(cac.total.spend);
    }
  });

  it('widens the window to whole UTC days; an empty window lists nothing and has null ratios', async () => {
    const widened = await campaignsReport.run(
      reportParams({ from: '2024-02-29T12:00:00.000Z', to: '2024-03-01T00:00:00.001Z' }),
      p.context,
    );
    expect(widened).toEqual({
      from: '2024-02-29T00:00:00.000Z',
      to: '2024-03-02T00:00:00.000Z',
      campaigns: [
        {
          campaignId: 'K1',
          name: 'Spring',
          channel: 'web',
          budget: 1000,
          launchedAt: '2024-01-01T00:00:00.000Z',
          leads: 2, // L4, L5
          convertedLeads: 0,
          newCustomers: 0,
          revenue: 0,
          spend: 1199.25,
          costPerLead: 599.63, // 599.625, half away from zero
          cac: null,
          roi: -1,
        },
      ],
      totals: {
        leads: 2,
        convertedLeads: 0,
        newCustomers: 0,
        revenue: 0,
        spend: 1199.25,
        costPerLead: 599.63,
        cac: null,
        roi: -1,
        unattributedSpend: 7,
      },
    });
    expect(
      await campaignsReport.run(reportParams({ from: '2025-01-01T00:00:00.000Z', to: '2025-02-01T00:00:00.000Z' }), p.context),
    ).toEqual({
      from: '2025-01-01T00:00:00.000Z',
      to: '2025-02-01T00:00:00.000Z',
      campaigns: [],
      totals: {
        leads: 0,
        convertedLeads: 0,
        newCustomers: 0,
        revenue: 0,
        spend: 0,
        costPerLead: null,
        cac: null,
        roi: null,
        unattributedSpend: 0,
      },
    });
  });

  it('tables: campaigns (default) and totals with the window', async () => {
    const report = await campaignsReport.run(reportParams(FEBRUARY), p.context);
    expect(Object.keys(campaignsReport.tables)).toEqual(['campaigns', 'totals']);
    expect(campaignsReport.tables.campaigns(report).map((r) => [r.campaignId, r.roi])).toEqual([
      ['K1', 3.9975],
      ['K3', null],
      ['K2', 3.1667],
    ]);
    expect(campaignsReport.tables.totals(report)).toEqual([{ ...FEBRUARY, ...report.totals }]);
  });
});

describe('campaigns: reopened deals', () => {
  let p: Projected;
  afterEach(() => p?.close());

  it("withdraws a reopened win from its customer's cohort (or from the revenue held pending); won again, it counts anew", async () => {
    const deal = (dealId: string, customerId: string, type: string, occurredAt: string, data: Record<string, unknown>): ScenarioEvent => ({
      streamId: `deal-${dealId}`,
      type,
      occurredAt,
      data: { dealId, customerId, ...data },
    });
    const reopened = (dealId: string, customerId: string, occurredAt: string, data: Record<string, unknown>) =>
      deal(dealId, customerId, 'DealReopened', occurredAt, { ownerId: 'u1', stage: 'negotiation', closedStage: 'negotiation', ...data });
    p = await project(
      [
        launched('K1', '2024-01-01T00:00:00.000Z', 'Spring', 'web'),
        spend('2024-01-10T00:00:00.000Z', 100, 'web', 'K1'),
        // C1 from K1's L1: won, reopened a month later; a lost deal of it reopened too (nothing counted)
        captured('L1', '2024-01-10T00:00:00.000Z', 'K1'),
        converted('L1', 'C1', '2024-01-11T00:00:00.000Z'),
        registered('C1', '2024-01-11T00:00:00.000Z', 'L1'),
        won('D1', 'C1', '2024-02-05T00:00:00.000Z', 1000),
        acquired('C1', '2024-02-05T00:00:00.000Z'),
        deal('D2', 'C1', 'DealLost', '2024-02-06T00:00:00.000Z', { amount: 70, stage: 'negotiation', reason: 'price' }),
        reopened('D1', 'C1', '2024-03-01T00:00:00.000Z', { amount: 1000, outcome: 'won', closedAt: '2024-02-05T00:00:00.000Z' }),
        reopened('D2', 'C1', '2024-03-02T00:00:00.000Z', {
          amount: 70,
          outcome: 'lost',
          closedAt: '2024-02-06T00:00:00.000Z',
          lostReason: 'price',
        }),
        // C2 wins before it has an origin (held pending), is reopened, then comes to K1: only its purchase counts
        registered('C2', '2024-01-05T00:00:00.000Z'),
        won('D3', 'C2', '2024-01-15T00:00:00.000Z', 200),
        reopened('D3', 'C2', '2024-01-18T00:00:00.000Z', { amount: 200, outcome: 'won', closedAt: '2024-01-15T00:00:00.000Z' }),
        captured('L2', '2024-01-20T00:00:00.000Z', 'K1'),
        converted('L2', 'C2', '2024-01-21T00:00:00.000Z'),
        linked('C2', 'L2', '2024-01-21T00:00:00.000Z'),
        purchase('C2', '2024-01-25T00:00:00.000Z', 50),
        acquired('C2', '2024-01-25T00:00:00.000Z'),
      ],
      [campaignsProjection],
    );
    const JANUARY = { from: '2024-01-01T00:00:00.000Z', to: '2024-02-01T00:00:00.000Z' };
    const k1 = { campaignId: 'K1', name: 'Spring', channel: 'web', budget: null, launchedAt: '2024-01-01T00:00:00.000Z' };
    const cohort = { leads: 2, convertedLeads: 2, newCustomers: 2, spend: 100, costPerLead: 50, cac: 50 };
    const report = await campaignsReport.run(reportParams(JANUARY), p.context);
    expect(report).toEqual({
      ...JANUARY,
      campaigns: [{ ...k1, ...cohort, revenue: 50, roi: -0.5 }], // C1's acquisition stands; its win does not
      totals: { ...cohort, revenue: 50, roi: -0.5, unattributedSpend: 0 },
    });
    expect(report).toEqual(campaignsReference(p.events, reportParams(JANUARY)));
    expect((await listCampaigns(p.readModels)).items[0]).toMatchObject({ id: 'K1', revenue: 50 });

    await appendAndProject(p, [
      deal('D1', 'C1', 'DealAmountChanged', '2024-03-05T00:00:00.000Z', { from: 1000, to: 1500 }),
      won('D1', 'C1', '2024-03-10T00:00:00.000Z', 1500),
    ]);
    expect(await campaignsReport.run(reportParams(JANUARY), p.context)).toEqual({
      ...JANUARY,
      campaigns: [{ ...k1, ...cohort, revenue: 1550, roi: 14.5 }],
      totals: { ...cohort, revenue: 1550, roi: 14.5, unattributedSpend: 0 },
    });
    expect((await listCampaigns(p.readModels)).items[0]).toMatchObject({ id: 'K1', revenue: 1550 });
  });
});

describe('GET /campaigns (listCampaigns)', () => {
  let p: Projected;
  beforeAll(async () => {
    p = await project(scenario, [campaignsProjection]);
  });
  afterAll(() => p.close());
  const ids = (page: { items: CampaignView[] }) => page.items.map((c) => c.id);

  it('every campaign with its lifetime figures, newest launch first', async () => {
    const page = await listCampaigns(p.readModels);
    expect({ ...page, items: ids(page) }).toEqual({ items: ['K3', 'K2', 'K1', 'K4'], total: 4, limit: 50, offset: 0 });
    expect(page.items[2]).toEqual({
      id: 'K1',
      name: 'Spring',
      channel: 'web',
      budget: 1000,
      launchedAt: '2024-01-01T00:00:00.000Z',
      leads: 5, // L1 … L5
      convertedLeads: 3, // L1, L2, L3
      newCustomers: 2, // C1, C2
      revenue: 2000.5, // C1 500 + C2 1500.5
      spend: 1349.25, // 50 + 100 + 200.25 + 999
      costPerLead: 269.85,
      cac: 674.63, // 674.625
      roi: 0.4827, // 651.25 / 1349.25 = 0.48267…
    });
    expect(page.items[3]).toMatchObject({ id: 'K4', leads: 0, spend: 40, costPerLead: null, cac: null, roi: -1 });
    expect(page.items).toEqual(
      campaignsListReference(p.events).sort((a, b) => (a.launchedAt! < b.launchedAt! ? 1 : a.launchedAt! > b.launchedAt! ? -1 : 0)),
    );
  });

  it('filters by channel, sorts by name (case-insensitive) or launch, pages', async () => {
    expect(ids(await listCampaigns(p.readModels, { channel: 'ads' }))).toEqual(['K2']);
    expect(await listCampaigns(p.readModels, { channel: 'radio' })).toEqual({ items: [], total: 0, limit: 50, offset: 0 });
    expect(ids(await listCampaigns(p.readModels, { sort: 'name' }))).toEqual(['K2', 'K4', 'K1', 'K3']); // autumn, Old, Spring, Winter
    expect(ids(await listCampaigns(p.readModels, { sort: '-name' }))).toEqual(['K3', 'K1', 'K4', 'K2']);
    expect(ids(await listCampaigns(p.readModels, { sort: 'launchedAt' }))).toEqual(['K4', 'K1', 'K2', 'K3']);
    const second = await listCampaigns(p.readModels, { sort: 'name', limit: 2, offset: 1 });
    expect({ ...second, items: ids(second) }).toEqual({ items: ['K4', 'K1'], total: 4, limit: 2, offset: 1 });
  });

  it('refuses a bad parameter, naming it', async () => {
    await expect(listCampaigns(p.readModels, { sort: 'spend' })).rejects.toMatchObject({ field: 'sort' });
    await expect(listCampaigns(p.readModels, { limit: 0 })).rejects.toMatchObject({ field: 'limit' });
    await expect(listCampaigns(p.readModels, { offset: -1 })).rejects.toMatchObject({ field: 'offset' });
    await expect(listCampaigns(p.readModels, { channel: '' })).rejects.toMatchObject({ field: 'channel' });
  });
});

/** Histories where campaign leads often become customers who buy (the general mix rarely gets that far). */
const campaignHistoryArbitrary = fc
  .array(
    fc.record<Step>({
      kind: fc.constantFrom<Step['kind']>(
        'campaign',
        'lead',
        'lead',
        'lead',
        'convert',
        'convert',
        'purchase',
        'purchase',
        'openDeal',
        'win',
      ),
      pick: fc.nat(1000),
      choice: fc.nat(1000),
      amount: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 50_000 }), fc.double({ min: 0, max: 10_000, noNaN: true })),
      advance: fc.oneof(fc.constant(0), fc.constant(-1), fc.integer({ min: 60_000, max: 20 * 86_400_000 })),
    }),
    { minLength: 60, maxLength: 200 },
  )
  .map((steps) => runScript([{ kind: 'campaign', pick: 0, choice: 0, amount: 0, advance: 0 }, ...steps]));

/** As campaignHistoryArbitrary, with deals won, lost and reopened (issue 16). */
const campaignReopensArbitrary = fc
  .array(
    fc.record<Step>({
      kind: fc.constantFrom<Step['kind']>(
        'campaign',
        'lead',
        'lead',
        'convert',
        'convert',
        'purchase',
        'openDeal',
        'openDeal',
        'win',
        'win',
        'lose',
        'reopen',
        'reopen',
      ),
      pick: fc.nat(1000),
      choice: fc.nat(1000),
      amount: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 50_000 }), fc.double({ min: 0, max: 10_000, noNaN: true })),
      advance: fc.oneof(fc.constant(0), fc.constant(-1), fc.integer({ min: 60_000, max: 20 * 86_400_000 })),
    }),
    { minLength: 60, maxLength: 200 },
  )
  .map((steps) => runScript([{ kind: 'campaign', pick: 0, choice: 0, amount: 0, advance: 0 }, ...steps]));

describe('campaigns report and list = a fold of the raw events (property)', () => {
  it('matches for random histories and windows, and adds up with cac', async () => {
    let withCustomers = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(historyArbitrary({ minSteps: 100, maxSteps: 300 }), campaignHistoryArbitrary),
        fc.array(reportParamsArbitrary(), { minLength: 3, maxLength: 3 }),
        async (history, paramsList) => {
          const p = await project(history, [campaignsProjection, cacProjection]);
          try {
            for (const params of paramsList) {
              const served = await campaignsReport.run(params, p.context);
              expect(served).toEqual(campaignsReference(p.events, params));
              const cac = await buildCacReport({ ...params, interval: 'day' }, p.context);
              // Each side is rounded to cents on its own: equal to the cent.
              expect(Math.abs(served.totals.spend + served.totals.unattributedSpend - cac.total.spend)).toBeLessThanOrEqual(0.0100001);
              if (served.totals.newCustomers > 0 && served.totals.revenue > 0) withCustomers += 1;
            }
            const all = campaignsListReference(p.events);
            const combos: ListCampaignsParams[] = [{}, { sort: 'name', limit: 3, offset: 1 }, { channel: 'web', sort: 'launchedAt' }];
            for (const params of combos) {
              const sort = params.sort ?? '-launchedAt';
              const field = sort.replace('-', '') as 'launchedAt' | 'name';
              const key = (c: CampaignView) => (field === 'name' ? (c.name ?? '').toLowerCase() : (c.launchedAt ?? ''));
              const dir = sort.startsWith('-') ? -1 : 1;
              const matching = all
                .filter((c) => !params.channel || c.channel === params.channel)
                .sort((a, b) => (key(a) === key(b) ? (a.id < b.id ? -1 : 1) : key(a) < key(b) ? -dir : dir));
              const offset = params.offset ?? 0;
              const page = await listCampaigns(p.readModels, params);
              expect(page.total).toBe(matching.length);
              expect(page.items).toEqual(matching.slice(offset, offset + (params.limit ?? 50)));
            }
          } finally {
            await p.close();
          }
        },
      ),
      { numRuns: 25, seed: 47 },
    );
    expect(withCustomers).toBeGreaterThan(10);
  });

  it('matches for random histories with reopened deals (closed, reopened, closed again)', async () => {
    let withReopens = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(historyArbitrary({ minSteps: 100, maxSteps: 250, reopens: true }), campaignReopensArbitrary),
        fc.array(reportParamsArbitrary(), { minLength: 3, maxLength: 3 }),
        async (history, paramsList) => {
          const p = await project(history, [campaignsProjection]);
          try {
            for (const params of paramsList) {
              const served = await campaignsReport.run(params, p.context);
              expect(served).toEqual(campaignsReference(p.events, params));
            }
            const all = campaignsListReference(p.events);
            const page = await listCampaigns(p.readModels, { sort: 'name', limit: 200 });
            expect([...page.items].sort((a, b) => (a.id < b.id ? -1 : 1))).toEqual(all.sort((a, b) => (a.id < b.id ? -1 : 1)));
            if (p.events.some((e) => e.type === 'DealReopened' && (e.data as { outcome: string }).outcome === 'won')) withReopens += 1;
          } finally {
            await p.close();
          }
        },
      ),
      { numRuns: 15, seed: 1614 },
    );
    expect(withReopens).toBeGreaterThan(5);
  });
});

describe('campaigns: merges (docs/merging.md)', () => {
  let p: Projected;
  afterEach(() => p?.close());
  const reopened = (dealId: string, customerId: string, occurredAt: string, amount: number, closedAt: string): ScenarioEvent => ({
    streamId: `deal-${dealId}`,
    type: 'DealReopened',
    occurredAt,
    data: { dealId, customerId, ownerId: 'u1', amount, stage: 'negotiation', outcome: 'won', closedAt, closedStage: 'negotiation' },
  });
  /** The counters of a report's rows: [campaign, leads, converted, new customers, revenue, spend]. */
  const counters = (report: CampaignsReport) =>
    report.campaigns.map((c) => [c.campaignId, c.leads, c.convertedLeads, c.newCustomers, c.revenue, c.spend]);

  it("hand-computed: the merged customer's new customer leaves its campaign, its revenue counts for the survivor's origin; the unmerge moves it back", async () => {
    const history: ScenarioEvent[] = [
      launched('K1', '2024-01-01T00:00:00.000Z', 'Spring', 'web'),
      launched('K2', '2024-01-01T00:00:00.000Z', 'Summer', 'ads'),
      spend('2024-01-02T00:00:00.000Z', 100, 'web', 'K1'),
      spend('2024-01-02T00:00:00.000Z', 200, 'ads', 'K2'),
      registered('P', '2024-01-03T00:00:00.000Z'), // a prospect without an origin yet
      captured('L1', '2024-01-05T00:00:00.000Z', 'K1'),
      converted('L1', 'S', '2024-01-06T00:00:00.000Z'),
      registered('S', '2024-01-06T00:00:00.000Z', 'L1'),
      captured('L2', '2024-01-07T00:00:00.000Z', 'K2'),
      converted('L2', 'M', '2024-01-08T00:00:00.000Z'),
      registered('M', '2024-01-08T00:00:00.000Z', 'L2'),
      captured('L3', '2024-01-09T00:00:00.000Z', 'K2'),
      converted('L3', 'N', '2024-01-09T00:00:00.000Z'),
      registered('N', '2024-01-09T00:00:00.000Z', 'L3'),
      purchase('M', '2024-01-10T00:00:00.000Z', 100),
      acquired('M', '2024-01-10T00:00:00.000Z'),
      purchase('S', '2024-01-12T00:00:00.000Z', 50),
      acquired('S', '2024-01-12T00:00:00.000Z'),
      purchase('N', '2024-01-15T00:00:00.000Z', 70),
      acquired('N', '2024-01-15T00:00:00.000Z'),
      won('D1', 'M', '2024-01-20T00:00:00.000Z', 400),
    ];
    const merges = [...mergeEvents('M', 'S', '2024-02-01T00:00:00.000Z'), ...mergeEvents('N', 'P', '2024-02-01T00:00:00.000Z')];
    p = await project([...history, ...merges], [campaignsProjection]);
    const JANUARY = reportParams({ from: '2024-01-01T00:00:00.000Z', to: '2024-02-01T00:00:00.000Z' });
    const FEBRUARY = reportParams({ from: '2024-02-01T00:00:00.000Z', to: '2024-03-01T00:00:00.000Z' });
    // Before the merges K1 had S (50) and K2 had M (100 + 400) and N (70).
    expect(counters(await campaignsReport.run(JANUARY, p.context))).toEqual([
      ['K1', 1, 1, 1, 550, 100], // S, with M's 500
      ['K2', 2, 2, 0, 0, 200], //   M's and N's new customers leave; N's 70 counts nowhere yet: P has no origin
    ]);

    // While merged: M's deals go on (a win, a reopened win), and P gets its origin (K1's L4, captured Feb 10) and is acquired.
    const whileMerged: ScenarioEvent[] = [
      won('D2', 'M', '2024-02-05T00:00:00.000Z', 30),
      reopened('D1', 'M', '2024-02-06T00:00:00.000Z', 400, '2024-01-20T00:00:00.000Z'),
      captured('L4', '2024-02-10T00:00:00.000Z', 'K1'),
      converted('L4', 'P', '2024-02-11T00:00:00.000Z'),
      linked('P', 'L4', '2024-02-11T00:00:00.000Z'),
      purchase('P', '2024-02-12T00:00:00.000Z', 5),
      acquired('P', '2024-02-12T00:00:00.000Z'),
    ];
    await appendAndProject(p, whileMerged);
    expect(counters(await campaignsReport.run(JANUARY, p.context))).toEqual([
      ['K1', 1, 1, 1, 180, 100], // S 50 + M 100 + 30
      ['K2', 2, 2, 0, 0, 200],
    ]);
    expect(counters(await campaignsReport.run(FEBRUARY, p.context))).toEqual([
      ['K1', 1, 1, 1, 75, 0], // P's cohort (L4): P 5 + N's 70, which followed P's origin
    ]);
    const merged = await project(asMerged(asMerged([...history, ...whileMerged], 'M', 'S'), 'N', 'P'), [campaignsProjection]);
    try {
      for (const params of [JANUARY, FEBRUARY])
        expect(await campaignsReport.run(params, p.context)).toEqual(await campaignsReport.run(params, merged.context));
      expect(await listCampaigns(p.readModels)).toEqual(await listCampaigns(merged.readModels));
    } finally {
      await merged.close();
    }

    await appendAndProject(p, [
      ...unmergeEvents('M', 'S', '2024-03-01T00:00:00.000Z'),
      ...unmergeEvents('N', 'P', '2024-03-01T00:00:00.000Z'),
    ]);
    expect(counters(await campaignsReport.run(JANUARY, p.context))).toEqual([
      ['K1', 1, 1, 1, 50, 100], // S
      ['K2', 2, 2, 2, 200, 200], // M 100 + 30, N 70
    ]);
    expect(counters(await campaignsReport.run(FEBRUARY, p.context))).toEqual([['K1', 1, 1, 1, 5, 0]]);
    const never = await project([...history, ...whileMerged], [campaignsProjection]);
    try {
      for (const params of [JANUARY, FEBRUARY])
        expect(await campaignsReport.run(params, p.context)).toEqual(await campaignsReport.run(params, never.context));
      expect(await listCampaigns(p.readModels)).toEqual(await listCampaigns(never.readModels));
    } finally {
      await never.close();
    }
  });

  /** The report (over the history's whole span and the given windows) and the list, as users see them. */
  const viewsOf = async (projected: Projected, history: ScenarioEvent[], windows: ReturnType<typeof reportParams>[]) => {
    const times = history.map((e) => Date.parse(e.occurredAt));
    const span = reportParams({
      from: new Date(Math.min(...times) - 86_400_000).toISOString(),
      to: new Date(Math.max(...times) + 86_400_000).toISOString(),
    });
    const reports = [];
    for (const params of [span, ...windows]) reports.push(await campaignsReport.run(params, projected.context));
    const list = await listCampaigns(projected.readModels, { sort: 'name', limit: 200 });
    return { reports, list };
  };
  /**
   * As campaignReopensArbitrary, with customers registered without a lead too (survivors whose
   * origin is not known yet), and most leads captured with a campaign (the scripts give a lead one
   * when `choice` is a multiple of 3): campaign customers with revenue to merge.
   */
  const campaignCustomersArbitrary = fc
    .array(
      fc.record<Step>({
        kind: fc.constantFrom<Step['kind']>(
          'campaign',
          'register',
          'lead',
          'lead',
          'convert',
          'convert',
          'purchase',
          'purchase',
          'openDeal',
          'win',
          'win',
          'lose',
          'reopen',
        ),
        pick: fc.nat(1000),
        choice: fc.oneof(
          fc.nat(333).map((n) => 3 * n),
          fc.nat(1000),
        ),
        amount: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 50_000 }), fc.double({ min: 0, max: 10_000, noNaN: true })),
        advance: fc.oneof(fc.constant(0), fc.constant(-1), fc.integer({ min: 60_000, max: 20 * 86_400_000 })),
      }),
      { minLength: 60, maxLength: 160 },
    )
    .map((steps) => runScript([{ kind: 'campaign', pick: 0, choice: 0, amount: 0, advance: 0 }, ...steps]));
  /**
   * Mostly, the history with only the registrations of customers from a campaign lead:
   * mergePair then pairs two of them (a random pair is mostly of customers from no campaign, whose
   * merge changes nothing here).
   */
  const campaignCustomersFirst = (history: ScenarioEvent[], pick: number): ScenarioEvent[] => {
    const campaignLeads = new Set(history.filter((e) => e.type === 'LeadCaptured' && e.data.campaignId).map((e) => e.data.leadId));
    const chosen = new Set(
      history.filter((e) => e.type === 'CustomerRegistered' && campaignLeads.has(e.data.leadId)).map((e) => e.data.customerId),
    );
    if (pick % 4 === 0 || chosen.size < 2) return history;
    return history.filter((e) => e.type !== 'CustomerRegistered' || chosen.has(e.data.customerId));
  };
  /**
   * Merged after the first `cut` events of H (after all of them in the first property): at the end,
   * the report and list are those of asMerged(H); after the unmerge, those of H. Sometimes H ends
   * with a campaign lead linked to the survivor (the random scripts link none): with a cut inside
   * H, the survivor's origin becomes known while merged, and the merged customer's revenue must
   * follow it. A cut inside H also has the merged customer's deals and purchases (and lifecycle)
   * arriving while merged. Then merged again into another survivor, and unmerged again.
   */
  const mergeProperty = (cutAnywhere: boolean, seen: { changed: number; linked: number }) =>
    fc.asyncProperty(
      fc.oneof(
        { arbitrary: historyArbitrary({ minSteps: 100, maxSteps: 250, reopens: true }), weight: 1 },
        { arbitrary: campaignCustomersArbitrary, weight: 2 },
      ),
      fc.array(reportParamsArbitrary(), { minLength: 2, maxLength: 2 }),
      fc.nat(),
      fc.nat(),
      fc.nat(),
      async (base, windows, pick, cutAt, link) => {
        const cut = cutAnywhere ? cutAt % (base.length + 1) : base.length;
        const before = base.slice(0, cut);
        const pair = mergePair(campaignCustomersFirst(before, pick), pick >> 2);
        if (!pair) return;
        const leads = base.filter((e) => e.type === 'LeadCaptured' && e.data.campaignId).map((e) => String(e.data.leadId));
        const history = link % 2 && leads.length ? [...base, linked(pair[1], leads[(link >> 1) % leads.length], lastTimeOf(base))] : base;
        const at = cut === base.length ? new Date(Date.parse(lastTimeOf(history)) + 3_600_000).toISOString() : lastTimeOf(before);
        const expected = async (events: ScenarioEvent[]) => {
          const projected = await project(events, [campaignsProjection]);
          try {
            return await viewsOf(projected, history, windows);
          } finally {
            await projected.close();
          }
        };
        const [unmerged, merged] = [await expected(history), await expected(asMerged(history, ...pair))];
        // How often the merge changes a figure, and how often the survivor's origin is linked while merged.
        if (JSON.stringify(merged) !== JSON.stringify(unmerged)) seen.changed += 1;
        if (history.length > base.length && cut < base.length) seen.linked += 1;
        const projected = await project([...before, ...mergeEvents(...pair, at), ...history.slice(cut)], [campaignsProjection]);
        try {
          expect(await viewsOf(projected, history, windows)).toEqual(merged);
          const end = lastTimeOf([...history, ...mergeEvents(...pair, at)]);
          await appendAndProject(projected, unmergeEvents(...pair, end));
          expect(await viewsOf(projected, history, windows)).toEqual(unmerged);
          // Merged again, into another survivor: nothing of the first survivor's bookkeeping is left behind.
          const others = registeredCustomers(before).filter((id) => !pair.includes(id));
          if (others.length === 0) return;
          const again: [string, string] = [pair[0], others[pick % others.length]];
          await appendAndProject(projected, mergeEvents(...again, end));
          expect(await viewsOf(projected, history, windows)).toEqual(await expected(asMerged(history, ...again)));
          await appendAndProject(projected, unmergeEvents(...again, end));
          expect(await viewsOf(projected, history, windows)).toEqual(unmerged);
        } finally {
          await projected.close();
        }
      },
    );

  it('property: merged, the report and list are those of asMerged(H); unmerged, those of H', async () => {
    const seen = { changed: 0, linked: 0 };
    // Seeded, as the properties above: the coverage counts are those of these runs.
    await fc.assert(mergeProperty(false, seen), { numRuns: 20, seed: 1 });
    expect(seen.changed).toBeGreaterThan(5);
  }, 120_000);

  it("property: merged inside the history (the merged customer's revenue and the survivor's origin arriving while merged), then unmerged", async () => {
    const seen = { changed: 0, linked: 0 };
    await fc.assert(mergeProperty(true, seen), { numRuns: 20, seed: 5 });
    expect(seen.changed).toBeGreaterThan(5);
    expect(seen.linked).toBeGreaterThan(5);
  }, 120_000);
});
