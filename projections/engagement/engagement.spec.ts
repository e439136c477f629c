import fc from 'fast-check';
import { InteractionTypes, LeadInteractionTypes } from '@chronicle/domain';
import { project, Projected, ScenarioEvent } from '../testing/harness';
import { historyArbitrary, OWNERS } from '../testing/random-history';
import { reportParams, reportParamsArbitrary } from '../testing/report-params';
import { engagementProjection } from './projection';
import { buildEngagementReport, engagementReport, EngagementFigures } from './query';
import { engagementReference } from './reference';

const deal = (id: string, type: string, occurredAt: string, data: Record<string, unknown> = {}): ScenarioEvent => ({
  streamId: `deal-${id}`,
  type,
  occurredAt,
  data: { dealId: id, ...data },
});
const opened = (id: string, occurredAt: string, ownerId: string) =>
  deal(id, 'DealOpened', occurredAt, { customerId: 'c1', title: `Deal ${id}`, amount: 100, ownerId, source: 'web', stage: 'lead' });
const dealOwner = (id: string, occurredAt: string, ownerId: string, previousOwnerId: string) =>
  deal(id, 'DealOwnerAssigned', occurredAt, { ownerId, previousOwnerId });
const won = (id: string, occurredAt: string) => deal(id, 'DealWon', occurredAt, { customerId: 'c1', amount: 100, stage: 'proposal' });
const lost = (id: string, occurredAt: string) =>
  deal(id, 'DealLost', occurredAt, { customerId: 'c1', amount: 100, stage: 'proposal', reason: 'price' });
let interactions = 0;
/** An interaction with customer c1, about a deal or not. */
const logged = (occurredAt: string, type: string, dealId?: string): ScenarioEvent => ({
  streamId: 'customer-c1',
  type: 'InteractionLogged',
  occurredAt,
  data: {
    customerId: 'c1',
    interactionId: `i${++interactions}`,
    type,
    direction: 'outbound',
    subject: 'touch',
    ...(dealId ? { dealId } : {}),
  },
});

const lead = (id: string, type: string, occurredAt: string, data: Record<string, unknown> = {}): ScenarioEvent => ({
  streamId: `lead-${id}`,
  type,
  occurredAt,
  data: { leadId: id, ...data },
});
const captured = (id: string, occurredAt: string) => lead(id, 'LeadCaptured', occurredAt, { name: `Lead ${id}`, source: 'web' });
const assigned = (id: string, occurredAt: string, ownerId: string) => lead(id, 'LeadAssigned', occurredAt, { ownerId });
const touched = (id: string, occurredAt: string, type: string) =>
  lead(id, 'LeadInteractionLogged', occurredAt, { interactionId: `i${++interactions}`, type });
const converted = (id: string, occurredAt: string) => lead(id, 'LeadConverted', occurredAt, { customerId: `c-${id}`, source: 'web' });
const disqualified = (id: string, occurredAt: string) => lead(id, 'LeadDisqualified', occurredAt, { reason: 'no budget' });

const customer: ScenarioEvent = {
  streamId: 'customer-c1',
  type: 'CustomerRegistered',
  occurredAt: '2024-01-01T00:00:00.000Z',
  data: { customerId: 'c1', name: 'Acme', source: 'web', ownerId: 'u1' },
};

