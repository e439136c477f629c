import fc from 'fast-check';
import { LeadInteractionTypes } from '@chronicle/domain';
import { project, Projected, ScenarioEvent } from '../testing/harness';
import { historyArbitrary, OWNERS, SOURCES } from '../testing/random-history';
import { reportParams, reportParamsArbitrary } from '../testing/report-params';
import { leadResponseProjection } from './projection';
import { buildLeadResponseReport, leadResponseReport, LeadResponseStats } from './query';
import { leadResponseReference } from './reference';

const lead = (id: string, type: string, occurredAt: string, data: Record<string, unknown> = {}): ScenarioEvent => ({
  streamId: `lead-${id}`,
  type,
  occurredAt,
  data: { leadId: id, ...data },
});
const captured = (id: string, occurredAt: string, source: string) => lead(id, 'LeadCaptured', occurredAt, { name: `Lead ${id}`, source });
const assigned = (id: string, occurredAt: string, ownerId: string) => lead(id, 'LeadAssigned', occurredAt, { ownerId });
let interactions = 0;
const touched = (id: string, occurredAt: string, type = 'call') =>
  lead(id, 'LeadInteractionLogged', occurredAt, { interactionId: `i${++interactions}`, type });
const task = (taskId: string, leadId: string, ownerId: string, occurredAt: string): ScenarioEvent => ({
  streamId: `task-${taskId}`,
  type: 'TaskCreated',
  occurredAt,
  data: { taskId, ownerId, subject: 'Call back', dueAt: occurredAt, leadId },
});
const done = (taskId: string, occurredAt: string): ScenarioEvent => ({
  streamId: `task-${taskId}`,
  type: 'TaskCompleted',
  occurredAt,
  data: { taskId },
});

const scenario: ScenarioEvent[] = [
  // Captured a millisecond before the window: not in it.
  captured('z', '2024-02-29T23:59:59.999Z', 'ads'),
  assigned('z', '2024-02-29T23:59:59.999Z', 'u1'),
  touched('z', '2024-03-01T00:00:00.000Z'),
  // a: captured at the window's first instant, answered at that very instant: 0 days (web, u1).
  captured('a', '2024-03-01T00:00:00.000Z', 'web'),
  assigned('a', '2024-03-01T00:00:00.000Z', 'u1'),
  touched('a', '2024-03-01T00:00:00.000Z'),
  // b: an email after 1 day, then an owner task completed after 2: the email counts, 1 day (web, u1).
  captured('b', '2024-03-01T06:00:00.000Z', 'web'),
  assigned('b', '2024-03-01T06:00:00.000Z', 'u1'),
  task('tb', 'b', 'u1', '2024-03-01T07:00:00.000Z'),
  // c: a web visit (the lead's own doing, ignored), an owner task completed after 6 h, then a call: 0.25 days (ads, u2).
  captured('c', '2024-03-01T12:00:00.000Z', 'ads'),
  assigned('c', '2024-03-01T12:00:00.000Z', 'u2'),
  touched('c', '2024-03-01T13:00:00.000Z', 'web-visit'),
  task('tc', 'c', 'u2', '2024-03-01T13:00:00.000Z'),
  done('tc', '2024-03-01T18:00:00.000Z'),
  touched('b', '2024-03-02T06:00:00.000Z', 'email'),
  // d: never answered (ads, now u3): another rep's task, a note (no contact), and u2's task completed after the lead moved to u3.
  captured('d', '2024-03-02T00:00:00.000Z', 'ads'),
  assigned('d', '2024-03-02T00:00:00.000Z', 'u2'),
  task('td1', 'd', 'u3', '2024-03-02T00:10:00.000Z'),
  done('td1', '2024-03-02T01:00:00.000Z'),
  touched('d', '2024-03-02T02:00:00.000Z', 'note'),
  task('td2', 'd', 'u2', '2024-03-02T03:00:00.000Z'),
  assigned('d', '2024-03-02T04:00:00.000Z', 'u3'),
  done('td2', '2024-03-02T05:00:00.000Z'),
  // e: answered after 3 days (after the window: answers count so far) while unassigned; assigned later (referral, unassigned).
  captured('e', '2024-03-02T00:00:00.000Z', 'referral'),
  touched('c', '2024-03-02T12:00:00.000Z'),
  done('tb', '2024-03-03T06:00:00.000Z'),
  // h: an email back-dated an hour before the capture counts as at the capture: 0 days (referral, u2).
  captured('h', '2024-03-03T10:00:00.000Z', 'referral'),
  assigned('h', '2024-03-03T10:00:00.000Z', 'u2'),
  touched('h', '2024-03-03T09:00:00.000Z', 'email'),
  touched('h', '2024-03-03T11:00:00.000Z'),
  // i: converted, then a call to the customer it became (not the lead's): never answered (events, u3).
  captured('i', '2024-03-03T00:00:00.000Z', 'events'),
  assigned('i', '2024-03-03T00:00:00.000Z', 'u3'),
  lead('i', 'LeadConverted', '2024-03-03T01:00:00.000Z', { customerId: 'ci', source: 'events' }),
  {
    streamId: 'customer-ci',
    type: 'InteractionLogged',
    occurredAt: '2024-03-03T02:00:00.000Z',
    data: { customerId: 'ci', interactionId: 'ci1', type: 'call', direction: 'outbound', subject: 'Welcome' },
  },
  // f: captured at the window's last millisecond for u2, moved to u1, who texts 1.5 days later (web, u1).
  captured('f', '2024-03-03T23:59:59.999Z', 'web'),
  assigned('f', '2024-03-03T23:59:59.999Z', 'u2'),
  // g: captured at the window's end: not in it.
  captured('g', '2024-03-04T00:00:00.000Z', 'web'),
  assigned('f', '2024-03-04T00:00:00.000Z', 'u1'),
  touched('e', '2024-03-05T00:00:00.000Z', 'meeting'),
  touched('f', '2024-03-05T11:59:59.999Z', 'sms'),
  assigned('e', '2024-03-06T00:00:00.000Z', 'u1'),
];

