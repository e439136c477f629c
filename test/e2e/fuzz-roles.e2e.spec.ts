import fc from 'fast-check';
import request from 'supertest';
import { randomUUID } from 'node:crypto';
import { Role, Roles } from '@chronicle/infrastructure';
import { recordScopeByRole } from '../../apps/api/src/auth/access';
import { fuzzReplay } from '../support/prng';
import { startTestApp, TestApp } from '../support/test-app';

/**
 * Random requests over every route of the OpenAPI document, with random credentials (each role's
 * key, a second rep's, a bad key, none), random path ids (the caller's own records, another rep's,
 * unassigned ones, unknown UUIDs, junk), random query parameters and bodies generated from the
 * document's own schemas (valid values, junk, omissions). Properties: never a 5xx; a refused
 * request (any 4xx) appends nothing; a rep never succeeds on a record it does not own, and every
 * list it gets holds only its own records.
 *
 * Left out: `POST /projections/{name}/rebuild` (while a read model rebuilds, its queries answer
 * 503 with Retry-After by design) and `?minPosition=` (a position not reached answers 503 after 5 s).
 */

// FUZZ_RUNS lowers it for the slower EventStoreDB-double run (npm run test:eventstoredb).
const RUNS = Number(process.env.FUZZ_RUNS ?? 60) * 10; // 600 requests (~5 s); 300 on the EventStoreDB double (~25 s)
jest.setTimeout(60_000);

const OTHER_REP = 'rep-other';
let t: TestApp;

type Kind = 'customers' | 'deals' | 'leads' | 'tasks';
const KINDS: readonly Kind[] = ['customers', 'deals', 'leads', 'tasks'];
/** Records by owner: the rep's (`rep-user`), another rep's, and unassigned ones. */
const pools: Record<Kind, { own: string[]; others: string[]; unowned: string[] }> = {
  customers: { own: [], others: [], unowned: [] },
  deals: { own: [], others: [], unowned: [] },
  leads: { own: [], others: [], unowned: [] },
  tasks: { own: [], others: [], unowned: [] },
};
const campaigns: string[] = [];

interface Schema {
  type?: string;
  enum?: unknown[];
  example?: unknown;
  format?: string;
  properties?: Record<string, Schema>;
  required?: string[];
  $ref?: string;
}
interface Parameter {
  name: string;
  in: 'path' | 'query';
  schema?: Schema;
}
interface Operation {
  parameters?: Parameter[];
  requestBody?: { content?: { 'application/json'?: { schema?: Schema } } };
}
interface Route {
  method: 'get' | 'post' | 'patch';
  path: string;
  kind?: Kind;
  params: Parameter[];
  body?: Schema;
}

let routes: Route[] = [];

async function ok(res: request.Test): Promise<request.Response> {
  const r = await res;
  if (r.status >= 300) throw new Error(`fixture failed: ${r.status} ${JSON.stringify(r.body)}`);
  return r;
}

async function createFixtures(): Promise<void> {
  const post = (path: string, body: object = {}) => ok(request(t.http).post(path).set(t.as('admin')).send(body));
  for (const [owner, pool] of [
    [t.actors.rep, 'own'],
    [OTHER_REP, 'others'],
  ] as const) {
    const prospect = (await post('/customers', { name: `Prospect of ${owner}`, company: 'Fuzz Co', source: 'web', ownerId: owner })).body
      .id;
    const active = (await post('/customers', { name: `Active of ${owner}`, source: 'referral', ownerId: owner })).body.id;
    await post(`/customers/${active}/purchases`, { amount: 10 });
    const churned = (await post('/customers', { name: `Churned of ${owner}`, ownerId: owner })).body.id;
    await post(`/customers/${churned}/purchases`, { amount: 5 });
    await post(`/customers/${churned}/churn`, { reason: 'price' });
    pools.customers[pool].push(prospect, active, churned);
    const open = (await post('/deals', { customerId: active, title: 'Open', amount: 100, ownerId: owner })).body.id;
    const won = (await post('/deals', { customerId: active, title: 'Won', amount: 5, ownerId: owner })).body.id;
    await post(`/deals/${won}/win`);
    pools.deals[pool].push(open, won);
    const fresh = (await post('/leads', { name: `Lead of ${owner}`, source: 'webinar', ownerId: owner })).body.id;
    const qualified = (await post('/leads', { name: `Qualified of ${owner}`, source: 'web', ownerId: owner })).body.id;
    await post(`/leads/${qualified}/qualify`);
    pools.leads[pool].push(fresh, qualified);
    const task = (await post('/tasks', { subject: 'Open', dueAt: '2030-01-01', ownerId: owner, customerId: active })).body.id;
    const done = (await post('/tasks', { subject: 'Done', dueAt: '2030-01-01', ownerId: owner })).body.id;
    await post(`/tasks/${done}/complete`);
    pools.tasks[pool].push(task, done);
  }
  const unassigned = (await post('/leads', { name: 'Unassigned', source: 'web' })).body.id;
  const nobodys = (await post('/leads', { name: 'Nobody', source: 'web' })).body.id;
  pools.customers.unowned.push((await post(`/leads/${nobodys}/convert`)).body.customerId);
  pools.leads.unowned.push(unassigned);
  // Deals and tasks always have an owner; the admin's are "someone else's" for a rep as well.
  pools.deals.unowned.push((await post('/deals', { customerId: pools.customers.own[1], title: 'Admin', amount: 1 })).body.id);
  pools.tasks.unowned.push((await post('/tasks', { subject: 'Admin', dueAt: '2030-01-01' })).body.id);
  campaigns.push((await post('/campaigns', { name: 'Fuzz', channel: 'webinar' })).body.id);
}

