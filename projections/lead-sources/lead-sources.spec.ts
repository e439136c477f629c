import fc from 'fast-check';
import { project, Projected, ScenarioEvent } from '../testing/harness';
import { historyArbitrary } from '../testing/random-history';
import { reportParams, reportParamsArbitrary } from '../testing/report-params';
import { leadFunnelProjection } from '../lead-funnel/projection';
import { leadSourcesReport } from './query';
import { leadSourcesReference } from './reference';

const lead = (id: string, type: string, occurredAt: string, data: Record<string, unknown> = {}): ScenarioEvent => ({
  streamId: `lead-${id}`,
  type,
  occurredAt,
  data: { leadId: id, ...data },
});
const captured = (id: string, occurredAt: string, source: string, campaignId?: string) =>
  lead(id, 'LeadCaptured', occurredAt, { name: `Lead ${id}`, source, ...(campaignId ? { campaignId } : {}) });
const converted = (id: string, occurredAt: string, source: string) =>
  lead(id, 'LeadConverted', occurredAt, { customerId: `c-${id}`, source });
let spends = 0;
const spend = (occurredAt: string, amount: number, channel: string | null, campaignId?: string): ScenarioEvent => ({
  streamId: campaignId ? `campaign-${campaignId}` : `spend-${channel ?? 'unattributed'}`,
  type: 'SpendRecorded',
  occurredAt,
  data: { spendId: `s${++spends}`, amount, category: 'marketing', channel, ...(campaignId ? { campaignId } : {}) },
});

const scenario: ScenarioEvent[] = [
  {
    streamId: 'campaign-K1',
    type: 'CampaignLaunched',
    occurredAt: '2024-01-01T00:00:00.000Z',
    data: { campaignId: 'K1', name: 'Spring', channel: 'web' },
  },
  captured('L1', '2024-01-31T23:59:59.999Z', 'web', 'K1'),
  captured('L2', '2024-02-01T00:00:00.000Z', 'web'),
  spend('2024-02-01T00:00:00.000Z', 100, 'web', 'K1'), // campaign spend: its campaign's channel
  converted('L2', '2024-02-04T12:00:00.000Z', 'web'),
  converted('L1', '2024-02-10T23:59:59.999Z', 'web'),
  spend('2024-02-10T00:00:00.000Z', 50.5, 'ads'),
  spend('2024-02-11T00:00:00.000Z', 30, null),
  spend('2024-02-12T00:00:00.000Z', 10, 'tv'), // a channel without leads
  captured('L3', '2024-02-15T00:00:00.000Z', 'ads'),
  lead('L3', 'LeadQualified', '2024-02-16T00:00:00.000Z'),
  captured('L4', '2024-02-20T00:00:00.000Z', 'ads', 'K1'),
  captured('L5', '2024-03-01T00:00:00.000Z', 'web'),
  lead('L5', 'LeadQualified', '2024-03-02T00:00:00.000Z'),
  lead('L5', 'LeadDisqualified', '2024-03-03T00:00:00.000Z', { reason: 'no budget' }),
  converted('L4', '2024-04-05T08:00:00.000Z', 'ads'), // after the window: the cohort still counts it
  spend('2024-04-01T00:00:00.000Z', 99, 'web'), // after the window
];

describe('lead-sources report', () => {
  let p: Projected;
  beforeAll(async () => {
    p = await project(scenario, [leadFunnelProjection]);
  });
  afterAll(() => p.close());

  it('per source: the leads captured in the window and what became of them, spend and cost per lead', async () => {
    expect(
      await leadSourcesReport.run(reportParams({ from: '2024-02-01T00:00:00.000Z', to: '2024-04-01T00:00:00.000Z' }), p.context),
    ).toEqual({
      from: '2024-02-01T00:00:00.000Z',
      to: '2024-04-01T00:00:00.000Z',
      sources: [
        {
          source: 'ads',
          captured: 2,
          fromCampaign: 1,
          qualified: 1,
          disqualified: 0,
          converted: 1,
          open: 1,
          spend: 50.5,
          conversionRate: 0.5,
          costPerLead: 25.25,
        },
        {
          source: 'web',
          captured: 2,
          fromCampaign: 0,
          qualified: 1,
          disqualified: 1,
          converted: 1,
          open: 0,
          spend: 100,
          conversionRate: 0.5,
          costPerLead: 50,
        },
        {
          source: 'tv',
          captured: 0,
          fromCampaign: 0,
          qualified: 0,
          disqualified: 0,
          converted: 0,
          open: 0,
          spend: 10,
          conversionRate: null,
          costPerLead: null,
        },
      ],
      // 190.5 / 4 = 47.625 → 47.63 (half away from zero)
      totals: {
        captured: 4,
        fromCampaign: 1,
        qualified: 2,
        disqualified: 1,
        converted: 2,
        open: 1,
        spend: 190.5,
        conversionRate: 0.5,
        costPerLead: 47.63,
        unattributedSpend: 30,
      },
    });
  });

  it('widens the window to whole UTC days; an empty window has null rates', async () => {
    expect(
      await leadSourcesReport.run(reportParams({ from: '2024-01-31T12:00:00.000Z', to: '2024-02-01T00:00:00.001Z' }), p.context),
    ).toEqual({
      from: '2024-01-31T00:00:00.000Z',
      to: '2024-02-02T00:00:00.000Z',
      sources: [
        {
          source: 'web',
          captured: 2,
          fromCampaign: 1,
          qualified: 0,
          disqualified: 0,
          converted: 2,
          open: 0,
          spend: 100,
          conversionRate: 1,
          costPerLead: 50,
        },
      ],
      totals: {
        captured: 2,
        fromCampaign: 1,
        qualified: 0,
        disqualified: 0,
        converted: 2,
        open: 0,
        spend: 100,
        conversionRate: 1,
        costPerLead: 50,
        unattributedSpend: 0,
      },
    });
    expect(
      await leadSourcesReport.run(reportParams({ from: '2025-01-01T00:00:00.000Z', to: '2025-02-01T00:00:00.000Z' }), p.context),
    ).toEqual({
      from: '2025-01-01T00:00:00.000Z',
      to: '2025-02-01T00:00:00.000Z',
      sources: [],
      totals: {
        captured: 0,
        fromCampaign: 0,
        qualified: 0,
        disqualified: 0,
        converted: 0,
        open: 0,
        spend: 0,
        conversionRate: null,
        costPerLead: null,
        unattributedSpend: 0,
      },
    });
  });
});

describe('lead-sources report = a fold of the raw events (property)', () => {
  it('matches for random histories and windows', async () => {
    let withLeads = 0;
    await fc.assert(
      fc.asyncProperty(
        historyArbitrary({ minSteps: 100, maxSteps: 300 }),
        fc.array(reportParamsArbitrary(), { minLength: 3, maxLength: 3 }),
        async (history, paramsList) => {
          const p = await project(history, [leadFunnelProjection]);
          try {
            for (const params of paramsList) {
              const served = await leadSourcesReport.run(params, p.context);
              expect(served).toEqual(leadSourcesReference(p.events, params));
              if (served.totals.captured > 0 && served.totals.spend > 0) withLeads += 1;
            }
          } finally {
            await p.close();
          }
        },
      ),
      { numRuns: 25, seed: 43 },
    );
    expect(withLeads).toBeGreaterThan(10);
  });
});
