import fc from 'fast-check';
import request from 'supertest';
import { randomUUID } from 'node:crypto';
import type { RecordedEvent } from '@chronicle/event-store';
import { client, UUID } from '../support/http';
import { fuzzReplay } from '../support/prng';
import { startTestApp, TestApp } from '../support/test-app';

/**
 * Property-based fuzzing of every write route (docs/http-api.md: "never a 500 for bad input"):
 * bodies are arbitrary JSON values, or objects mixing valid and invalid fields, unknown keys,
 * prototype-pollution keys, raw number literals (-0, 1e400…), bogus dates and long strings;
 * path ids are existing aggregates in every state, unknown UUIDs or junk.
 * Properties: never a 5xx; a 4xx leaves the store exactly as it was; an unknown top-level field
 * or a body that is not an object is a 400; a 2xx answers with the event it appended.
 */

// FUZZ_RUNS lowers it for the slower EventStoreDB-double run (npm run test:eventstoredb).
const RUNS = Number(process.env.FUZZ_RUNS ?? 60);
jest.setTimeout(60_000);

let t: TestApp;
let api: ReturnType<typeof client>;

/** A JSON text fragment sent verbatim (numbers JSON.stringify cannot write, like -0 or 1e400). */
class Raw {
  constructor(readonly text: string) {}
}
/** An object body as ordered entries, so keys like "__proto__" and duplicate keys survive to the wire. */
class Obj {
  constructor(readonly entries: Array<[string, unknown]>) {}
}

function serialize(value: unknown): string {
  if (value instanceof Raw) return value.text;
  if (value instanceof Obj) return `{${value.entries.map(([k, v]) => `${JSON.stringify(k)}:${serialize(v)}`).join(',')}}`;
  if (Array.isArray(value)) return `[${value.map(serialize).join(',')}]`;
  if (typeof value === 'number' && !Number.isFinite(value)) return 'null';
  return JSON.stringify(value) ?? 'null';
}

// ---------- fixtures: aggregates in every state ----------

interface Pools {
  customers: string[];
  deals: string[];
  leads: string[];
  tasks: string[];
  campaigns: string[];
  goals: string[];
}
const pools: Pools = { customers: [], deals: [], leads: [], tasks: [], campaigns: [], goals: [] };

async function ok(res: request.Test | Promise<request.Response>): Promise<request.Response> {
  const r = await res;
  if (r.status >= 300) throw new Error(`fixture failed: ${r.status} ${JSON.stringify(r.body)}`);
  return r;
}

/** A goal deadline half a year ahead (deadlines are at most 10 years after the goal is set). */
const soon = () => new Date(Date.now() + 180 * 86_400_000).toISOString();

async function createFixtures(): Promise<void> {
  for (let i = 0; i < 3; i++) {
    const prospect = (await ok(api.post('/customers', { name: `Prospect ${i}`, source: 'web' }))).body.id;
    const active = (await ok(api.post('/customers', { name: `Active ${i}`, source: 'referral' }))).body.id;
    await ok(api.post(`/customers/${active}/purchases`, { amount: 100 }));
    const churned = (await ok(api.post('/customers', { name: `Churned ${i}` }))).body.id;
    await ok(api.post(`/customers/${churned}/purchases`, { amount: 5 }));
    await ok(api.post(`/customers/${churned}/churn`, { reason: 'price' }));
    pools.customers.push(prospect, active, churned);

    const open = (await ok(api.post('/deals', { customerId: active, title: 'Open', amount: 1000 }))).body.id;
    const proposal = (await ok(api.post('/deals', { customerId: prospect, title: 'Proposal', amount: 10, stage: 'proposal' }))).body.id;
    const won = (await ok(api.post('/deals', { customerId: active, title: 'Won', amount: 5 }))).body.id;
    await ok(api.post(`/deals/${won}/win`));
    const lost = (await ok(api.post('/deals', { customerId: churned, title: 'Lost', amount: 5 }))).body.id;
    await ok(api.post(`/deals/${lost}/lose`, { reason: 'competitor' }));
    pools.deals.push(open, proposal, won, lost);

    const fresh = (await ok(api.post('/leads', { name: 'New lead', source: 'webinar' }))).body.id;
    const qualified = (await ok(api.post('/leads', { name: 'Qualified lead', source: 'web' }))).body.id;
    await ok(api.post(`/leads/${qualified}/qualify`));
    const converted = (await ok(api.post('/leads', { name: 'Converted lead', source: 'web' }))).body.id;
    await ok(api.post(`/leads/${converted}/convert`, {}));
    const disqualified = (await ok(api.post('/leads', { name: 'Disqualified lead', source: 'web' }))).body.id;
    await ok(api.post(`/leads/${disqualified}/disqualify`, { reason: 'no budget' }));
    pools.leads.push(fresh, qualified, converted, disqualified);

    const task = (await ok(api.post('/tasks', { subject: 'Open task', dueAt: '2030-01-01' }))).body.id;
    const done = (await ok(api.post('/tasks', { subject: 'Done task', dueAt: '2030-01-01', customerId: active }))).body.id;
    await ok(api.post(`/tasks/${done}/complete`, {}));
    pools.tasks.push(task, done);

    pools.campaigns.push((await ok(api.post('/campaigns', { name: `Campaign ${i}`, channel: 'webinar' }))).body.id);

    const goal = (await ok(api.post('/goals', { kpi: 'winRate', target: 0.3, deadline: soon() }))).body.id;
    const cancelled = (await ok(api.post('/goals', { kpi: 'cac', target: 100, deadline: soon() }))).body.id;
    await ok(api.post(`/goals/${cancelled}/cancel`, {}));
    pools.goals.push(goal, cancelled);
  }
}

