/**
 * Archive and restore (issue 16) in the read models: archived customers, leads and deals leave
 * the lists (and their counted totals) unless `archived=true`; an archived open deal leaves the
 * pipeline and forecast from the archive's business time until a restore; every other report
 * contribution stays as it was.
 */
import { appendAndProject } from './testing/append';
import { project, Projected, ScenarioEvent } from './testing/harness';
import { reportParams } from './testing/report-params';
import { churnProjection } from './churn/projection';
import { churnReport } from './churn/query';
import { customersProjection } from './customers/projection';
import { getCustomer, listCustomers } from './customers/query';
import { customerTimelineProjection } from './customer-timeline/projection';
import { customerTimeline } from './customer-timeline/query';
import { dealsProjection } from './deals/projection';
import { getDeal, listDeals } from './deals/query';
import { forecastProjection } from './forecast/projection';
import { forecastReport } from './forecast/query';
import { leadsProjection } from './leads/projection';
import { getLead, listLeads } from './leads/query';
import { ownerActivityProjection } from './owner-activity/projection';
import { pipelineProjection } from './pipeline/projection';
import { buildPipelineReport } from './pipeline/query';
import { referencePipeline } from './pipeline/reference';
import { salesPerformanceReport } from './sales-performance/query';
import { defaultPipeline, InvalidInput } from '@chronicle/domain';

const ev = (streamId: string, type: string, occurredAt: string, data: Record<string, unknown>): ScenarioEvent => ({
  streamId,
  type,
  data,
  occurredAt,
});
const customer = (id: string, type: string, at: string, data: Record<string, unknown> = {}) =>
  ev(`customer-${id}`, type, at, { customerId: id, ...data });
const lead = (id: string, type: string, at: string, data: Record<string, unknown> = {}) =>
  ev(`lead-${id}`, type, at, { leadId: id, ...data });
const deal = (id: string, type: string, at: string, data: Record<string, unknown> = {}) =>
  ev(`deal-${id}`, type, at, { dealId: id, ...data });
const registered = (id: string, at: string, ownerId: string, region: string) =>
  customer(id, 'CustomerRegistered', at, { name: `Customer ${id}`, source: 'web', ownerId, region });
const opened = (id: string, at: string, customerId: string, stage: string, amount: number, expectedCloseDate: string) =>
  deal(id, 'DealOpened', at, { customerId, title: id, amount, ownerId: 'u1', source: 'web', stage, expectedCloseDate });

const ARCHIVE_AT = '2024-03-01T00:00:00.000Z';
const RESTORE_AT = '2024-03-11T00:00:00.000Z';
const before = (iso: string) => new Date(Date.parse(iso) - 1).toISOString();

/** Two customers won and churned, deals open, won and lost, two leads: the history without any archive. */
const history: ScenarioEvent[] = [
  registered('c1', '2024-01-01T00:00:00.000Z', 'u1', 'emea'),
  registered('c2', '2024-01-02T00:00:00.000Z', 'u1', 'emea'),
  registered('c3', '2024-01-03T00:00:00.000Z', 'u2', 'apac'),
  opened('d1', '2024-01-05T00:00:00.000Z', 'c1', 'proposal', 1000, '2024-04-15'),
  opened('d2', '2024-01-06T00:00:00.000Z', 'c1', 'qualification', 400, '2024-04-20'),
  opened('d3', '2024-01-07T00:00:00.000Z', 'c2', 'negotiation', 3000, '2024-05-01'),
  deal('d3', 'DealWon', '2024-02-01T00:00:00.000Z', { customerId: 'c2', amount: 3000, stage: 'negotiation' }),
  customer('c2', 'CustomerAcquired', '2024-02-01T00:00:00.000Z', { channel: 'web', trigger: { type: 'DealWon', dealId: 'd3' } }),
  customer('c2', 'CustomerChurned', '2024-02-20T00:00:00.000Z', { reason: 'price' }),
  opened('d4', '2024-01-08T00:00:00.000Z', 'c3', 'proposal', 700, '2024-04-01'),
  deal('d4', 'DealLost', '2024-02-10T00:00:00.000Z', { customerId: 'c3', amount: 700, stage: 'proposal', reason: 'timing' }),
  lead('l1', 'LeadCaptured', '2024-01-01T00:00:00.000Z', { name: 'Lead 1', source: 'ads' }),
  lead('l2', 'LeadCaptured', '2024-01-02T00:00:00.000Z', { name: 'Lead 2', source: 'ads' }),
];