async function loadRoutes(): Promise<void> {
  const doc = (await request(t.http).get('/docs-json')).body as {
    paths: Record<string, Record<string, Operation>>;
    components: { schemas: Record<string, Schema> };
  };
  const resolve = (schema?: Schema): Schema | undefined => (schema?.$ref ? doc.components.schemas[schema.$ref.split('/').pop()!] : schema);
  routes = Object.entries(doc.paths).flatMap(([path, operations]) =>
    Object.entries(operations)
      .filter(([method]) => !(method === 'post' && path === '/projections/{name}/rebuild'))
      .map(([method, op]) => ({
        method: method as Route['method'],
        path,
        kind: KINDS.find((k) => path.startsWith(`/${k}/{id}`)),
        params: op.parameters ?? [],
        body: resolve(op.requestBody?.content?.['application/json']?.schema),
      })),
  );
}

// ---------- arbitraries ----------

const junk = fc.constantFrom<unknown>(
  null,
  '',
  ' ',
  true,
  0,
  -1,
  1.5,
  1e308,
  'NaN',
  [],
  {},
  [1],
  { a: 1 },
  '2024-02-30',
  '__proto__',
  '\u0000',
  'x'.repeat(600),
  '😀',
);
const anyId = (kind?: Kind) =>
  kind
    ? fc.oneof(
        { weight: 3, arbitrary: fc.constantFrom(...pools[kind].own) },
        { weight: 3, arbitrary: fc.constantFrom(...pools[kind].others) },
        { weight: 1, arbitrary: fc.constantFrom(...pools[kind].unowned) },
        { weight: 1, arbitrary: fc.uuid() },
      )
    : fc.uuid();
const malformed = fc.constantFrom('not-a-uuid', '..', '%00', '0', `${randomUUID()}x`, 'null', 'customer');
const actor = fc.constantFrom<unknown>('rep-user', OTHER_REP, 'admin-user', 'manager-user', 'someone');
const isoDate = fc
  .date({ min: new Date('2015-01-01'), max: new Date(Date.now() - 60_000), noInvalidDate: true })
  .chain((d) => fc.constantFrom(d.toISOString(), d.toISOString().slice(0, 10)));

/** A value for a field or query parameter, by its schema and name. */
function valueFor(name: string, schema: Schema = {}): fc.Arbitrary<unknown> {
  let valid: fc.Arbitrary<unknown>;
  if (schema.enum && schema.enum.length > 0) valid = fc.constantFrom(...schema.enum);
  else if (name === 'ownerId') valid = actor;
  else if (name === 'customerId') valid = anyId('customers');
  else if (name === 'dealId') valid = anyId('deals');
  else if (name === 'leadId') valid = anyId('leads');
  else if (name === 'campaignId') valid = fc.oneof(fc.constantFrom(...campaigns), fc.uuid());
  else if (name === 'id') valid = fc.uuid();
  else if (name === 'expectedRevision' || name === 'fromRevision' || name === 'offset') valid = fc.integer({ min: 0, max: 6 });
  else if (name === 'limit') valid = fc.integer({ min: 0, max: 250 });
  else if (/At$|Date$|^asOf$|^from$|^to$|^dueBefore$/.test(name)) valid = isoDate;
  else if (name === 'stage') valid = fc.constantFrom('qualification', 'proposal', 'negotiation', 'won', 'demo');
  else if (name === 'source' || name === 'channel') valid = fc.constantFrom('web', 'referral', 'webinar', 'UPPER');
  else if (name === 'interval') valid = fc.constantFrom('day', 'week', 'month', 'quarter', 'year', 'decade');
  else if (name === 'groupBy') valid = fc.constantFrom('channel', 'owner', 'region', 'source', 'nope');
  else if (schema.type === 'number' || schema.type === 'integer')
    valid = fc.oneof(fc.integer({ min: 0, max: 5000 }), fc.double({ min: 0, max: 1e6, noNaN: true }));
  else if (schema.type === 'object') valid = fc.constantFrom({}, { tier: 'gold' });
  else if (schema.example !== undefined) valid = fc.oneof(fc.constant(schema.example), fc.string({ minLength: 1, maxLength: 12 }));
  else valid = fc.oneof(fc.string({ minLength: 1, maxLength: 12 }), fc.constantFrom('fuzz', 'Zeta', 'price'));
  return fc.oneof({ weight: 6, arbitrary: valid }, { weight: 1, arbitrary: junk });
}