// ---------- value arbitraries ----------

const longString = 'x'.repeat(3000);

/** The classics, one of each kind: absent-ish, wrong type, empty, huge, negative, bogus date. */
const commonJunk: unknown[] = [
  null,
  '',
  ' ',
  true,
  0,
  -1,
  new Raw('-0'),
  1e308,
  new Raw('1e400'),
  1.5,
  'NaN',
  [],
  [1],
  {},
  { a: { b: 1 } },
  '2024-02-30',
  '+275760-09-13T00:00:00Z',
  '2024-W10-1',
  '\u0000',
  '\ud800',
  'UPPER Case',
  '__proto__',
  longString,
  new Raw('123456789012345678901234567890'),
];
const junk: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom<unknown>(...commonJunk) },
  {
    weight: 4,
    arbitrary: fc.constantFrom<unknown>(
      null,
      true,
      false,
      0,
      -1,
      1.5,
      -1e-9,
      1e308,
      -1e308,
      Number.MAX_SAFE_INTEGER + 2,
      5e-324,
      1e15 + 1,
      '',
      ' ',
      '\t\n',
      'NaN',
      'Infinity',
      '-Infinity',
      '1e400',
      '-0',
      'null',
      'undefined',
      '0x10',
      '12',
      '[object Object]',
      '2024-02-30',
      '2024-02-30T00:00:00Z',
      '+275760-09-13T00:00:00Z',
      '-271821-04-20T00:00:00Z',
      '2024-13-01',
      '2024-01-01T24:00:00Z',
      '2024-01-01T23:59:60Z',
      '9999-99-99',
      '2024-W10-1',
      'yesterday',
      '1700000000000',
      '0000-00-00',
      '__proto__',
      'constructor',
      'prototype',
      '\u0000',
      '\ud800',
      '😀'.repeat(100),
      'Ω≈ç√∫',
      '<script>alert(1)</script>',
      "'; DROP TABLE events; --",
      longString,
      'a'.repeat(65),
      'UPPER',
      'has space',
      'fax',
      'sideways',
      'travel',
      'Proposal',
      [],
      {},
      [1, 2, 3],
      [null],
      { a: { b: { c: null } } },
      { constructor: { prototype: {} } },
      [[[[[]]]]],
      new Raw('-0'),
      new Raw('1e400'),
      new Raw('-1e400'),
      new Raw('1e-400'),
      new Raw('123456789012345678901234567890'),
      new Raw('0.1e1'),
      new Raw('1E2'),
      new Raw('-0.0'),
    ),
  },
  { weight: 1, arbitrary: fc.string({ maxLength: 30 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 20 }) },
  { weight: 1, arbitrary: fc.integer() },
  { weight: 1, arbitrary: fc.double() },
  { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
  { weight: 1, arbitrary: fc.uuid() },
);