const scenario: ScenarioEvent[] = [
  customer,
  // d0: won a millisecond before March, with a call: not in the window.
  opened('d0', '2024-02-01T00:00:00.000Z', 'u1'),
  logged('2024-02-02T00:00:00.000Z', 'call', 'd0'),
  won('d0', '2024-02-29T23:59:59.999Z'),
  // d1 (u1): 2 calls, an email and a meeting, won at March's first instant; then a call a millisecond later
  // (not counted) and an email recorded after the win but dated before it (counted).
  opened('d1', '2024-02-10T00:00:00.000Z', 'u1'),
  logged('2024-02-11T00:00:00.000Z', 'call', 'd1'),
  logged('2024-02-20T00:00:00.000Z', 'call', 'd1'),
  logged('2024-02-25T00:00:00.000Z', 'email', 'd1'),
  logged('2024-02-28T00:00:00.000Z', 'meeting', 'd1'),
  // Interactions naming no deal are on no deal.
  logged('2024-02-28T00:00:00.000Z', 'call'),
  won('d1', '2024-03-01T00:00:00.000Z'),
  logged('2024-03-01T00:00:00.001Z', 'call', 'd1'),
  logged('2024-02-29T23:00:00.000Z', 'email', 'd1'),
  // d2: opened by u1, moved to u2, 2 calls, lost at March's last millisecond (u2); moved to u3 after the loss (no change).
  opened('d2', '2024-03-02T00:00:00.000Z', 'u1'),
  logged('2024-03-03T00:00:00.000Z', 'call', 'd2'),
  dealOwner('d2', '2024-03-05T00:00:00.000Z', 'u2', 'u1'),
  logged('2024-03-06T00:00:00.000Z', 'call', 'd2'),
  lost('d2', '2024-03-31T23:59:59.999Z'),
  dealOwner('d2', '2024-04-02T00:00:00.000Z', 'u3', 'u2'),
  // d3 (u2): no interaction, won at April's first instant.
  opened('d3', '2024-03-10T00:00:00.000Z', 'u2'),
  won('d3', '2024-04-01T00:00:00.000Z'),
  // d4 (u2): an sms; a call and an email dated after the win but recorded before it (not counted), the
  // email a few hours after a move to u3 and back; a call at the very instant of the win (counted).
  opened('d4', '2024-03-15T00:00:00.000Z', 'u2'),
  logged('2024-03-16T00:00:00.000Z', 'sms', 'd4'),
  logged('2024-04-20T00:00:00.000Z', 'call', 'd4'),
  logged('2024-04-10T06:00:00.000Z', 'email', 'd4'),
  dealOwner('d4', '2024-04-09T12:00:00.000Z', 'u3', 'u2'),
  dealOwner('d4', '2024-04-09T18:00:00.000Z', 'u2', 'u3'),
  logged('2024-04-10T00:00:00.000Z', 'call', 'd4'),
  won('d4', '2024-04-10T00:00:00.000Z'),
  // d5 (u3): still open.
  opened('d5', '2024-03-20T00:00:00.000Z', 'u3'),
  logged('2024-03-21T00:00:00.000Z', 'call', 'd5'),
  // d6 (u3): lost at the window's end: not in it.
  opened('d6', '2024-04-15T00:00:00.000Z', 'u3'),
  logged('2024-04-16T00:00:00.000Z', 'call', 'd6'),
  lost('d6', '2024-05-01T00:00:00.000Z'),

  // l1 (u1): an opened email and 2 calls, converted in March; a call after the conversion (not counted).
  captured('l1', '2024-02-01T00:00:00.000Z'),
  assigned('l1', '2024-02-01T00:00:00.000Z', 'u1'),
  touched('l1', '2024-02-02T00:00:00.000Z', 'email-opened'),
  touched('l1', '2024-02-03T00:00:00.000Z', 'call'),
  touched('l1', '2024-02-04T00:00:00.000Z', 'call'),
  converted('l1', '2024-03-10T00:00:00.000Z'),
  touched('l1', '2024-03-11T00:00:00.000Z', 'call'),
  // l2 (never assigned): a web visit, disqualified in April.
  captured('l2', '2024-03-01T00:00:00.000Z'),
  touched('l2', '2024-03-02T00:00:00.000Z', 'web-visit'),
  disqualified('l2', '2024-04-05T00:00:00.000Z'),
  // l3: u2 then u3, a meeting, converted at April's last millisecond (u3); a call recorded later, dated before (counted).
  captured('l3', '2024-03-01T00:00:00.000Z'),
  assigned('l3', '2024-03-01T00:00:00.000Z', 'u2'),
  assigned('l3', '2024-03-03T00:00:00.000Z', 'u3'),
  touched('l3', '2024-03-04T00:00:00.000Z', 'meeting'),
  converted('l3', '2024-04-30T23:59:59.999Z'),
  touched('l3', '2024-03-02T00:00:00.000Z', 'call'),
  // l4 (u1): disqualified in March; a note recorded afterwards, dated at the very instant of it (counted).
  captured('l4', '2024-03-01T00:00:00.000Z'),
  assigned('l4', '2024-03-01T00:00:00.000Z', 'u1'),
  disqualified('l4', '2024-03-20T00:00:00.000Z'),
  touched('l4', '2024-03-20T00:00:00.000Z', 'note'),
  // l5 (u1): still open.
  captured('l5', '2024-03-01T00:00:00.000Z'),
  assigned('l5', '2024-03-01T00:00:00.000Z', 'u1'),
  touched('l5', '2024-03-05T00:00:00.000Z', 'call'),
];