type Credentials = { kind: 'role'; role: Role } | { kind: 'other-rep' } | { kind: 'bad' } | { kind: 'none' };
const credentials: fc.Arbitrary<Credentials> = fc.oneof(
  { weight: 10, arbitrary: fc.constantFrom(...Roles).map((role) => ({ kind: 'role' as const, role })) },
  { weight: 2, arbitrary: fc.constant({ kind: 'other-rep' as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'bad' as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'none' as const }) },
);

interface Case {
  route: Route;
  credentials: Credentials;
  pathValues: Record<string, string>;
  query: Array<[string, unknown]>;
  body?: Array<[string, unknown]>;
}

const OMIT = Symbol('omit');
function entries(fields: Record<string, Schema>, required: string[]): fc.Arbitrary<Array<[string, unknown]>> {
  const names = Object.keys(fields);
  if (names.length === 0) return fc.constant([]);
  return fc
    .tuple(
      ...names.map((name) =>
        fc
          .oneof(
            { weight: required.includes(name) ? 12 : 3, arbitrary: valueFor(name, fields[name]) },
            { weight: required.includes(name) ? 1 : 4, arbitrary: fc.constant<unknown>(OMIT) },
          )
          .map((v) => [name, v] as [string, unknown]),
      ),
    )
    .map((all) => all.filter(([, v]) => v !== OMIT));
}

function caseFor(route: Route): fc.Arbitrary<Case> {
  const pathParams = route.params.filter((p) => p.in === 'path');
  const queryParams = route.params.filter((p) => p.in === 'query');
  const pathValue = (p: Parameter): fc.Arbitrary<string> => {
    if (p.name === 'id') return fc.oneof({ weight: 8, arbitrary: anyId(route.kind) }, { weight: 1, arbitrary: malformed });
    if (p.name === 'streamId')
      return fc.oneof(
        anyId('customers').map((id) => `customer-${id}`),
        anyId('deals').map((id) => `deal-${id}`),
        malformed,
      );
    if (p.name === 'name') return fc.constantFrom('pipeline', 'churn', 'cac', 'customer-value', 'sales-performance', 'nope');
    if (p.name === 'subject')
      return fc.oneof(
        anyId('customers').map((id) => `customer-${id}`),
        anyId('leads').map((id) => `lead-${id}`),
        malformed,
      );
    // Never empty: a path with an empty segment is another route (a 404 before any guard).
    return fc.string({ minLength: 1, maxLength: 10 });
  };
  const pathValues =
    pathParams.length === 0 ? fc.constant({}) : fc.record(Object.fromEntries(pathParams.map((p) => [p.name, pathValue(p)])));
  const query = entries(Object.fromEntries(queryParams.map((p) => [p.name, p.schema ?? {}])), []);
  const body = route.body
    ? fc.oneof(
        { weight: 8, arbitrary: entries(route.body.properties ?? {}, route.body.required ?? []) },
        {
          weight: 1,
          arbitrary: fc
            .tuple(fc.constantFrom('isAdmin', 'ownerScope', '__proto__', 'role'), junk)
            .map((e) => [e] as Array<[string, unknown]>),
        },
      )
    : fc.constant(undefined);
  return fc.record({ credentials, pathValues, query, body }).map((c) => ({ route, ...c }));
}

const arbitraryCase = () => fc.constantFrom(...routes).chain(caseFor);

function authorization(c: Credentials): string | undefined {
  switch (c.kind) {
    case 'role':
      return t.as(c.role).Authorization;
    case 'other-rep':
      return t.asActor(OTHER_REP).Authorization;
    case 'bad':
      return 'Bearer not-a-key-of-this-deployment';
    case 'none':
      return undefined;
  }
}