const pick = (pool: keyof Pools) => fc.constantFrom(...pools[pool]);
/** A reference to an aggregate in the body: existing (in any state) or unknown. */
const ref = (pool: keyof Pools) => fc.oneof({ weight: 3, arbitrary: pick(pool) }, { weight: 1, arbitrary: fc.uuid() });
const text = (max = 40) => fc.oneof(fc.string({ minLength: 1, maxLength: max }), fc.constantFrom('Ada', 'Annual licence', 'price'));
const slug = fc.oneof(
  fc.constantFrom('web', 'paid-search', 'referral', 'webinar', 'email', 'direct'),
  fc.stringMatching(/^[a-z0-9][a-z0-9_.-]{0,10}$/),
);
const amount = fc.oneof(fc.integer({ min: 0, max: 1_000_000 }), fc.double({ min: 0, max: 1e15, noNaN: true }), fc.constant(new Raw('-0')));
const instant = (min: string, max: number) => fc.date({ min: new Date(min), max: new Date(max), noInvalidDate: true });
const pastIso = fc.oneof(
  instant('2000-01-01', Date.now()).map((d) => d.toISOString()),
  instant('2000-01-01', Date.now()).map((d) => d.toISOString().slice(0, 10)),
  instant('2000-01-01', Date.now()).map((d) => d.toISOString().replace('Z', '+02:00')),
);
const anyIso = fc.oneof(
  pastIso,
  instant('2000-01-01', Date.UTC(2100, 0)).map((d) => d.toISOString()),
);
const futureOccurredAt = fc.integer({ min: 6, max: 60 * 24 * 365 }).map((minutes) => new Date(Date.now() + minutes * 60_000).toISOString());
const attributes = fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 3 });

type Fields = Record<string, fc.Arbitrary<unknown>>;
const common = (revisioned: boolean): Fields => ({
  occurredAt: fc.oneof({ weight: 3, arbitrary: pastIso }, { weight: 1, arbitrary: futureOccurredAt }),
  ...(revisioned ? { expectedRevision: fc.integer({ min: 0, max: 8 }) } : {}),
});
const createId = (pool: keyof Pools) => ({ id: fc.oneof({ weight: 3, arbitrary: fc.uuid() }, { weight: 1, arbitrary: pick(pool) }) });

interface RouteSpec {
  name: string;
  /** Fewer runs than this for the route are not enough to reach its handler (see POST /goals). */
  minRuns?: number;
  method: 'post' | 'patch';
  /** The aggregate addressed in the path, if any. */
  target?: keyof Pools;
  path: (id: string) => string;
  /** Fields a valid body must carry. */
  required?: string[];
  /** A valid body, for the field-by-field sweep. */
  base: () => Record<string, unknown>;
  fields: () => Fields;
}