/** Every listed type with its count (zeros included), then `all`. */
const dealCounts = (counts: Record<string, number>, all: number) => ({
  ...Object.fromEntries(InteractionTypes.map((t) => [t, counts[t] ?? 0])),
  all,
});
const leadCounts = (counts: Record<string, number>, all: number) => ({
  ...Object.fromEntries(LeadInteractionTypes.map((t) => [t, counts[t] ?? 0])),
  all,
});
const dealNulls = { ...Object.fromEntries(InteractionTypes.map((t) => [t, null])), all: null };
const leadNulls = { ...Object.fromEntries(LeadInteractionTypes.map((t) => [t, null])), all: null };
const noDeals = {
  deals: 0,
  wonDeals: 0,
  dealInteractions: dealCounts({}, 0),
  perDeal: dealNulls,
  wonDealInteractions: dealCounts({}, 0),
  perWonDeal: dealNulls,
};
const noLeads = {
  leads: 0,
  convertedLeads: 0,
  leadInteractions: leadCounts({}, 0),
  perLead: leadNulls,
  convertedLeadInteractions: leadCounts({}, 0),
  perConvertedLead: leadNulls,
};
const nothing: EngagementFigures = { ...noDeals, ...noLeads };

const MARCH = { start: '2024-03-01T00:00:00.000Z', end: '2024-04-01T00:00:00.000Z' };
const APRIL = { start: '2024-04-01T00:00:00.000Z', end: '2024-05-01T00:00:00.000Z' };

// March: d1 (won: 2 calls, 2 emails, a meeting) and d2 (lost: 2 calls); l1 (converted: 2 calls, an opened email) and l4 (a note).
const march: EngagementFigures = {
  deals: 2,
  wonDeals: 1,
  dealInteractions: dealCounts({ call: 4, email: 2, meeting: 1 }, 7),
  perDeal: dealCounts({ call: 2, email: 1, meeting: 0.5 }, 3.5),
  wonDealInteractions: dealCounts({ call: 2, email: 2, meeting: 1 }, 5),
  perWonDeal: dealCounts({ call: 2, email: 2, meeting: 1 }, 5),
  leads: 2,
  convertedLeads: 1,
  leadInteractions: leadCounts({ call: 2, 'email-opened': 1, note: 1 }, 4),
  perLead: leadCounts({ call: 1, 'email-opened': 0.5, note: 0.5 }, 2),
  convertedLeadInteractions: leadCounts({ call: 2, 'email-opened': 1 }, 3),
  perConvertedLead: leadCounts({ call: 2, 'email-opened': 1 }, 3),
};
// April: d3 (won: nothing) and d4 (won: a call, an sms); l2 (disqualified: a web visit) and l3 (converted: a meeting, a call).
const april: EngagementFigures = {
  deals: 2,
  wonDeals: 2,
  dealInteractions: dealCounts({ call: 1, sms: 1 }, 2),
  perDeal: dealCounts({ call: 0.5, sms: 0.5 }, 1),
  wonDealInteractions: dealCounts({ call: 1, sms: 1 }, 2),
  perWonDeal: dealCounts({ call: 0.5, sms: 0.5 }, 1),
  leads: 2,
  convertedLeads: 1,
  leadInteractions: leadCounts({ call: 1, meeting: 1, 'web-visit': 1 }, 3),
  perLead: leadCounts({ call: 0.5, meeting: 0.5, 'web-visit': 0.5 }, 1.5),
  convertedLeadInteractions: leadCounts({ call: 1, meeting: 1 }, 2),
  perConvertedLead: leadCounts({ call: 1, meeting: 1 }, 2),
};
// Both months: 4 deals (3 won: d1, d3, d4), 4 leads (2 converted: l1, l3).
const total: EngagementFigures = {
  deals: 4,
  wonDeals: 3,
  dealInteractions: dealCounts({ call: 5, email: 2, meeting: 1, sms: 1 }, 9),
  perDeal: dealCounts({ call: 1.25, email: 0.5, meeting: 0.25, sms: 0.25 }, 2.25),
  wonDealInteractions: dealCounts({ call: 3, email: 2, meeting: 1, sms: 1 }, 7),
  // 3/3, 2/3, 1/3, 1/3, 7/3
  perWonDeal: dealCounts({ call: 1, email: 0.6667, meeting: 0.3333, sms: 0.3333 }, 2.3333),
  leads: 4,
  convertedLeads: 2,
  leadInteractions: leadCounts({ call: 3, meeting: 1, 'web-visit': 1, 'email-opened': 1, note: 1 }, 7),
  perLead: leadCounts({ call: 0.75, meeting: 0.25, 'web-visit': 0.25, 'email-opened': 0.25, note: 0.25 }, 1.75),
  convertedLeadInteractions: leadCounts({ call: 3, meeting: 1, 'email-opened': 1 }, 5),
  perConvertedLead: leadCounts({ call: 1.5, meeting: 0.5, 'email-opened': 0.5 }, 2.5),
};