/** Archives: d1 (open), d3 (won), c2 (won and churned), l1; d1 restored later. */
const archives: ScenarioEvent[] = [
  deal('d1', 'DealArchived', ARCHIVE_AT, { reason: 'stale' }),
  deal('d3', 'DealArchived', ARCHIVE_AT),
  customer('c2', 'CustomerArchived', ARCHIVE_AT, { reason: 'gone' }),
  lead('l1', 'LeadArchived', ARCHIVE_AT),
];
const restores: ScenarioEvent[] = [deal('d1', 'DealRestored', RESTORE_AT)];

const projections = [
  customersProjection,
  leadsProjection,
  dealsProjection,
  pipelineProjection,
  forecastProjection,
  churnProjection,
  ownerActivityProjection,
  customerTimelineProjection,
];

describe('archive and restore in the read models', () => {
  let p: Projected | undefined;
  afterEach(async () => {
    await p?.close();
    p = undefined;
  });

  it('lists: archived records leave the lists and their counted totals; archived=true lists only them; GET still answers', async () => {
    p = await project([...history, ...archives], projections);
    const ids = (page: { items: { id: string }[] }) => page.items.map((i) => i.id);

    const customers = await listCustomers(p.context.readModels);
    expect([ids(customers), customers.total]).toEqual([['c1', 'c3'], 2]);
    // Totals counted per value (stats): the archived customer is out of each of them.
    expect((await listCustomers(p.context.readModels, { region: 'emea' })).total).toBe(1);
    expect((await listCustomers(p.context.readModels, { status: 'churned' })).total).toBe(0);
    expect((await listCustomers(p.context.readModels, { ownerId: 'u1' })).total).toBe(1);
    const archivedCustomers = await listCustomers(p.context.readModels, { archived: 'true' });
    expect([ids(archivedCustomers), archivedCustomers.total]).toEqual([['c2'], 1]);
    expect((await listCustomers(p.context.readModels, { archived: 'true', status: 'churned' })).total).toBe(1);
    expect((await listCustomers(p.context.readModels, { archived: 'true', region: 'apac' })).total).toBe(0);
    expect(await getCustomer(p.context.readModels, 'c2')).toMatchObject({
      status: 'churned',
      archived: true,
      archivedAt: ARCHIVE_AT,
      totals: { wonDeals: { count: 1, amount: 3000 }, revenue: 3000 },
    });

    const deals = await listDeals(p.context.readModels);
    expect([ids(deals), deals.total]).toEqual([['d4', 'd2'], 2]);
    expect((await listDeals(p.context.readModels, { status: 'open' })).total).toBe(1);
    expect((await listDeals(p.context.readModels, { status: 'won' })).total).toBe(0);
    const archivedDeals = await listDeals(p.context.readModels, { archived: true });
    expect([ids(archivedDeals), archivedDeals.total]).toEqual([['d3', 'd1'], 2]);
    expect((await listDeals(p.context.readModels, { archived: 'true', status: 'won' })).total).toBe(1);
    expect(await getDeal(p.context.readModels, 'd1')).toMatchObject({ status: 'open', archived: true, archivedAt: ARCHIVE_AT });

    const leads = await listLeads(p.context.readModels);
    expect([ids(leads), leads.total]).toEqual([['l2'], 1]);
    expect((await listLeads(p.context.readModels, { source: 'ads' })).total).toBe(1);
    expect((await listLeads(p.context.readModels, { archived: 'true', source: 'ads' })).total).toBe(1);
    expect(await getLead(p.context.readModels, 'l1')).toMatchObject({ archived: true, archivedAt: ARCHIVE_AT });

    await expect(listDeals(p.context.readModels, { archived: 'yes' })).rejects.toThrow(InvalidInput);

    // Restored: listed and counted again, as before the archive.
    await appendAndProject(p, [...restores, customer('c2', 'CustomerRestored', RESTORE_AT), lead('l1', 'LeadRestored', RESTORE_AT)]);
    expect((await listCustomers(p.context.readModels)).total).toBe(3);
    expect((await listCustomers(p.context.readModels, { region: 'emea' })).total).toBe(2);
    expect((await listCustomers(p.context.readModels, { archived: 'true' })).total).toBe(0);
    expect((await listDeals(p.context.readModels, { status: 'open' })).total).toBe(2);
    expect((await listDeals(p.context.readModels, { archived: 'true' })).total).toBe(1); // d3 stays archived
    expect((await listLeads(p.context.readModels, { source: 'ads' })).total).toBe(2);
    expect(await getDeal(p.context.readModels, 'd1')).toMatchObject({ archived: false, archivedAt: null });
  });

  it('pipeline: an archived open deal leaves the open pipeline from the archive on and counts again from the restore', async () => {
    p = await project([...history, ...archives, ...restores], projections);
    const at = async (asOf: string) => (await buildPipelineReport({ asOf }, p!.context)) as { totals: unknown; stages: unknown[] };
    // A millisecond before the archive: d1 (proposal, 1000) and d2 (qualification, 400) are open.
    expect((await at(before(ARCHIVE_AT))).totals).toEqual({ deals: 2, value: 1400, weightedValue: 540 }); // 1000 × 0.5 + 400 × 0.1
    // At the archive and until the restore: d2 alone.
    expect((await at(ARCHIVE_AT)).totals).toEqual({ deals: 1, value: 400, weightedValue: 40 });
    expect((await at(before(RESTORE_AT))).totals).toEqual({ deals: 1, value: 400, weightedValue: 40 });
    // From the restore: d1 again, in its stage since the restore (age 0 at the restore, 1 day a day later).
    const restored = await at(RESTORE_AT);
    expect(restored.totals).toEqual({ deals: 2, value: 1400, weightedValue: 540 });
    expect(restored.stages).toContainEqual({ stage: 'proposal', deals: 1, value: 1000, weightedValue: 500, avgAgeDays: 0 });
    const nextDay = await at('2024-03-12T00:00:00.000Z');
    expect(nextDay.stages).toContainEqual({ stage: 'proposal', deals: 1, value: 1000, weightedValue: 500, avgAgeDays: 1 });
    for (const asOf of [before(ARCHIVE_AT), ARCHIVE_AT, before(RESTORE_AT), RESTORE_AT, '2024-03-12T00:00:00.000Z']) {
      const report = await at(asOf);
      const reference = referencePipeline(p.events, asOf, defaultPipeline);
      expect({ stages: report.stages, totals: report.totals }).toEqual({ stages: reference.stages, totals: reference.totals });
    }
  });

  it('the customer timeline shows the archive and the restore as lifecycle entries', async () => {
    p = await project([...history, ...archives, customer('c2', 'CustomerRestored', RESTORE_AT)], projections);
    const items = (await customerTimeline(p.context.readModels, 'c2')).items.map((e) => [e.kind, e.type, e.occurredAt, e.details]);
    expect(items.slice(0, 3)).toEqual([
      ['lifecycle', 'CustomerRestored', RESTORE_AT, {}],
      ['lifecycle', 'CustomerArchived', ARCHIVE_AT, { reason: 'gone' }],
      ['lifecycle', 'CustomerChurned', '2024-02-20T00:00:00.000Z', { reason: 'price' }],
    ]);
  });

  it('forecast: an archived open deal leaves it, and comes back with a restore', async () => {
    p = await project([...history, ...archives], projections);
    expect((await forecastReport.run(reportParams(), p.context)).totals).toEqual({ deals: 1, value: 400, weightedValue: 40 });
    await appendAndProject(p, restores);
    const report = await forecastReport.run(reportParams(), p.context);
    expect(report.months).toEqual([
      { month: '2024-04', deals: 2, value: 1400, weightedValue: 540 }, // d1 1000 × 0.5 + d2 400 × 0.1
      { month: 'none', deals: 0, value: 0, weightedValue: 0 },
    ]);
  });

  it('keeps every other report contribution as of its time: sales performance and churn are unchanged by archiving', async () => {
    const salesParams = reportParams({ from: '2024-01-01T00:00:00.000Z', to: '2024-04-01T00:00:00.000Z' });
    const churnParams = {
      from: '2024-01-01T00:00:00.000Z',
      to: '2024-04-01T00:00:00.000Z',
      interval: 'month' as const,
      asOf: '2024-04-01T00:00:00.000Z',
      limit: 10,
    };
    p = await project(history, projections);
    const sales = await salesPerformanceReport.run(salesParams, p.context);
    const churn = await churnReport.run(churnParams, p.context);
    await p.close();
    p = await project([...history, ...archives], projections);
    expect(await salesPerformanceReport.run(salesParams, p.context)).toEqual(sales);
    expect(await churnReport.run(churnParams, p.context)).toEqual(churn);
    // And they are not empty: d3 won (3000), c2 churned for price.
    expect(JSON.stringify(sales)).toContain('3000');
    expect(churn.churnedByReason).toEqual(expect.arrayContaining([expect.objectContaining({ reason: 'price' })]));
  });
});