const routes: RouteSpec[] = [
  {
    name: 'POST /customers',
    base: () => ({ name: 'Sweep', source: 'web' }),
    required: ['name'],
    method: 'post',
    path: () => '/customers',
    fields: () => ({
      ...createId('customers'),
      name: text(),
      email: fc.emailAddress(),
      phone: text(20),
      company: text(),
      industry: text(),
      region: text(),
      source: slug,
      ownerId: text(20),
      attributes,
      ...common(false),
    }),
  },
  {
    name: 'PATCH /customers/:id',
    base: () => ({ company: 'Sweep Co' }),
    method: 'patch',
    target: 'customers',
    path: (id) => `/customers/${id}`,
    fields: () => ({
      name: text(),
      email: fc.emailAddress(),
      phone: text(20),
      company: text(),
      industry: text(),
      region: text(),
      ownerId: text(20),
      attributes,
      ...common(true),
    }),
  },
  {
    name: 'POST /customers/:id/churn',
    base: () => ({ reason: 'price' }),
    required: ['reason'],
    method: 'post',
    target: 'customers',
    path: (id) => `/customers/${id}/churn`,
    fields: () => ({ reason: text(), ...common(true) }),
  },
  {
    name: 'POST /customers/:id/reactivate',
    base: () => ({}),
    method: 'post',
    target: 'customers',
    path: (id) => `/customers/${id}/reactivate`,
    fields: () => ({ reason: text(), ...common(true) }),
  },
  {
    name: 'POST /customers/:id/purchases',
    base: () => ({ amount: 10 }),
    required: ['amount'],
    method: 'post',
    target: 'customers',
    path: (id) => `/customers/${id}/purchases`,
    fields: () => ({
      id: fc.uuid(),
      amount,
      description: text(),
      ...common(true),
    }),
  },
  {
    name: 'POST /customers/:id/interactions',
    base: () => ({ type: 'call', direction: 'inbound', subject: 'Sweep' }),
    required: ['type', 'direction', 'subject'],
    method: 'post',
    target: 'customers',
    path: (id) => `/customers/${id}/interactions`,
    fields: () => ({
      id: fc.uuid(),
      type: fc.constantFrom('call', 'email', 'meeting', 'note', 'sms', 'social', 'support-ticket', 'web-visit', 'form-submission'),
      direction: fc.constantFrom('inbound', 'outbound'),
      subject: text(),
      outcome: text(),
      durationMinutes: fc.integer({ min: 0, max: 600 }),
      dealId: ref('deals'),
      ...common(true),
    }),
  },
  {
    name: 'POST /customers/:id/owner',
    base: () => ({ ownerId: 'u-1' }),
    required: ['ownerId'],
    method: 'post',
    target: 'customers',
    path: (id) => `/customers/${id}/owner`,
    fields: () => ({ ownerId: text(20), ...common(true) }),
  },
  {
    name: 'POST /leads',
    base: () => ({ name: 'Sweep lead', source: 'web' }),
    required: ['name', 'source'],
    method: 'post',
    path: () => '/leads',
    fields: () => ({
      ...createId('leads'),
      name: text(),
      email: fc.emailAddress(),
      source: slug,
      campaignId: ref('campaigns'),
      attributes,
      ownerId: text(20),
      ...common(false),
    }),
  },
  {
    name: 'POST /leads/:id/qualify',
    base: () => ({}),
    method: 'post',
    target: 'leads',
    path: (id) => `/leads/${id}/qualify`,
    fields: () => common(true),
  },
  {
    name: 'POST /leads/:id/disqualify',
    base: () => ({ reason: 'no budget' }),
    required: ['reason'],
    method: 'post',
    target: 'leads',
    path: (id) => `/leads/${id}/disqualify`,
    fields: () => ({ reason: text(), ...common(true) }),
  },
  {
    name: 'POST /leads/:id/convert',
    base: () => ({}),
    method: 'post',
    target: 'leads',
    path: (id) => `/leads/${id}/convert`,
    fields: () => ({ customerId: ref('customers'), ...common(true) }),
  },
  {
    name: 'POST /leads/:id/assign',
    base: () => ({ ownerId: 'u-1' }),
    required: ['ownerId'],
    method: 'post',
    target: 'leads',
    path: (id) => `/leads/${id}/assign`,
    fields: () => ({ ownerId: text(20), ...common(true) }),
  },
  {
    name: 'POST /deals',
    base: () => ({ customerId: pools.customers[1], title: 'Sweep', amount: 10 }),
    required: ['customerId', 'title', 'amount'],
    method: 'post',
    path: () => '/deals',
    fields: () => ({
      ...createId('deals'),
      customerId: ref('customers'),
      title: text(),
      amount,
      ownerId: text(20),
      expectedCloseDate: anyIso,
      source: slug,
      stage: fc.constantFrom('qualification', 'needs-analysis', 'proposal', 'negotiation', 'won', 'lost', 'demo'),
      ...common(false),
    }),
  },
  {
    name: 'POST /deals/:id/stage',
    base: () => ({ stage: 'proposal' }),
    required: ['stage'],
    method: 'post',
    target: 'deals',
    path: (id) => `/deals/${id}/stage`,
    fields: () => ({
      stage: fc.constantFrom('qualification', 'needs-analysis', 'proposal', 'negotiation', 'won', 'lost', 'demo'),
      ...common(true),
    }),
  },
  {
    name: 'PATCH /deals/:id',
    base: () => ({ amount: 10 }),
    method: 'patch',
    target: 'deals',
    path: (id) => `/deals/${id}`,
    fields: () => ({ amount, expectedCloseDate: anyIso, ...common(true) }),
  },
  {
    name: 'POST /deals/:id/win',
    base: () => ({}),
    method: 'post',
    target: 'deals',
    path: (id) => `/deals/${id}/win`,
    fields: () => common(true),
  },
  {
    name: 'POST /deals/:id/lose',
    base: () => ({ reason: 'price' }),
    required: ['reason'],
    method: 'post',
    target: 'deals',
    path: (id) => `/deals/${id}/lose`,
    fields: () => ({ reason: text(), ...common(true) }),
  },
  {
    name: 'POST /deals/:id/owner',
    base: () => ({ ownerId: 'u-1' }),
    required: ['ownerId'],
    method: 'post',
    target: 'deals',
    path: (id) => `/deals/${id}/owner`,
    fields: () => ({ ownerId: text(20), ...common(true) }),
  },
  // Archive and restore (issue 16).
  {
    name: 'POST /customers/:id/archive',
    base: () => ({}),
    method: 'post',
    target: 'customers',
    path: (id) => `/customers/${id}/archive`,
    fields: () => ({ reason: text(), ...common(true) }),
  },
  {
    name: 'POST /customers/:id/restore',
    base: () => ({}),
    method: 'post',
    target: 'customers',
    path: (id) => `/customers/${id}/restore`,
    fields: () => ({ reason: text(), ...common(true) }),
  },
  {
    name: 'POST /leads/:id/archive',
    base: () => ({}),
    method: 'post',
    target: 'leads',
    path: (id) => `/leads/${id}/archive`,
    fields: () => ({ reason: text(), ...common(true) }),
  },
  {
    name: 'POST /leads/:id/restore',
    base: () => ({}),
    method: 'post',
    target: 'leads',
    path: (id) => `/leads/${id}/restore`,
    fields: () => ({ reason: text(), ...common(true) }),
  },
  {
    name: 'POST /deals/:id/archive',
    base: () => ({}),
    method: 'post',
    target: 'deals',
    path: (id) => `/deals/${id}/archive`,
    fields: () => ({ reason: text(), ...common(true) }),
  },
  {
    name: 'POST /deals/:id/restore',
    base: () => ({}),
    method: 'post',
    target: 'deals',
    path: (id) => `/deals/${id}/restore`,
    fields: () => ({ reason: text(), ...common(true) }),
  },
  {
    name: 'POST /customers/:id/merge',
    base: () => ({ intoId: '00000000-0000-4000-8000-00000000beef' }),
    required: ['intoId'],
    method: 'post',
    target: 'customers',
    path: (id) => `/customers/${id}/merge`,
    fields: () => ({ intoId: ref('customers'), reason: text(), ...common(true) }),
  },
  {
    name: 'POST /customers/:id/unmerge',
    base: () => ({}),
    method: 'post',
    target: 'customers',
    path: (id) => `/customers/${id}/unmerge`,
    fields: () => ({ reason: text(), ...common(true) }),
  },
  {
    name: 'POST /deals/:id/reopen',
    base: () => ({}),
    method: 'post',
    target: 'deals',
    path: (id) => `/deals/${id}/reopen`,
    fields: () => ({ stage: text(), reason: text(), ...common(true) }),
  },
  {
    name: 'POST /campaigns',
    base: () => ({ name: 'Sweep', channel: 'web' }),
    required: ['name', 'channel'],
    method: 'post',
    path: () => '/campaigns',
    fields: () => ({
      ...createId('campaigns'),
      name: text(),
      channel: slug,
      budget: amount,
      ...common(false),
    }),
  },
  {
    name: 'POST /spend',
    base: () => ({ amount: 1, category: 'marketing' }),
    required: ['amount', 'category'],
    method: 'post',
    path: () => '/spend',
    fields: () => ({
      id: fc.uuid(),
      amount,
      category: fc.constantFrom('marketing', 'sales'),
      channel: slug,
      campaignId: ref('campaigns'),
      description: text(),
      ...common(false),
    }),
  },
  {
    name: 'POST /tasks',
    base: () => ({ subject: 'Sweep', dueAt: '2030-01-01' }),
    required: ['subject', 'dueAt'],
    method: 'post',
    path: () => '/tasks',
    fields: () => ({
      ...createId('tasks'),
      ownerId: text(20),
      subject: text(),
      dueAt: anyIso,
      customerId: ref('customers'),
      dealId: ref('deals'),
      leadId: ref('leads'),
      ...common(false),
    }),
  },
  {
    name: 'POST /tasks/:id/complete',
    base: () => ({}),
    method: 'post',
    target: 'tasks',
    path: (id) => `/tasks/${id}/complete`,
    fields: () => ({ outcome: text(), ...common(true) }),
  },
  {
    name: 'PATCH /tasks/:id',
    base: () => ({ subject: 'Sweep again' }),
    method: 'patch',
    target: 'tasks',
    path: (id) => `/tasks/${id}`,
    fields: () => ({ subject: text(), dueAt: anyIso, ...common(true) }),
  },
  {
    name: 'POST /tasks/:id/cancel',
    base: () => ({}),
    method: 'post',
    target: 'tasks',
    path: (id) => `/tasks/${id}/cancel`,
    fields: () => ({ reason: text(), ...common(true) }),
  },
  {
    name: 'POST /tasks/:id/owner',
    base: () => ({ ownerId: 'u-1' }),
    required: ['ownerId'],
    method: 'post',
    target: 'tasks',
    path: (id) => `/tasks/${id}/owner`,
    fields: () => ({ ownerId: text(20), ...common(true) }),
  },
  {
    name: 'POST /leads/:id/interactions',
    base: () => ({ type: 'web-visit' }),
    required: ['type'],
    method: 'post',
    target: 'leads',
    path: (id) => `/leads/${id}/interactions`,
    fields: () => ({
      id: fc.uuid(),
      type: fc.constantFrom('web-visit', 'form-submission', 'email-opened', 'email-replied', 'content-download', 'fax'),
      subject: text(),
      ...common(false),
    }),
  },
  // No business refusal (404/409/422) to reach for goals, and ~7 % of cases are accepted: enough runs
  // that some are (FUZZ_RUNS=30 in the EventStoreDB tier missed them about one time in ten).
  {
    name: 'POST /goals',
    minRuns: 150,
    base: () => ({ kpi: 'winRate', target: 0.3, deadline: soon() }),
    required: ['kpi', 'target', 'deadline'],
    method: 'post',
    path: () => '/goals',
    fields: () => ({
      // Only the fields GoalDto has (no id, no occurredAt): others are refused, and too few runs reached the handler.
      kpi: fc.constantFrom('churnRate', 'cac', 'salesCycleDays', 'newRevenue', 'conversionRate', 'winRate', 'happiness'),
      target: amount,
      deadline: fc.oneof(
        anyIso,
        instant(new Date().toISOString(), Date.now() + 3650 * 86_400_000).map((d) => d.toISOString()),
      ),
      segment: fc.oneof(
        fc.record({ owner: text(20) }),
        fc.record({ channel: slug }),
        fc.record({ source: slug }),
        fc.record({ owner: text(20), channel: slug }),
      ),
      name: text(),
    }),
  },
  {
    name: 'POST /goals/:id/cancel',
    base: () => ({}),
    method: 'post',
    target: 'goals',
    path: (id) => `/goals/${id}/cancel`,
    fields: () => ({ reason: text(), ...common(false) }),
  },
];

