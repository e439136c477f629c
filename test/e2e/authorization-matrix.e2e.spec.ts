import request from 'supertest';
import { randomUUID } from 'node:crypto';
import { Role, Roles } from '@chronicle/infrastructure';
import { Access, accessByRole, recordScopeByRole } from '../../apps/api/src/auth/access';
import { expectNothingAppended } from '../support/http';
import { startTestApp, TestApp } from '../support/test-app';

// The authorization matrix, generated from the roles table (apps/api/src/auth/access.ts) and the
// routes the API itself publishes in its OpenAPI document (each operation carries the access it
// needs as `x-required-access`): every role × every route. A role without the route's access
// gets a 403 and nothing is appended; a role with it never gets a 403 (nor a 5xx); no key is a 401.
let t: TestApp;

interface Operation {
  'x-required-access'?: Access;
}

beforeAll(async () => {
  t = await startTestApp();
});
afterAll(async () => {
  await t?.close();
});

const PARAMS: Record<string, () => string> = {
  id: () => randomUUID(),
  streamId: () => `customer-${randomUUID()}`,
  name: () => 'pipeline',
  subject: () => `customer-${randomUUID()}`,
  letterId: () => randomUUID(),
};

function concrete(path: string): string {
  return path.replace(/\{(\w+)\}/g, (_, name: string) => {
    const value = PARAMS[name];
    if (!value) throw new Error(`no test value for path parameter {${name}} of ${path}`);
    return value();
  });
}

async function routes(): Promise<Array<{ method: string; path: string; access?: Access }>> {
  const res = await request(t.http).get('/docs-json');
  expect(res.status).toBe(200);
  const paths = res.body.paths as Record<string, Record<string, Operation>>;
  return Object.entries(paths).flatMap(([path, operations]) =>
    Object.entries(operations).map(([method, operation]) => ({ method, path, access: operation['x-required-access'] })),
  );
}

it('every route but /health declares the access it needs', async () => {
  const all = await routes();
  expect(all.length).toBeGreaterThanOrEqual(37);
  const undeclared = all.filter((r) => !r.access).map((r) => `${r.method.toUpperCase()} ${r.path}`);
  expect(undeclared).toEqual(['GET /health']);
  // The operator's routes on projections, the failed ones' retry and skip included, need `operate`.
  const operate = all.filter((r) => r.access === 'operate').map((r) => `${r.method.toUpperCase()} ${r.path}`);
  expect(operate.sort()).toEqual(['POST /projections/{name}/rebuild', 'POST /projections/{name}/retry', 'POST /projections/{name}/skip']);
});

it('role × route: 403 (nothing appended) without the access, never 403 or 5xx with it, 401 without a key', async () => {
  const checked: string[] = [];
  for (const { method, path, access } of await routes()) {
    if (!access) continue;
    for (const role of Roles) {
      const scoped = recordScopeByRole[role] === 'own';
      // A role limited to its own records reads the reports of its own figures (activity is one);
      // report runs hold everyone's figures, so they are refused to it (ownership.e2e.spec.ts).
      const url = concrete(path)
        .replace('/projections/pipeline/', '/projections/customers/')
        .replace(/^\/reports\/pipeline$/, scoped ? '/reports/activity' : '/reports/pipeline');
      const refusedAsScoped = scoped && path.startsWith('/report-runs');
      const send = () => {
        const r = (request(t.http) as unknown as Record<string, (url: string) => request.Test>)[method](url).set(t.as(role));
        return method === 'get' ? r : r.send({});
      };
      if (accessByRole[role].includes(access) && !refusedAsScoped) {
        const res = await send();
        expect([role, method, path, res.status === 403 || res.status >= 500 ? res.status : 'ok']).toEqual([role, method, path, 'ok']);
      } else {
        const res = await expectNothingAppended(t, send);
        expect([role, method, path, res.status]).toEqual([role, method, path, 403]);
        expect(res.body.message).toContain(role);
      }
      checked.push(`${role} ${method} ${path}`);
    }
    const anonymous = await (request(t.http) as unknown as Record<string, (url: string) => request.Test>)[method](concrete(path));
    expect([method, path, anonymous.status]).toEqual([method, path, 401]);
  }
  expect(checked.length).toBeGreaterThanOrEqual(36 * Roles.length);
});