const none = { responded: 0, responseRate: 0, medianDays: null, p90Days: null, avgDays: null };
const window = { from: '2024-03-01T00:00:00.000Z', to: '2024-03-04T00:00:00.000Z' };
// Answered: a 0, h 0, c 0.25, b 1, f 1.5, e 3; d and i not. 8 leads.
// Median of 6 = (0.25 + 1) / 2 = 0.625 → 0.63; p90 = ⌈0.9 · 6⌉ = 6th = 3; mean = 5.75 / 6 = 0.958… → 0.96.
const overall: LeadResponseStats = {
  key: 'all',
  leads: 8,
  responded: 6,
  responseRate: 0.75,
  medianDays: 0.63,
  p90Days: 3,
  avgDays: 0.96,
};

describe('lead-response report', () => {
  let p: Projected | undefined;
  afterEach(async () => {
    await p?.close();
    p = undefined;
  });

  it('hand-computed: response times per owner and source, with exact window ends', async () => {
    p = await project(scenario, [leadResponseProjection]);
    expect(await leadResponseReport.run(reportParams({ ...window, groupBy: 'owner' }), p.context)).toEqual({
      ...window,
      overall,
      groups: [
        // a 0, b 1, f 1.5: median 1; p90 = ⌈2.7⌉ = 3rd = 1.5; mean 2.5 / 3 = 0.833… → 0.83
        { key: 'u1', leads: 3, responded: 3, responseRate: 1, medianDays: 1, p90Days: 1.5, avgDays: 0.83 },
        // h 0, c 0.25: median 0.125 → 0.13; p90 = ⌈1.8⌉ = 2nd = 0.25
        { key: 'u2', leads: 2, responded: 2, responseRate: 1, medianDays: 0.13, p90Days: 0.25, avgDays: 0.13 },
        { key: 'u3', leads: 2, ...none }, // d, i
        { key: 'unassigned', leads: 1, responded: 1, responseRate: 1, medianDays: 3, p90Days: 3, avgDays: 3 }, // e
      ],
    });
    expect(await leadResponseReport.run(reportParams({ ...window, groupBy: 'source' }), p.context)).toEqual({
      ...window,
      overall,
      groups: [
        { key: 'ads', leads: 2, responded: 1, responseRate: 0.5, medianDays: 0.25, p90Days: 0.25, avgDays: 0.25 }, // c, d
        { key: 'events', leads: 1, ...none }, // i
        { key: 'referral', leads: 2, responded: 2, responseRate: 1, medianDays: 1.5, p90Days: 3, avgDays: 1.5 }, // h 0, e 3
        { key: 'web', leads: 3, responded: 3, responseRate: 1, medianDays: 1, p90Days: 1.5, avgDays: 0.83 }, // a, b, f
      ],
    });
    // No groupBy: no groups. A window not on midnights counts the whole days it touches.
    expect(await buildLeadResponseReport({ from: '2024-03-01T10:00:00.000Z', to: '2024-03-03T12:00:00.000Z' }, p.context)).toEqual({
      ...window,
      overall,
      groups: [],
    });
    // The days just outside: z alone (answered after 1 ms → 0 days), g alone (not answered).
    expect(await buildLeadResponseReport({ from: '2024-02-29T00:00:00.000Z', to: '2024-03-01T00:00:00.000Z' }, p.context)).toMatchObject({
      overall: { leads: 1, responded: 1, responseRate: 1, medianDays: 0, p90Days: 0, avgDays: 0 },
    });
    expect(
      await buildLeadResponseReport({ from: '2024-03-04T00:00:00.000Z', to: '2024-03-05T00:00:00.000Z', groupBy: 'owner' }, p.context),
    ).toEqual({
      from: '2024-03-04T00:00:00.000Z',
      to: '2024-03-05T00:00:00.000Z',
      overall: { key: 'all', leads: 1, ...none },
      groups: [{ key: 'unassigned', leads: 1, ...none }],
    });
    // No lead: zero denominators give null.
    expect(
      await buildLeadResponseReport({ from: '2025-01-01T00:00:00.000Z', to: '2025-02-01T00:00:00.000Z', groupBy: 'source' }, p.context),
    ).toEqual({
      from: '2025-01-01T00:00:00.000Z',
      to: '2025-02-01T00:00:00.000Z',
      overall: { key: 'all', leads: 0, responded: 0, responseRate: null, medianDays: null, p90Days: null, avgDays: null },
      groups: [],
    });
  });

  it('equal answer times: the first recorded keeps the owner; an earlier one recorded later takes it', async () => {
    p = await project(
      [
        // j: answered at the capture while unassigned, then again at the capture once u1's: still unassigned.
        captured('j', '2024-05-01T12:00:00.000Z', 'web'),
        touched('j', '2024-05-01T11:00:00.000Z'),
        assigned('j', '2024-05-01T12:30:00.000Z', 'u1'),
        touched('j', '2024-05-01T12:00:00.000Z'),
        // k: u2 calls after a day; moved to u3, whose call back-dated to half a day counts (0.5 days, u3).
        captured('k', '2024-05-01T00:00:00.000Z', 'web'),
        assigned('k', '2024-05-01T00:00:00.000Z', 'u2'),
        touched('k', '2024-05-02T00:00:00.000Z'),
        assigned('k', '2024-05-03T00:00:00.000Z', 'u3'),
        touched('k', '2024-05-01T12:00:00.000Z'),
      ],
      [leadResponseProjection],
    );
    const report = await buildLeadResponseReport({ from: '2024-05-01', to: '2024-05-02', groupBy: 'owner' }, p.context);
    expect(report.groups).toEqual([
      { key: 'u3', leads: 1, responded: 1, responseRate: 1, medianDays: 0.5, p90Days: 0.5, avgDays: 0.5 },
      { key: 'unassigned', leads: 1, responded: 1, responseRate: 1, medianDays: 0, p90Days: 0, avgDays: 0 },
    ]);
    expect(report).toEqual(leadResponseReference(p.events, { from: '2024-05-01', to: '2024-05-02', groupBy: 'owner' }));
  });

  it("a task reassigned to the lead's owner answers when completed; a cancelled one never does", async () => {
    const change = (type: string, taskId: string, occurredAt: string, data: Record<string, unknown> = {}): ScenarioEvent => ({
      streamId: `task-${taskId}`,
      type,
      occurredAt,
      data: { taskId, ...data },
    });
    p = await project(
      [
        // m: u1's lead; a task of u2's moved to u1, completed after 1 day: an answer (1 day, u1).
        captured('m', '2024-05-01T00:00:00.000Z', 'web'),
        assigned('m', '2024-05-01T00:00:00.000Z', 'u1'),
        task('tm', 'm', 'u2', '2024-05-01T00:00:00.000Z'),
        change('TaskReassigned', 'tm', '2024-05-01T12:00:00.000Z', { ownerId: 'u1', previousOwnerId: 'u2' }),
        done('tm', '2024-05-02T00:00:00.000Z'),
        // n: u1's lead; u1's task moved away to u2, then completed: not the owner's, no answer.
        captured('n', '2024-05-01T00:00:00.000Z', 'web'),
        assigned('n', '2024-05-01T00:00:00.000Z', 'u1'),
        task('tn', 'n', 'u1', '2024-05-01T00:00:00.000Z'),
        change('TaskReassigned', 'tn', '2024-05-01T06:00:00.000Z', { ownerId: 'u2', previousOwnerId: 'u1' }),
        done('tn', '2024-05-01T12:00:00.000Z'),
        // o: u1's task, cancelled: no answer.
        captured('o', '2024-05-01T00:00:00.000Z', 'web'),
        assigned('o', '2024-05-01T00:00:00.000Z', 'u1'),
        task('to', 'o', 'u1', '2024-05-01T00:00:00.000Z'),
        change('TaskCancelled', 'to', '2024-05-01T06:00:00.000Z'),
      ],
      [leadResponseProjection],
    );
    const params = { from: '2024-05-01', to: '2024-05-02', groupBy: 'owner' as const };
    const report = await buildLeadResponseReport(params, p.context);
    expect(report.groups).toEqual([{ key: 'u1', leads: 3, responded: 1, responseRate: 0.3333, medianDays: 1, p90Days: 1, avgDays: 1 }]);
    expect(report).toEqual(leadResponseReference(p.events, params));
  });

  it('its table: overall first (key `all`), then the groups', async () => {
    p = await project(scenario, [leadResponseProjection]);
    const report = await buildLeadResponseReport({ ...window, groupBy: 'source' }, p.context);
    expect(Object.keys(leadResponseReport.tables)).toEqual(['groups']);
    expect(leadResponseReport.tables.groups(report).map((row) => [row.key, row.leads, row.medianDays])).toEqual([
      ['all', 8, 0.63],
      ['ads', 2, 0.25],
      ['events', 1, null],
      ['referral', 2, 1.5],
      ['web', 3, 1],
    ]);
  });
});