const OMIT = Symbol('omit');
const prototypeKeys = [
  '__proto__',
  'constructor',
  'prototype',
  'toString',
  'valueOf',
  'hasOwnProperty',
  '__defineGetter__',
  'isPrototypeOf',
];

interface Case {
  pathId: string;
  body:
    | { kind: 'object'; value: Obj; unknownKeys: string[] }
    | { kind: 'json'; value: unknown }
    | { kind: 'text'; text: string }
    | { kind: 'none' };
  headers: Record<string, string>;
}

function caseFor(route: RouteSpec): fc.Arbitrary<Case> {
  const fields = route.fields();
  const allowed = new Set(Object.keys(fields));
  const fieldEntries = fc.tuple(
    ...Object.entries(fields).map(([key, valid]) =>
      fc
        .oneof({ weight: 3, arbitrary: valid }, { weight: 1, arbitrary: junk }, { weight: 3, arbitrary: fc.constant<unknown>(OMIT) })
        .map((value) => [key, value] as [string, unknown]),
    ),
  );
  const unknownKey = fc
    .oneof(
      fc.constantFrom(...prototypeKeys, 'isAdmin', 'Name', 'NAME', 'expected_revision', 'streamId', 'revision', ' ', ''),
      fc.string({ maxLength: 12 }),
    )
    .filter((key) => !allowed.has(key));
  const unknownEntries = fc.oneof(
    { weight: 3, arbitrary: fc.constant<Array<[string, unknown]>>([]) },
    { weight: 1, arbitrary: fc.array(fc.tuple(unknownKey, junk), { minLength: 1, maxLength: 2 }) },
  );
  const mixedBody = fc.tuple(fieldEntries, unknownEntries, fc.boolean()).map(([known, unknown, unknownFirst]) => {
    const present = known.filter(([, v]) => v !== OMIT);
    const entries = unknownFirst ? [...unknown, ...present] : [...present, ...unknown];
    return { kind: 'object' as const, value: new Obj(entries), unknownKeys: unknown.map(([k]) => k) };
  });
  // Plausible bodies: every required field, some optional ones, all from the valid generators (which
  // still pick unknown stages, future dates, stale revisions…), so that runs reach the handlers.
  const required = new Set(route.required ?? []);
  const validBody = fc
    .tuple(
      ...Object.entries(fields).map(([key, valid]) =>
        (required.has(key) ? valid : fc.oneof({ weight: 2, arbitrary: fc.constant<unknown>(OMIT) }, { weight: 1, arbitrary: valid })).map(
          (value) => [key, value] as [string, unknown],
        ),
      ),
    )
    .map((entries) => ({ kind: 'object' as const, value: new Obj(entries.filter(([, v]) => v !== OMIT)), unknownKeys: [] as string[] }));
  // A plausible body with exactly one field (known, or unknown) set to junk.
  const oneBadField = fc
    .tuple(
      validBody,
      fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...Object.keys(fields)) }, { weight: 1, arbitrary: unknownKey }),
      junk,
    )
    .map(([good, key, bad]) => ({
      kind: 'object' as const,
      value: new Obj([...good.value.entries.filter(([k]) => k !== key), [key, bad]]),
      unknownKeys: allowed.has(key) ? [] : [key],
    }));
  const body = fc.oneof(
    { weight: 4, arbitrary: validBody },
    { weight: 4, arbitrary: mixedBody },
    { weight: 4, arbitrary: oneBadField },
    { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 3 }).map((value) => ({ kind: 'json' as const, value })) },
    {
      weight: 1,
      arbitrary: fc
        .constantFrom('{', '{"a":}', '[1,', 'nul', '{"amount": 01}', '{"a":1}x', "{'a':1}", '{"a":NaN}', '\u0000')
        .map((text) => ({ kind: 'text' as const, text })),
    },
    { weight: 1, arbitrary: fc.constant({ kind: 'none' as const }) },
  );
  const pathId = route.target
    ? fc.oneof(
        { weight: 6, arbitrary: pick(route.target) },
        { weight: 2, arbitrary: fc.uuid() },
        {
          weight: 1,
          arbitrary: fc.oneof(
            fc.string({ minLength: 1, maxLength: 40 }),
            fc.constantFrom('..', '%00', 'null', '0', randomUUID().toUpperCase(), `${randomUUID()}x`),
          ),
        },
      )
    : fc.constant('');
  const sometimes = <T>(arbitrary: fc.Arbitrary<T>, weight: number) =>
    fc.oneof({ weight, arbitrary: fc.constant(null) }, { weight: 1, arbitrary: arbitrary });
  const ifMatch = sometimes(
    fc.oneof(
      fc.integer({ min: 0, max: 6 }).map(String),
      fc.constantFrom('abc', '-1', '"2"', 'W/"1"', '1.0', ' 3 ', '99999999999999999999'),
    ),
    7,
  );
  const idempotencyKey = sometimes(fc.constantFrom('fuzz-key-1', 'fuzz-key-2', 'fuzz-key-3'), 5);
  return fc.record({ pathId, body, ifMatch, idempotencyKey }).map(({ pathId, body, ifMatch, idempotencyKey }) => {
    const headers: Record<string, string> = {};
    if (ifMatch !== null) headers['If-Match'] = ifMatch;
    if (idempotencyKey !== null) headers['Idempotency-Key'] = `${route.name}|${idempotencyKey}`.replace(/\s/g, '_');
    return { pathId, body, headers };
  });
}