// Ownership, generated from the same OpenAPI document and the record scopes of the roles table
// (recordScopeByRole): every route on one customer, lead, deal, task or goal × every role with the
// route's access, on a record owned by the caller (a rep) and on one owned by another rep. A role
// limited to its own records gets a 403 on the other's, with nothing appended, and never a 403 on
// its own; a role with every record never gets a 403. Every list of records, for a rep, holds only
// its own.
const RECORDS = ['customers', 'deals', 'leads', 'tasks', 'goals'] as const;
type RecordKind = (typeof RECORDS)[number];
const OTHER_REP = 'rep-other';

/** A valid body for every command on one record (validation would answer 400 before ownership is checked). */
const BODIES: Record<string, object> = {
  'patch /customers/{id}': { company: 'Matrix Co' },
  'post /customers/{id}/churn': { reason: 'price' },
  'post /customers/{id}/reactivate': {},
  'post /customers/{id}/purchases': { amount: 5 },
  'post /customers/{id}/interactions': { type: 'call', direction: 'outbound', subject: 'Matrix' },
  'post /customers/{id}/owner': { ownerId: 'rep-third' },
  'post /leads/{id}/qualify': {},
  'post /leads/{id}/disqualify': { reason: 'no budget' },
  'post /leads/{id}/convert': {},
  'post /leads/{id}/assign': { ownerId: 'rep-third' },
  'post /deals/{id}/stage': { stage: 'proposal' },
  'patch /deals/{id}': { amount: 7 },
  'post /deals/{id}/win': {},
  'post /deals/{id}/lose': { reason: 'price' },
  'post /deals/{id}/owner': { ownerId: 'rep-third' },
  'post /tasks/{id}/complete': {},
  'patch /tasks/{id}': { subject: 'Matrix edited' },
  'post /tasks/{id}/cancel': {},
  'post /tasks/{id}/owner': { ownerId: 'rep-third' },
  'post /leads/{id}/interactions': { type: 'web-visit', subject: 'Pricing page' },
  'delete /customers/{id}/personal-data': {},
  'delete /leads/{id}/personal-data': {},
  'post /goals/{id}/cancel': { reason: 'matrix' },
  // Archive and restore (issue 16): managers and admins; a restore of a record not archived is a 422 (not a 403).
  'post /customers/{id}/archive': { reason: 'matrix' },
  'post /customers/{id}/restore': {},
  'post /leads/{id}/archive': { reason: 'matrix' },
  'post /leads/{id}/restore': {},
  'post /deals/{id}/archive': { reason: 'matrix' },
  'post /deals/{id}/restore': {},
  // Reopen (issue 16): managers and admins; the matrix's deal is open, so an allowed caller gets 422.
  'post /deals/{id}/reopen': {},
  // Merge (issue 16): managers and admins; the survivor named does not exist, so an allowed caller gets 422, as an unmerge of a customer not merged.
  'post /customers/{id}/merge': { intoId: '00000000-0000-4000-8000-00000000beef' },
  'post /customers/{id}/unmerge': {},
};