// u1: d1 (won) and both March leads (l1, l4).
const u1March: EngagementFigures = {
  deals: 1,
  wonDeals: 1,
  dealInteractions: dealCounts({ call: 2, email: 2, meeting: 1 }, 5),
  perDeal: dealCounts({ call: 2, email: 2, meeting: 1 }, 5),
  wonDealInteractions: dealCounts({ call: 2, email: 2, meeting: 1 }, 5),
  perWonDeal: dealCounts({ call: 2, email: 2, meeting: 1 }, 5),
  leads: 2,
  convertedLeads: 1,
  leadInteractions: leadCounts({ call: 2, 'email-opened': 1, note: 1 }, 4),
  perLead: leadCounts({ call: 1, 'email-opened': 0.5, note: 0.5 }, 2),
  convertedLeadInteractions: leadCounts({ call: 2, 'email-opened': 1 }, 3),
  perConvertedLead: leadCounts({ call: 2, 'email-opened': 1 }, 3),
};
// u2: d2 (lost, 2 calls) in March; d3 and d4 (won) in April.
const u2March: EngagementFigures = {
  ...noLeads,
  deals: 1,
  wonDeals: 0,
  dealInteractions: dealCounts({ call: 2 }, 2),
  perDeal: dealCounts({ call: 2 }, 2),
  wonDealInteractions: dealCounts({}, 0),
  perWonDeal: dealNulls,
};
const u2April: EngagementFigures = {
  ...noLeads,
  deals: 2,
  wonDeals: 2,
  dealInteractions: dealCounts({ call: 1, sms: 1 }, 2),
  perDeal: dealCounts({ call: 0.5, sms: 0.5 }, 1),
  wonDealInteractions: dealCounts({ call: 1, sms: 1 }, 2),
  perWonDeal: dealCounts({ call: 0.5, sms: 0.5 }, 1),
};
const u2Total: EngagementFigures = {
  ...noLeads,
  deals: 3,
  wonDeals: 2,
  dealInteractions: dealCounts({ call: 3, sms: 1 }, 4),
  // 3/3, 1/3, 4/3
  perDeal: dealCounts({ call: 1, sms: 0.3333 }, 1.3333),
  wonDealInteractions: dealCounts({ call: 1, sms: 1 }, 2),
  perWonDeal: dealCounts({ call: 0.5, sms: 0.5 }, 1),
};
const u3April: EngagementFigures = {
  ...noDeals,
  leads: 1,
  convertedLeads: 1,
  leadInteractions: leadCounts({ call: 1, meeting: 1 }, 2),
  perLead: leadCounts({ call: 1, meeting: 1 }, 2),
  convertedLeadInteractions: leadCounts({ call: 1, meeting: 1 }, 2),
  perConvertedLead: leadCounts({ call: 1, meeting: 1 }, 2),
};
const unassignedApril: EngagementFigures = {
  ...noDeals,
  leads: 1,
  convertedLeads: 0,
  leadInteractions: leadCounts({ 'web-visit': 1 }, 1),
  perLead: leadCounts({ 'web-visit': 1 }, 1),
  convertedLeadInteractions: leadCounts({}, 0),
  perConvertedLead: leadNulls,
};