function send(route: RouteSpec, c: Case): request.Test {
  const url = route.path(encodeURIComponent(c.pathId));
  const base = request(t.http)[route.method](url).set(t.as('admin')).set(c.headers);
  switch (c.body.kind) {
    case 'none':
      return base;
    case 'object':
      return base.set('Content-Type', 'application/json').send(serialize(c.body.value));
    case 'json':
      return base.set('Content-Type', 'application/json').send(serialize(c.body.value));
    case 'text':
      return base.set('Content-Type', 'application/json').send(c.body.text);
  }
}

/** Streams a request may touch: the one in the path, and those its body refers to. */
function touchedStreams(route: RouteSpec, c: Case): string[] {
  const streams: string[] = [];
  if (route.target && UUID.test(c.pathId)) streams.push(`${route.target.slice(0, -1)}-${c.pathId}`);
  if (c.body.kind === 'object') {
    for (const [key, value] of c.body.value.entries) {
      if (typeof value !== 'string' || !UUID.test(value)) continue;
      if (key === 'customerId') streams.push(`customer-${value}`);
      if (key === 'campaignId') streams.push(`campaign-${value}`);
      if (key === 'id' && !route.target) streams.push(`${route.path('').split('/')[1].replace(/s$/, '')}-${value}`);
    }
    const channel = c.body.value.entries.find(([k]) => k === 'channel')?.[1];
    if (route.name === 'POST /spend') streams.push(typeof channel === 'string' ? `spend-${channel}` : 'spend-unattributed');
  }
  return streams;
}