describe('ownership', () => {
  let o: TestApp;
  beforeAll(async () => {
    o = await startTestApp({ extraActors: [{ actor: OTHER_REP, role: 'rep' }] });
  });
  afterAll(async () => {
    await o?.close();
  });

  const as = (role: Role) => o.as(role);
  async function created(res: request.Test): Promise<string> {
    const r = await res;
    if (r.status !== 201) throw new Error(`fixture: ${r.status} ${JSON.stringify(r.body)}`);
    return r.body.id as string;
  }
  /** A fresh record of that kind owned by `ownerId` (a deal on a customer of the same owner). */
  async function record(kind: RecordKind, ownerId: string): Promise<string> {
    const post = (path: string, body: object) => request(o.http).post(path).set(as('admin')).send(body);
    switch (kind) {
      case 'customers':
        return created(post('/customers', { name: `Owned by ${ownerId}`, ownerId }));
      case 'leads':
        return created(post('/leads', { name: `Owned by ${ownerId}`, source: 'web', ownerId }));
      case 'deals':
        return created(post('/deals', { customerId: await record('customers', ownerId), title: 'Matrix', amount: 5, ownerId }));
      case 'tasks':
        return created(post('/tasks', { subject: 'Matrix', dueAt: '2030-01-01', ownerId }));
      case 'goals':
        // A goal is its segment owner's: it shows (and a rep may touch) only that owner's figures.
        return created(
          post('/goals', {
            kpi: 'newRevenue',
            target: 100,
            deadline: new Date(Date.now() + 365 * 86_400_000).toISOString(),
            segment: { owner: ownerId },
          }),
        );
    }
  }

  async function recordRoutes() {
    const res = await request(o.http).get('/docs-json');
    const paths = res.body.paths as Record<string, Record<string, Operation>>;
    return Object.entries(paths).flatMap(([path, operations]) => {
      const kind = RECORDS.find((k) => path.startsWith(`/${k}/{id}`));
      return kind ? Object.entries(operations).map(([method, op]) => ({ method, path, kind, access: op['x-required-access']! })) : [];
    });
  }

  it('every record route: a rep gets 403 on another rep’s record (nothing appended) and never on its own; other roles never', async () => {
    const checked: string[] = [];
    for (const { method, path, kind, access } of await recordRoutes()) {
      const key = `${method} ${path}`;
      const body = method === 'get' ? undefined : BODIES[key];
      if (method !== 'get' && !body) throw new Error(`no valid body for ${key} in BODIES`);
      for (const role of Roles.filter((r) => accessByRole[r].includes(access))) {
        const mine = await record(kind, o.actors[role]);
        const theirs = await record(kind, OTHER_REP);
        const send = async (id: string) => {
          const url = path.replace('{id}', id);
          const head = await o.store.headPosition();
          const client = request(o.http) as unknown as Record<string, (url: string) => request.Test>;
          const r = client[method](method === 'get' ? `${url}?minPosition=${head}` : url).set(as(role));
          return method === 'get' ? r : r.send(body);
        };
        const onTheirs = recordScopeByRole[role] === 'own' ? await expectNothingAppended(o, () => send(theirs)) : await send(theirs);
        const expected = recordScopeByRole[role] === 'own' ? 403 : 'not 403';
        expect([role, key, 'theirs', onTheirs.status === 403 ? 403 : onTheirs.status >= 500 ? onTheirs.status : 'not 403']).toEqual([
          role,
          key,
          'theirs',
          expected,
        ]);
        const onMine = await send(mine);
        expect([role, key, 'mine', onMine.status === 403 || onMine.status >= 500 ? onMine.status : 'ok']).toEqual([
          role,
          key,
          'mine',
          'ok',
        ]);
        checked.push(`${role} ${key}`);
      }
    }
    // every record route, and the rep on each of its write and read routes
    expect(checked.filter((c) => c.startsWith('rep ')).length).toBeGreaterThanOrEqual(18);
    expect(checked.length).toBeGreaterThanOrEqual(60);
  }, 90_000); // ~250 requests and fixtures: slow on a busy machine

  it('reassignment routes are denied to a rep even on its own record, and work for managers and admins', async () => {
    const routes = (await recordRoutes()).filter((r) =>
      ['post /customers/{id}/owner', 'post /leads/{id}/assign', 'post /deals/{id}/owner', 'post /tasks/{id}/owner'].includes(
        `${r.method} ${r.path}`,
      ),
    );
    expect(routes).toHaveLength(4);
    for (const { path, kind, method } of routes) {
      for (const role of Roles) {
        const own = await record(kind, o.actors[role]);
        const res = () => request(o.http).post(path.replace('{id}', own)).set(as(role)).send(BODIES[`${method} ${path}`]);
        if (role === 'admin' || role === 'manager') expect([role, path, (await res()).status]).toEqual([role, path, 200]);
        else expect([role, path, (await expectNothingAppended(o, res)).status]).toEqual([role, path, 403]);
      }
    }
  }, 60_000);

  it("every list of records: a rep's items are all its own, and it may not ask for another owner's", async () => {
    // Goals have no list route: GET /reports/goals is for the roles with `report`, none of them scoped.
    for (const kind of RECORDS.filter((k) => k !== 'goals')) {
      await record(kind, o.actors.rep);
      await record(kind, OTHER_REP);
      const head = await o.store.headPosition();
      const mine = await request(o.http).get(`/${kind}?minPosition=${head}&limit=200`).set(as('rep'));
      expect(mine.status).toBe(200);
      expect(mine.body.items.length).toBeGreaterThan(0);
      expect(mine.body.items.map((i: { ownerId: string }) => i.ownerId)).toEqual(mine.body.items.map(() => o.actors.rep));
      expect(mine.body.total).toBe(mine.body.items.length);
      expect((await request(o.http).get(`/${kind}?ownerId=${OTHER_REP}`).set(as('rep'))).status).toBe(403);
      const all = await request(o.http).get(`/${kind}?minPosition=${head}&limit=200`).set(as('manager'));
      expect(all.body.items.map((i: { ownerId: string }) => i.ownerId)).toEqual(expect.arrayContaining([o.actors.rep, OTHER_REP]));
    }
  });
});