describe('engagement report', () => {
  let p: Projected | undefined;
  afterEach(async () => {
    await p?.close();
    p = undefined;
  });

  it('hand-computed: interactions per closed deal and lead, by period and owner at the close, exact to the millisecond', async () => {
    p = await project(scenario, [engagementProjection]);
    const report = await engagementReport.run(reportParams({ from: MARCH.start, to: APRIL.end, interval: 'month' }), p.context);
    expect(report).toEqual({
      interval: 'month',
      periods: [
        { ...MARCH, ...march },
        { ...APRIL, ...april },
      ],
      total,
      owners: [
        // u1: d1 and both March leads; nothing in April (null averages).
        {
          ownerId: 'u1',
          periods: [
            { ...MARCH, ...u1March },
            { ...APRIL, ...nothing },
          ],
          total: u1March,
        },
        {
          ownerId: 'u2',
          periods: [
            { ...MARCH, ...u2March },
            { ...APRIL, ...u2April },
          ],
          total: u2Total,
        },
        {
          ownerId: 'u3',
          periods: [
            { ...MARCH, ...nothing },
            { ...APRIL, ...u3April },
          ],
          total: u3April,
        },
        {
          ownerId: 'unassigned',
          periods: [
            { ...MARCH, ...nothing },
            { ...APRIL, ...unassignedApril },
          ],
          total: unassignedApril,
        },
      ],
    });
    expect(report).toEqual(engagementReference(p.events, { from: MARCH.start, to: APRIL.end, interval: 'month' }));
  });

  it('periods: a window inside a month counts the whole month; days end exactly at midnight; no close gives nulls', async () => {
    p = await project(scenario, [engagementProjection]);
    // from is truncated to the month's start, the last period is the whole month.
    const inside = await buildEngagementReport(
      { from: '2024-03-15T12:00:00.000Z', to: '2024-03-15T12:00:00.001Z', interval: 'month' },
      p.context,
    );
    expect(inside.periods).toEqual([{ ...MARCH, ...march }]);
    // Days: d0 on Feb 29 (the day before), d1 on March 1st.
    const days = await buildEngagementReport(
      { from: '2024-02-29T00:00:00.000Z', to: '2024-03-02T00:00:00.000Z', interval: 'day' },
      p.context,
    );
    expect(
      days.periods.map((row) => [row.start, row.deals, row.dealInteractions.call, row.dealInteractions.all, row.perWonDeal.all]),
    ).toEqual([
      ['2024-02-29T00:00:00.000Z', 1, 1, 1, 1],
      ['2024-03-01T00:00:00.000Z', 1, 2, 5, 5],
    ]);
    expect(days.owners.map((o) => o.ownerId)).toEqual(['u1']);
    // d6, lost at May's first instant, is May's.
    const may = await buildEngagementReport(
      { from: '2024-05-01T00:00:00.000Z', to: '2024-06-01T00:00:00.000Z', interval: 'month' },
      p.context,
    );
    expect(may.total).toMatchObject({ deals: 1, wonDeals: 0, perDeal: { call: 1, all: 1 }, perWonDeal: dealNulls, perLead: leadNulls });
    expect(may.owners.map((o) => o.ownerId)).toEqual(['u3']);
    const empty = await buildEngagementReport(
      { from: '2025-01-01T00:00:00.000Z', to: '2025-03-01T00:00:00.000Z', interval: 'month' },
      p.context,
    );
    expect(empty).toEqual({
      interval: 'month',
      periods: [
        { start: '2025-01-01T00:00:00.000Z', end: '2025-02-01T00:00:00.000Z', ...nothing },
        { start: '2025-02-01T00:00:00.000Z', end: '2025-03-01T00:00:00.000Z', ...nothing },
      ],
      total: nothing,
      owners: [],
    });
  });

  it('its tables: periods, owner × period, the range, owner over the range', async () => {
    p = await project(scenario, [engagementProjection]);
    const report = await buildEngagementReport({ from: MARCH.start, to: APRIL.end, interval: 'month' }, p.context);
    expect(Object.keys(engagementReport.tables)).toEqual(['periods', 'owners', 'total', 'ownerTotals']);
    const periodsTable = engagementReport.tables.periods(report);
    expect(
      periodsTable.map((row) => [row.start, row.deals, row['perDeal.call'], row['perWonDeal.all'], row['perLead.email-opened']]),
    ).toEqual([
      [MARCH.start, 2, 2, 5, 0.5],
      [APRIL.start, 2, 0.5, 1, 0],
    ]);
    expect(engagementReport.tables.owners(report).map((row) => [row.ownerId, row.start, row.deals, row['perDeal.all'], row.leads])).toEqual(
      [
        ['u1', MARCH.start, 1, 5, 2],
        ['u1', APRIL.start, 0, null, 0],
        ['u2', MARCH.start, 1, 2, 0],
        ['u2', APRIL.start, 2, 1, 0],
        ['u3', MARCH.start, 0, null, 0],
        ['u3', APRIL.start, 0, null, 1],
        ['unassigned', MARCH.start, 0, null, 0],
        ['unassigned', APRIL.start, 0, null, 1],
      ],
    );
    expect(engagementReport.tables.total(report)).toEqual([
      expect.objectContaining({ start: MARCH.start, end: APRIL.end, deals: 4, 'perWonDeal.all': 2.3333, 'perLead.all': 1.75 }),
    ]);
    expect(engagementReport.tables.ownerTotals(report).map((row) => [row.ownerId, row.start, row.end, row.deals, row.leads])).toEqual([
      ['u1', MARCH.start, APRIL.end, 1, 2],
      ['u2', MARCH.start, APRIL.end, 3, 0],
      ['u3', MARCH.start, APRIL.end, 0, 1],
      ['unassigned', MARCH.start, APRIL.end, 0, 1],
    ]);
  });
});