async function snapshot(streams: string[]): Promise<{ head: number; streams: RecordedEvent[][] }> {
  return { head: await t.store.headPosition(), streams: await Promise.all(streams.map((s) => t.store.readStream(s))) };
}

const outcomes: Record<string, Record<number, number>> = {};

/** Whether the route's body declares the field (an own key: "constructor" is not a field). */
const declares = (route: RouteSpec, key: string) => Object.prototype.hasOwnProperty.call(route.fields(), key);

/** The properties every request must satisfy, whatever it carries. */
async function check(route: RouteSpec, c: Case, seen: Record<number, number>): Promise<void> {
  const streams = touchedStreams(route, c);
  const before = await snapshot(streams);
  const res = await send(route, c);
  seen[res.status] = (seen[res.status] ?? 0) + 1;
  const after = await snapshot(streams);

  expect(res.status).toBeLessThan(500);
  expect(res.status).toBeGreaterThanOrEqual(200);
  if (res.status >= 400) {
    expect(after).toEqual(before);
    expect(res.body).toMatchObject({ statusCode: res.status, message: expect.anything() });
  }
  const notAnObject =
    c.body.kind === 'text' ||
    (c.body.kind === 'json' && (c.body.value === null || typeof c.body.value !== 'object' || Array.isArray(c.body.value)));
  const unknownField =
    (c.body.kind === 'object' && c.body.unknownKeys.length > 0) ||
    (c.body.kind === 'json' &&
      !notAnObject &&
      Object.keys(c.body.value as object).length > 0 &&
      Object.keys(c.body.value as object).some((k) => !declares(route, k)));
  // Validation answers 400, unless a reused Idempotency-Key was refused first (422, checked before the body).
  if (notAnObject || unknownField) expect(c.headers['Idempotency-Key'] ? [400, 422] : [400]).toContain(res.status);

  if (res.status < 300) {
    // Conversion also names the customer the lead became.
    const extra = route.name.endsWith('/convert') ? { customerId: expect.any(String) } : {};
    expect(res.body).toEqual({
      id: expect.any(String),
      streamId: expect.any(String),
      revision: expect.any(Number),
      position: expect.any(Number),
      ...extra,
    });
    if (res.headers['idempotent-replayed'] === 'true') {
      expect(after.head).toBe(before.head);
    } else {
      // The answer names the stream's current revision and the event at that revision.
      const [last] = await t.store.readStream(res.body.streamId, { direction: 'backwards', maxCount: 1 });
      expect({ revision: last.streamRevision, position: last.globalPosition }).toEqual({
        revision: res.body.revision,
        position: res.body.position,
      });
    }
  }
}