interface Extra {
  kind: 'capture' | 'assign' | 'touch' | 'task' | 'complete';
  at: number;
  pick: number;
  choice: number;
  /** Business time after the event before it: the same instant, later, or back-dated. */
  shift: number;
}
const HOUR = 3_600_000;
const extraArbitrary: fc.Arbitrary<Extra> = fc.record({
  kind: fc.constantFrom<Extra['kind']>('capture', 'assign', 'assign', 'touch', 'touch', 'touch', 'task', 'task', 'complete', 'complete'),
  // Where in the history (per mille); a few fixed places make bursts of work on the same leads.
  at: fc.oneof(fc.nat(1000), fc.constantFrom(100, 400, 700, 1000)),
  pick: fc.nat(1000),
  choice: fc.nat(1000),
  // Same instants and back-dated entries are where "first" and the owner are decided: often.
  shift: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 72 * HOUR }), fc.integer({ min: -6 * HOUR, max: -1 }), fc.constant(-1)),
});

/**
 * The random histories have no lead assignments, lead interactions or tasks about leads: these
 * are woven in, each valid where it lands (assignments to open leads only, completions of open tasks).
 */
function withLeadWork(history: ScenarioEvent[], extras: Extra[]): ScenarioEvent[] {
  const out: ScenarioEvent[] = [];
  const leads = new Map<string, { open: boolean; owner?: string }>();
  const openTasks: string[] = [];
  let n = 0;
  const slots = [...extras].map((x) => ({ ...x, at: Math.floor((x.at * history.length) / 1000) })).sort((a, b) => a.at - b.at);
  const keys = () => [...leads.keys()];
  const weave = (x: Extra) => {
    const last = out.length ? Date.parse(out[out.length - 1].occurredAt) : Date.parse('2024-01-01T00:00:00.000Z');
    const occurredAt = new Date(last + x.shift).toISOString();
    const owner = OWNERS[x.choice % OWNERS.length];
    // Often the lead captured last, so that work lands right after (or back-dated before) its capture.
    const leadId = x.pick % 3 === 0 ? keys().at(-1) : keys()[x.pick % Math.max(1, leads.size)];
    const state = leadId === undefined ? undefined : leads.get(leadId)!;
    switch (x.kind) {
      case 'capture':
        out.push(captured(`xl${++n}`, new Date(last).toISOString(), SOURCES[x.choice % SOURCES.length]));
        leads.set(`xl${n}`, { open: true });
        return;
      case 'assign':
        if (!state?.open || state.owner === owner) return;
        out.push(assigned(leadId!, occurredAt, owner));
        state.owner = owner;
        return;
      case 'touch':
        if (state) out.push(touched(leadId!, occurredAt, LeadInteractionTypes[x.choice % LeadInteractionTypes.length]));
        return;
      case 'task':
        if (!state) return;
        // Mostly the lead's owner's task, sometimes anyone's.
        out.push(task(`xt${++n}`, leadId!, x.choice % 3 === 0 || !state.owner ? owner : state.owner, occurredAt));
        openTasks.push(`xt${n}`);
        return;
      case 'complete':
        if (openTasks.length) out.push(done(openTasks.splice(x.pick % openTasks.length, 1)[0], occurredAt));
        return;
    }
  };
  for (let i = 0, s = 0; i <= history.length; i++) {
    while (s < slots.length && slots[s].at === i) weave(slots[s++]);
    if (i === history.length) break;
    const event = history[i];
    out.push(event);
    const leadId = event.data.leadId as string;
    if (event.type === 'LeadCaptured') leads.set(leadId, { open: true });
    if (event.type === 'LeadConverted' || event.type === 'LeadDisqualified') leads.get(leadId)!.open = false;
  }
  return out;
}