const reopened = (id: string, occurredAt: string, ownerId: string, outcome: 'won' | 'lost', closedAt: string) =>
  deal(id, 'DealReopened', occurredAt, {
    customerId: 'c1',
    ownerId,
    amount: 100,
    stage: 'proposal',
    outcome,
    closedAt,
    closedStage: 'proposal',
    ...(outcome === 'lost' ? { lostReason: 'price' } : {}),
  });

describe('engagement report with reopened deals (a deal counts by its last close)', () => {
  it('hand-computed: a reopen withdraws the close from its day and owner; the next close counts every interaction up to it', async () => {
    const p = await project(
      [
        customer,
        // r1 (u1): a call, and a social dated after its win, won Feb 10 (u1); moved to u2 while won; an email
        // dated after the win and a meeting recorded later but dated before it; reopened Mar 5, an sms, won
        // again Mar 20: March's, u2's, 5 interactions.
        opened('r1', '2024-01-10T00:00:00.000Z', 'u1'),
        logged('2024-01-15T00:00:00.000Z', 'call', 'r1'),
        logged('2024-02-12T00:00:00.000Z', 'social', 'r1'),
        won('r1', '2024-02-10T00:00:00.000Z'),
        dealOwner('r1', '2024-02-20T00:00:00.000Z', 'u2', 'u1'),
        logged('2024-02-25T00:00:00.000Z', 'email', 'r1'),
        logged('2024-02-05T00:00:00.000Z', 'meeting', 'r1'),
        reopened('r1', '2024-03-05T00:00:00.000Z', 'u2', 'won', '2024-02-10T00:00:00.000Z'),
        logged('2024-03-10T00:00:00.000Z', 'sms', 'r1'),
        won('r1', '2024-03-20T00:00:00.000Z'),
        // r2 (u3): a meeting, lost January's last millisecond, reopened at February's first, a call, lost
        // February's last millisecond: February's loss, 2 interactions; nothing in January.
        opened('r2', '2024-01-05T00:00:00.000Z', 'u3'),
        logged('2024-01-06T00:00:00.000Z', 'meeting', 'r2'),
        lost('r2', '2024-01-31T23:59:59.999Z'),
        reopened('r2', '2024-02-01T00:00:00.000Z', 'u3', 'lost', '2024-01-31T23:59:59.999Z'),
        logged('2024-02-02T00:00:00.000Z', 'call', 'r2'),
        lost('r2', '2024-02-29T23:59:59.999Z'),
        // r3 (u1): won and reopened within February, still open: counted nowhere.
        opened('r3', '2024-02-01T00:00:00.000Z', 'u1'),
        logged('2024-02-03T00:00:00.000Z', 'note', 'r3'),
        won('r3', '2024-02-15T00:00:00.000Z'),
        reopened('r3', '2024-02-20T00:00:00.000Z', 'u1', 'won', '2024-02-15T00:00:00.000Z'),
      ],
      [engagementProjection],
    );
    try {
      const params = reportParams({ from: '2024-01-01T00:00:00.000Z', to: '2024-04-01T00:00:00.000Z', interval: 'month' });
      const report = await engagementReport.run(params, p.context);
      const deals = (f: EngagementFigures) => [f.deals, f.wonDeals, f.dealInteractions, f.wonDealInteractions];
      expect(report.periods.map(deals)).toEqual([
        [0, 0, dealCounts({}, 0), dealCounts({}, 0)],
        [1, 0, dealCounts({ meeting: 1, call: 1 }, 2), dealCounts({}, 0)],
        [
          1,
          1,
          dealCounts({ call: 1, social: 1, meeting: 1, email: 1, sms: 1 }, 5),
          dealCounts({ call: 1, social: 1, meeting: 1, email: 1, sms: 1 }, 5),
        ],
      ]);
      expect(report.periods[2].perWonDeal.all).toBe(5);
      // u1 closed nothing that stands: not listed.
      expect(report.owners.map((o) => [o.ownerId, o.total.deals, o.total.wonDeals, o.total.dealInteractions.all])).toEqual([
        ['u2', 1, 1, 5],
        ['u3', 1, 0, 2],
      ]);
      expect(report).toEqual(engagementReference(p.events, params));
    } finally {
      await p.close();
    }
  });
});