beforeAll(async () => {
  t = await startTestApp();
  api = client(t, 'admin');
  await createFixtures();
});
afterAll(async () => {
  await t?.close();
  // How the runs were spread over the outcomes (useful when tuning the generators).
  if (process.env.FUZZ_REPORT) process.stdout.write(`${JSON.stringify(outcomes, null, 1)}\n`);
});

describe('fuzzing every write route', () => {
  it('covers every write route listed in the OpenAPI document', async () => {
    const doc = (await request(t.http).get('/docs-json')).body as { paths: Record<string, Record<string, unknown>> };
    const documented = Object.entries(doc.paths).flatMap(([path, ops]) =>
      Object.keys(ops)
        .filter((m) => m === 'post' || m === 'patch')
        .map((m) => `${m.toUpperCase()} ${path.replace('{id}', ':id')}`),
    );
    // Operators' routes, webhook subscriptions and report runs append no events (the checks below
    // are about the event store); imports answer a summary, not one command's result. Their bodies
    // are fuzzed in their own suites (webhooks, report-runs and imports .e2e.spec.ts).
    expect(routes.map((r) => r.name).sort()).toEqual(
      documented
        .filter(
          (r) =>
            !r.startsWith('POST /projections') && !/^(POST|PATCH) \/webhooks/.test(r) && r !== 'POST /report-runs' && r !== 'POST /imports',
        )
        .sort(),
    );
  });

  it.each(routes.map((r) => [r.name, r] as const))('%s: never a 5xx; a 4xx changes nothing', async (_name, route) => {
    const seen = (outcomes[route.name] = {} as Record<number, number>);
    await fc.assert(
      fc.asyncProperty(caseFor(route), (c) => check(route, c, seen)),
      { numRuns: Math.max(RUNS, route.minRuns ?? 0), ...fuzzReplay() },
    );
    // The generators must reach the handlers, not only the validation.
    expect(Object.keys(seen).some((status) => Number(status) < 300 || Number(status) >= 404)).toBe(true);
  });

  // Validation does not touch the event store: the EventStoreDB-double run (npm run test:eventstoredb)
  // leaves these out rather than repeat them.
  const junkTests = process.env.CHRONICLE_TEST_EVENT_STORE === 'eventstoredb' ? [] : routes.map((r) => [r.name, r] as const);
  if (junkTests.length > 0)
    it.each(junkTests)('%s: every field set to each classic junk value, one at a time', async (_name, route) => {
      const seen: Record<number, number> = {};
      const keys = [...Object.keys(route.fields()), 'unknownField', 'constructor', 'valueOf'];
      const pathId = route.target ? pools[route.target][1] : '';
      for (const key of keys) {
        for (const bad of commonJunk) {
          const entries = Object.entries(route.base()).filter(([k]) => k !== key);
          const c: Case = {
            pathId,
            body: { kind: 'object', value: new Obj([...entries, [key, bad]]), unknownKeys: declares(route, key) ? [] : [key] },
            headers: {},
          };
          try {
            await check(route, c, seen);
          } catch (error) {
            throw new Error(
              `${route.name} with ${serialize(c.body.kind === 'object' ? c.body.value : null).slice(0, 300)}:\n${(error as Error).message}`,
            );
          }
        }
      }
      expect(seen[400]).toBeGreaterThan(0);
    });
});