describe('lead-response report = a fold of the raw events (property)', () => {
  it('matches for random histories and windows', async () => {
    let answered = 0;
    await fc.assert(
      fc.asyncProperty(
        historyArbitrary({ minSteps: 60, maxSteps: 160 }),
        fc.array(extraArbitrary, { minLength: 20, maxLength: 120 }),
        fc.array(reportParamsArbitrary([undefined, 'owner', 'source']), { minLength: 3, maxLength: 3 }),
        async (history, extras, paramsList) => {
          const projected = await project(withLeadWork(history, extras), [leadResponseProjection]);
          try {
            const times = projected.events.map((e) => Date.parse(e.occurredAt));
            const everything = { from: new Date(Math.min(...times)).toISOString(), to: new Date(Math.max(...times) + 1).toISOString() };
            for (const params of [...paramsList, reportParams(everything), reportParams({ ...everything, groupBy: 'owner' })]) {
              const served = await leadResponseReport.run(params, projected.context);
              expect(served).toEqual(leadResponseReference(projected.events, params));
              answered += served.overall.responded;
            }
          } finally {
            await projected.close();
          }
        },
      ),
      { numRuns: 25 },
    );
    expect(answered).toBeGreaterThan(50); // not a comparison of empty reports
  }, 120_000);
});