interface Extra {
  kind: 'dealTouch' | 'leadTouch' | 'dealOwner' | 'leadOwner';
  at: number;
  pick: number;
  choice: number;
  /** Business time of a touch after the history's last event: the same instant, later, or back-dated. */
  shift: number;
}
const HOUR = 3_600_000;
const extraArbitrary: fc.Arbitrary<Extra> = fc.record({
  kind: fc.constantFrom<Extra['kind']>(
    'dealTouch',
    'dealTouch',
    'dealTouch',
    'leadTouch',
    'leadTouch',
    'dealOwner',
    'dealOwner',
    'leadOwner',
  ),
  at: fc.oneof(fc.nat(1000), fc.constantFrom(250, 500, 750, 1000)),
  pick: fc.nat(1000),
  choice: fc.nat(1000),
  // The close instant itself, later (possibly after a close still to come, or after a later owner change of
  // the deal but before its close) and back-dated (possibly before one already past).
  shift: fc.oneof(
    fc.constant(0),
    fc.integer({ min: 1, max: 6 * HOUR }),
    fc.integer({ min: 1, max: 20 * 24 * HOUR }),
    fc.integer({ min: -20 * 24 * HOUR, max: -1 }),
    fc.constant(-1),
  ),
});

/**
 * The random histories have interactions about no deal and no lead interactions or owner changes:
 * these are woven in, each valid where it lands. A deal's owner changes at the history's current
 * time (the deal decider keeps a deal's events in business-time order, also after its close);
 * a lead's only while it is open. Touches are dated freely around the current time.
 */
function withEngagement(history: ScenarioEvent[], extras: Extra[]): ScenarioEvent[] {
  const out: ScenarioEvent[] = [];
  const deals = new Map<string, { customerId: string; owner: string }>();
  const leads = new Map<string, { open: boolean; owner?: string }>();
  let now = Date.parse('2024-01-01T00:00:00.000Z');
  let n = 0;
  const slots = [...extras].map((x) => ({ ...x, at: Math.floor((x.at * history.length) / 1000) })).sort((a, b) => a.at - b.at);
  const weave = (x: Extra) => {
    const owner = OWNERS[x.choice % OWNERS.length];
    const dealIds = [...deals.keys()];
    const leadIds = [...leads.keys()];
    // Often the latest deal or lead, so that work lands around its close.
    const dealId = x.pick % 3 === 0 ? dealIds.at(-1) : dealIds[x.pick % Math.max(1, dealIds.length)];
    const leadId = x.pick % 3 === 0 ? leadIds.at(-1) : leadIds[x.pick % Math.max(1, leadIds.length)];
    const occurredAt = new Date(now + x.shift).toISOString();
    switch (x.kind) {
      case 'dealTouch': {
        const d = dealId === undefined ? undefined : deals.get(dealId)!;
        const customerId = d?.customerId ?? 'c-none';
        out.push({
          streamId: `customer-${customerId}`,
          type: 'InteractionLogged',
          occurredAt,
          actor: owner,
          data: {
            customerId,
            interactionId: `xi${++n}`,
            type: InteractionTypes[x.choice % InteractionTypes.length],
            direction: 'outbound',
            subject: 'touch',
            dealId: dealId ?? 'no-such-deal',
          },
        });
        return;
      }
      case 'leadTouch':
        if (leadId !== undefined)
          out.push({
            streamId: `lead-${leadId}`,
            type: 'LeadInteractionLogged',
            occurredAt,
            data: { leadId, interactionId: `xi${++n}`, type: LeadInteractionTypes[x.choice % LeadInteractionTypes.length] },
          });
        return;
      case 'dealOwner': {
        const d = dealId === undefined ? undefined : deals.get(dealId)!;
        if (!d || d.owner === owner) return;
        out.push({
          streamId: `deal-${dealId}`,
          type: 'DealOwnerAssigned',
          occurredAt: new Date(now).toISOString(),
          data: { dealId, ownerId: owner, previousOwnerId: d.owner },
        });
        d.owner = owner;
        return;
      }
      case 'leadOwner': {
        const l = leadId === undefined ? undefined : leads.get(leadId)!;
        if (!l?.open || l.owner === owner) return;
        out.push({ streamId: `lead-${leadId}`, type: 'LeadAssigned', occurredAt, data: { leadId, ownerId: owner } });
        l.owner = owner;
        return;
      }
    }
  };
  for (let i = 0, s = 0; i <= history.length; i++) {
    while (s < slots.length && slots[s].at === i) weave(slots[s++]);
    if (i === history.length) break;
    const event = history[i];
    out.push(event);
    now = Date.parse(event.occurredAt);
    const d = event.data as { dealId?: string; leadId?: string; customerId?: string; ownerId?: string };
    if (event.type === 'DealOpened') deals.set(d.dealId!, { customerId: d.customerId!, owner: d.ownerId! });
    // The script's deciders know no woven owner change: a reopen names the owner the deal has here.
    if (event.type === 'DealReopened') out[out.length - 1] = { ...event, data: { ...event.data, ownerId: deals.get(d.dealId!)!.owner } };
    if (event.type === 'LeadCaptured') leads.set(d.leadId!, { open: true });
    if (event.type === 'LeadConverted' || event.type === 'LeadDisqualified') leads.get(d.leadId!)!.open = false;
  }
  return out;
}