function send(c: Case): request.Test {
  const path = c.route.path.replace(/\{(\w+)\}/g, (_, name: string) => encodeURIComponent(c.pathValues[name]));
  const qs = c.query
    .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(typeof v === 'string' ? v : JSON.stringify(v))}`)
    .join('&');
  let r = (request(t.http) as unknown as Record<string, (url: string) => request.Test>)[c.route.method](qs ? `${path}?${qs}` : path);
  const auth = authorization(c.credentials);
  if (auth) r = r.set('Authorization', auth);
  if (c.body !== undefined) r = r.set('Content-Type', 'application/json').send(JSON.stringify(Object.fromEntries(c.body)));
  return r;
}

/** The rep the request runs as (its actor), if any. */
const repActor = (c: Credentials): string | undefined =>
  c.kind === 'other-rep' ? OTHER_REP : c.kind === 'role' && recordScopeByRole[c.role] === 'own' ? t.actors[c.role] : undefined;

const OWNER_EVENTS = new Set([
  'CustomerRegistered',
  'CustomerOwnerAssigned',
  'LeadAssigned',
  'DealOpened',
  'DealOwnerAssigned',
  'TaskCreated',
  'TaskReassigned',
]);

/**
 * Whether the path's record exists and is not owned by that rep, from the event store as it stands
 * before the request (the runs themselves reassign owners).
 */
async function notOwnedBy(c: Case, rep: string): Promise<boolean> {
  const id = c.pathValues.id;
  if (!c.route.kind || id === undefined || !/^[0-9a-f-]{36}$/.test(id)) return false;
  const events = await t.store.readStream(`${c.route.kind.slice(0, -1)}-${id}`);
  if (events.length === 0) return false;
  let owner: string | undefined;
  for (const e of events) if (OWNER_EVENTS.has(e.type)) owner = (e.data as { ownerId?: string }).ownerId ?? owner;
  return owner !== rep;
}

const seen: Record<string, number> = {};

beforeAll(async () => {
  t = await startTestApp({ extraActors: [{ actor: OTHER_REP, role: 'rep' }] });
  await createFixtures();
  await loadRoutes();
});
afterAll(async () => {
  await t?.close();
  if (process.env.FUZZ_REPORT) process.stdout.write(`${JSON.stringify(seen, null, 1)}\n`);
});

it('covers every route of the OpenAPI document but the rebuild', () => {
  expect(routes.length).toBeGreaterThanOrEqual(38);
  expect(routes.some((r) => r.path === '/projections/{name}/rebuild')).toBe(false);
});

it('random routes × random roles and keys × random ids and bodies: never a 5xx; a refused request appends nothing; a rep only ever gets its own records', async () => {
  await fc.assert(
    fc.asyncProperty(arbitraryCase(), async (c) => {
      const rep = repActor(c.credentials);
      const foreign = rep !== undefined && (await notOwnedBy(c, rep));
      const before = await t.store.headPosition();
      const res = await send(c);
      const after = await t.store.headPosition();
      const label = `${c.route.method.toUpperCase()} ${c.route.path} as ${JSON.stringify(c.credentials)} → ${res.status} ${JSON.stringify(res.body).slice(0, 300)}`;
      seen[String(res.status)] = (seen[String(res.status)] ?? 0) + 1;
      expect([label, res.status < 500]).toEqual([label, true]);
      if (res.status >= 400) expect([label, after]).toEqual([label, before]);
      if ((c.credentials.kind === 'none' || c.credentials.kind === 'bad') && c.route.path !== '/health') {
        // 401, unless Fastify's JSON parser (before any route code) refused the body (e.g. a "__proto__" key).
        const parserRefused = res.status === 400 && /not valid JSON/.test(String(res.body?.message));
        expect([label, res.status === 401 || parserRefused]).toEqual([label, true]);
      }
      if (foreign) expect([label, [400, 403].includes(res.status)]).toEqual([label, true]);
      if (
        rep !== undefined &&
        res.status === 200 &&
        c.route.method === 'get' &&
        Array.isArray(res.body?.items) &&
        KINDS.some((k) => c.route.path === `/${k}`)
      ) {
        expect([label, res.body.items.filter((i: { ownerId?: string }) => i.ownerId !== rep)]).toEqual([label, []]);
      }
    }),
    { numRuns: RUNS, ...fuzzReplay() },
  );
  if (process.env.FUZZ_PATH) return; // replaying one reported case: the coverage below needs the whole run
  // The generators reach past authentication and validation: successes, denials and business answers.
  expect(Object.keys(seen)).toEqual(expect.arrayContaining(['200', '401', '403', '404']));
  expect((seen['201'] ?? 0) + (seen['200'] ?? 0)).toBeGreaterThan(RUNS / 10);
});