describe('engagement report = a fold of the raw events (property)', () => {
  it('matches for random histories and windows', async () => {
    let counted = 0;
    await fc.assert(
      fc.asyncProperty(
        historyArbitrary({ minSteps: 60, maxSteps: 160 }),
        fc.array(extraArbitrary, { minLength: 20, maxLength: 150 }),
        fc.array(reportParamsArbitrary(), { minLength: 3, maxLength: 3 }),
        async (history, extras, paramsList) => {
          const projected = await project(withEngagement(history, extras), [engagementProjection]);
          try {
            const times = projected.events.map((e) => Date.parse(e.occurredAt));
            const everything = { from: new Date(Math.min(...times)).toISOString(), to: new Date(Math.max(...times) + 1).toISOString() };
            for (const params of [
              ...paramsList,
              reportParams({ ...everything, interval: 'month' }),
              reportParams({ ...everything, interval: 'week' }),
            ]) {
              const served = await engagementReport.run(params, projected.context);
              expect(served).toEqual(engagementReference(projected.events, params));
              counted += served.total.dealInteractions.all + served.total.leadInteractions.all;
            }
          } finally {
            await projected.close();
          }
        },
      ),
      { numRuns: 25 },
    );
    expect(counted).toBeGreaterThan(100); // not a comparison of empty reports
  }, 180_000);
});

describe('engagement report with reopens = a fold of the raw events (property)', () => {
  it('matches for random histories with reopened deals', async () => {
    const seen = { reopens: 0, counted: 0 };
    await fc.assert(
      fc.asyncProperty(
        historyArbitrary({ minSteps: 100, maxSteps: 250, reopens: true }),
        fc.array(extraArbitrary, { minLength: 20, maxLength: 150 }),
        fc.array(reportParamsArbitrary(), { minLength: 2, maxLength: 2 }),
        async (history, extras, paramsList) => {
          const projected = await project(withEngagement(history, extras), [engagementProjection]);
          try {
            if (projected.events.some((e) => e.type === 'DealReopened')) seen.reopens += 1;
            const times = projected.events.map((e) => Date.parse(e.occurredAt));
            const everything = { from: new Date(Math.min(...times)).toISOString(), to: new Date(Math.max(...times) + 1).toISOString() };
            for (const params of [...paramsList, reportParams({ ...everything, interval: 'month' })]) {
              const served = await engagementReport.run(params, projected.context);
              expect(served).toEqual(engagementReference(projected.events, params));
              seen.counted += served.total.dealInteractions.all;
            }
          } finally {
            await projected.close();
          }
        },
      ),
      { numRuns: 15, seed: 1607 },
    );
    expect(seen.reopens).toBeGreaterThan(0);
    expect(seen.counted).toBeGreaterThan(50); // deal interactions, not empty reports
  }, 180_000);
});
