import request from 'supertest';
import { randomUUID } from 'node:crypto';
import { client, expectNothingAppended } from '../support/http';
import { startTestApp, TestApp } from '../support/test-app';

// Reps read and write only the customers, leads, deals and tasks they own (ownerId = their actor):
// lists are filtered in the query (totals and pages included), others' and unassigned records are a
// 403 with nothing appended, an unknown record stays a 404; what a rep creates is its own; only
// managers and admins reassign owners. The authorization matrix covers every route generically;
// this spec checks the rules one by one.
let t: TestApp;
let admin: ReturnType<typeof client>;
let manager: ReturnType<typeof client>;
let rep: ReturnType<typeof client>;
const OTHER = 'rep-other';

/** A client for the second rep. */
const other = {
  get: (url: string) => request(t.http).get(url).set(t.asActor(OTHER)),
  post: (url: string, body: object = {}) => request(t.http).post(url).set(t.asActor(OTHER)).send(body),
};

const ids = {} as Record<
  | 'myCustomer'
  | 'theirCustomer'
  | 'unownedCustomer'
  | 'myDeal'
  | 'theirDeal'
  | 'myLead'
  | 'theirLead'
  | 'unassignedLead'
  | 'myTask'
  | 'theirTask',
  string
>;

async function ok(res: request.Test | Promise<request.Response>): Promise<request.Response> {
  const r = await res;
  if (r.status >= 300) throw new Error(`fixture failed: ${r.status} ${JSON.stringify(r.body)}`);
  return r;
}

beforeAll(async () => {
  t = await startTestApp({ extraActors: [{ actor: OTHER, role: 'rep' }] });
  admin = client(t, 'admin');
  manager = client(t, 'manager');
  rep = client(t, 'rep');
  const me = t.actors.rep;
  ids.myCustomer = (
    await ok(admin.post('/customers', { name: 'Mine Customer', company: 'Zeta Works', source: 'web', ownerId: me }))
  ).body.id;
  ids.theirCustomer = (
    await ok(admin.post('/customers', { name: 'Theirs Customer', company: 'Zeta Works', source: 'web', ownerId: OTHER }))
  ).body.id;
  // A customer converted from an unassigned lead has no owner.
  const unassigned = (await ok(admin.post('/leads', { name: 'Nobody Lead', source: 'web' }))).body.id;
  ids.unownedCustomer = (await ok(admin.post(`/leads/${unassigned}/convert`, {}))).body.customerId;
  ids.myDeal = (await ok(admin.post('/deals', { customerId: ids.myCustomer, title: 'Mine', amount: 10, ownerId: me }))).body.id;
  ids.theirDeal = (await ok(admin.post('/deals', { customerId: ids.theirCustomer, title: 'Theirs', amount: 10, ownerId: OTHER }))).body.id;
  ids.myLead = (await ok(admin.post('/leads', { name: 'Mine Lead', source: 'web', ownerId: me }))).body.id;
  ids.theirLead = (await ok(admin.post('/leads', { name: 'Theirs Lead', source: 'web', ownerId: OTHER }))).body.id;
  ids.unassignedLead = (await ok(admin.post('/leads', { name: 'Unassigned Lead', source: 'web' }))).body.id;
  ids.myTask = (await ok(admin.post('/tasks', { subject: 'Mine', dueAt: '2030-01-01', ownerId: me }))).body.id;
  ids.theirTask = (await ok(admin.post('/tasks', { subject: 'Theirs', dueAt: '2030-01-01', ownerId: OTHER }))).body.id;
});
afterAll(async () => {
  await t?.close();
});

describe('lists: a rep sees only its own records, with the right totals', () => {
  it.each([
    ['/customers', 'myCustomer', 'theirCustomer'],
    ['/customers?q=zeta', 'myCustomer', 'theirCustomer'],
    ['/customers?q=customer&sort=-name&limit=1', 'myCustomer', 'theirCustomer'],
    ['/deals', 'myDeal', 'theirDeal'],
    ['/deals?status=open', 'myDeal', 'theirDeal'],
    ['/leads', 'myLead', 'theirLead'],
    ['/tasks?status=open', 'myTask', 'theirTask'],
  ] as const)('GET %s', async (url, mine, theirs) => {
    const res = await rep.latest(url);
    expect(res.status).toBe(200);
    expect(res.body.items.map((i: { id: string }) => i.id)).toEqual([ids[mine]]);
    expect(res.body.total).toBe(1);
    expect(res.body.items.every((i: { ownerId: string }) => i.ownerId === t.actors.rep)).toBe(true);
    // The other rep sees its own, the manager sees both.
    const theirList = await other.get(`${url}${url.includes('?') ? '&' : '?'}minPosition=${await t.store.headPosition()}`);
    expect(theirList.body.items.map((i: { id: string }) => i.id)).toEqual([ids[theirs]]);
    const all = (await manager.latest(url)).body.items.map((i: { id: string }) => i.id);
    if (!url.includes('limit=1')) expect(all).toEqual(expect.arrayContaining([ids[mine], ids[theirs]]));
  });

  it("asking for another owner's list is a 403; asking for one's own is the same list", async () => {
    for (const path of ['/customers', '/deals', '/leads', '/tasks']) {
      const res = await rep.get(`${path}?ownerId=${OTHER}`);
      expect([path, res.status]).toEqual([path, 403]);
      expect(res.body.message).toContain('ownerId');
      expect((await rep.latest(`${path}?ownerId=${t.actors.rep}`)).body.total).toBe(1);
    }
  });
});

describe('single records: own 200, others’ and unassigned 403, unknown 404', () => {
  const reads: Array<[string, (id: string) => string, keyof typeof ids, keyof typeof ids]> = [
    ['GET /customers/:id', (id) => `/customers/${id}`, 'myCustomer', 'theirCustomer'],
    ['GET /customers/:id (unowned)', (id) => `/customers/${id}`, 'myCustomer', 'unownedCustomer'],
    ['GET /customers/:id/timeline', (id) => `/customers/${id}/timeline`, 'myCustomer', 'theirCustomer'],
    ['GET /customers/:id?asOf=', (id) => `/customers/${id}?asOf=2100-01-01T00:00:00Z`, 'myCustomer', 'theirCustomer'],
    ['GET /customers/:id?asOf= (before it existed)', (id) => `/customers/${id}?asOf=2000-01-01T00:00:00Z`, 'myCustomer', 'theirCustomer'],
    ['GET /deals/:id', (id) => `/deals/${id}`, 'myDeal', 'theirDeal'],
    ['GET /deals/:id?asOf=', (id) => `/deals/${id}?asOf=2100-01-01T00:00:00Z`, 'myDeal', 'theirDeal'],
    ['GET /leads/:id', (id) => `/leads/${id}`, 'myLead', 'theirLead'],
    ['GET /leads/:id (unassigned)', (id) => `/leads/${id}`, 'myLead', 'unassignedLead'],
    ['GET /tasks/:id', (id) => `/tasks/${id}`, 'myTask', 'theirTask'],
  ];
  it.each(reads)('%s', async (name, url, mine, theirs) => {
    const own = await rep.latest(url(ids[mine]));
    expect([name, own.status]).toEqual([name, name.includes('before it existed') ? 404 : 200]);
    const denied = await rep.latest(url(ids[theirs]));
    expect([name, denied.status]).toEqual([name, 403]);
    expect(denied.body.message).toMatch(/owned by someone else|not assigned to anyone/);
    expect(JSON.stringify(denied.body)).not.toContain('Theirs');
    expect((await rep.latest(url(randomUUID()))).status).toBe(404);
    expect((await manager.latest(url(ids[theirs]))).status).toBe(name.includes('before it existed') ? 404 : 200);
  });

  it('reps still have no audit trail and no reports', async () => {
    expect((await rep.get(`/streams/customer-${ids.myCustomer}/events`)).status).toBe(403);
    expect((await rep.get('/reports/pipeline')).status).toBe(403);
    expect((await client(t, 'analyst').get('/reports/pipeline')).status).toBe(200);
  });
});

describe("writes: every command on another's record is a 403 and appends nothing", () => {
  const commands: Array<[string, 'post' | 'patch', (id: string) => string, object, 'Customer' | 'Deal' | 'Lead' | 'Task']> = [
    ['PATCH /customers/:id', 'patch', (id) => `/customers/${id}`, { company: 'New Co' }, 'Customer'],
    ['POST /customers/:id/purchases', 'post', (id) => `/customers/${id}/purchases`, { amount: 5 }, 'Customer'],
    [
      'POST /customers/:id/interactions',
      'post',
      (id) => `/customers/${id}/interactions`,
      { type: 'call', direction: 'outbound', subject: 'Hi' },
      'Customer',
    ],
    ['POST /customers/:id/churn', 'post', (id) => `/customers/${id}/churn`, { reason: 'price' }, 'Customer'],
    ['POST /customers/:id/reactivate', 'post', (id) => `/customers/${id}/reactivate`, {}, 'Customer'],
    ['POST /deals/:id/stage', 'post', (id) => `/deals/${id}/stage`, { stage: 'proposal' }, 'Deal'],
    ['PATCH /deals/:id', 'patch', (id) => `/deals/${id}`, { amount: 20 }, 'Deal'],
    ['POST /deals/:id/win', 'post', (id) => `/deals/${id}/win`, {}, 'Deal'],
    ['POST /deals/:id/lose', 'post', (id) => `/deals/${id}/lose`, { reason: 'price' }, 'Deal'],
    ['POST /leads/:id/qualify', 'post', (id) => `/leads/${id}/qualify`, {}, 'Lead'],
    ['POST /leads/:id/disqualify', 'post', (id) => `/leads/${id}/disqualify`, { reason: 'no budget' }, 'Lead'],
    ['POST /leads/:id/convert', 'post', (id) => `/leads/${id}/convert`, {}, 'Lead'],
    ['POST /tasks/:id/complete', 'post', (id) => `/tasks/${id}/complete`, {}, 'Task'],
  ];
  it.each(commands)('%s', async (name, method, url, body, kind) => {
    for (const theirs of kind === 'Customer'
      ? [ids.theirCustomer, ids.unownedCustomer]
      : kind === 'Lead'
        ? [ids.theirLead, ids.unassignedLead]
        : [ids[`their${kind}`]]) {
      const res = await expectNothingAppended(t, () => rep[method](url(theirs), body));
      expect([name, res.status]).toEqual([name, 403]);
      expect(res.body).toMatchObject({ code: 'not-owner', message: expect.stringMatching(/owned by someone else|not assigned to anyone/) });
      // An If-Match does not let the rep learn the revision: still a 403.
      expect((await rep[method](url(theirs), body, { 'If-Match': '999' })).status).toBe(403);
    }
    // Unknown stays 404; the owner itself may.
    expect((await rep[method](url(randomUUID()), body)).status).toBe(404);
    if (method === 'post') {
      const own = await other.post(url(ids[`their${kind}`]), body);
      expect([name, own.status < 300 || own.status === 422]).toEqual([name, true]);
    }
  });

  it('a rep logs interactions on its own customer (201), not on another’s (403)', async () => {
    const body = { type: 'note', direction: 'inbound', subject: 'Mine' };
    expect((await rep.post(`/customers/${ids.myCustomer}/interactions`, body)).status).toBe(201);
    const denied = await expectNothingAppended(t, () => rep.post(`/customers/${ids.theirCustomer}/interactions`, body));
    expect(denied.status).toBe(403);
  });
});

describe('creation: what a rep creates is its own', () => {
  it('customers, leads, deals and tasks default to the rep as owner; naming another owner is a 403', async () => {
    const customer = await rep.post('/customers', { name: 'Rep Made', source: 'web' });
    expect(customer.status).toBe(201);
    expect((await t.events(customer.body.streamId))[0].data).toMatchObject({ ownerId: t.actors.rep });
    const lead = await rep.post('/leads', { name: 'Rep Lead', source: 'web' });
    expect(lead.status).toBe(201);
    // One append: captured and assigned together.
    expect((await t.events(lead.body.streamId)).map((e) => [e.type, e.data])).toEqual([
      ['LeadCaptured', expect.objectContaining({ name: 'Rep Lead' })],
      ['LeadAssigned', expect.objectContaining({ ownerId: t.actors.rep, strategy: 'capture' })],
    ]);
    expect((await rep.latest(`/leads/${lead.body.id}`)).body.ownerId).toBe(t.actors.rep);
    const deal = await rep.post('/deals', { customerId: customer.body.id, title: 'Rep Deal', amount: 5 });
    expect(deal.status).toBe(201);
    expect((await t.events(deal.body.streamId))[0].data).toMatchObject({ ownerId: t.actors.rep, source: 'web' });
    const task = await rep.post('/tasks', {
      subject: 'Rep Task',
      dueAt: '2030-01-01',
      customerId: customer.body.id,
      dealId: deal.body.id,
      leadId: lead.body.id,
    });
    expect(task.status).toBe(201);
    expect((await t.events(task.body.streamId))[0].data).toMatchObject({ ownerId: t.actors.rep });

    for (const [path, body] of [
      ['/customers', { name: 'X', ownerId: OTHER }],
      ['/leads', { name: 'X', source: 'web', ownerId: OTHER }],
      ['/deals', { customerId: ids.myCustomer, title: 'X', amount: 1, ownerId: OTHER }],
      ['/tasks', { subject: 'X', dueAt: '2030-01-01', ownerId: OTHER }],
    ] as const) {
      const res = await expectNothingAppended(t, () => rep.post(path, body));
      expect([path, res.status]).toEqual([path, 403]);
      expect(res.body.message).toContain('ownerId');
    }
    // Managers may create for anyone.
    expect((await manager.post('/tasks', { subject: 'For the rep', dueAt: '2030-01-01', ownerId: t.actors.rep })).status).toBe(201);
  });

  it("a deal or task about another's customer, deal or lead is a 403; an unknown one stays a 422", async () => {
    for (const [path, body] of [
      ['/deals', { customerId: ids.theirCustomer, title: 'X', amount: 1 }],
      ['/deals', { customerId: ids.unownedCustomer, title: 'X', amount: 1 }],
      ['/tasks', { subject: 'X', dueAt: '2030-01-01', customerId: ids.theirCustomer }],
      ['/tasks', { subject: 'X', dueAt: '2030-01-01', dealId: ids.theirDeal }],
      ['/tasks', { subject: 'X', dueAt: '2030-01-01', leadId: ids.theirLead }],
    ] as const) {
      const res = await expectNothingAppended(t, () => rep.post(path, body));
      expect([path, JSON.stringify(body), res.status]).toEqual([path, JSON.stringify(body), 403]);
    }
    expect((await rep.post('/deals', { customerId: randomUUID(), title: 'X', amount: 1 })).status).toBe(422);
    expect((await rep.post('/tasks', { subject: 'X', dueAt: '2030-01-01', customerId: randomUUID() })).status).toBe(422);
  });

  it("converting one's lead into another's customer is a 403; into a new customer, the customer is the rep's", async () => {
    const lead = (await ok(rep.post('/leads', { name: 'Convertible', source: 'web' }))).body.id;
    const denied = await expectNothingAppended(t, () => rep.post(`/leads/${lead}/convert`, { customerId: ids.theirCustomer }));
    expect(denied.status).toBe(403);
    const converted = await rep.post(`/leads/${lead}/convert`, {});
    expect(converted.status).toBe(200);
    expect((await t.events(`customer-${converted.body.customerId}`))[0].data).toMatchObject({ ownerId: t.actors.rep });
  });

  it("converting another's lead is a 403 whatever customer it names: the refusal says nothing about that customer", async () => {
    const erased = (await ok(admin.post('/customers', { name: 'Erased Person', source: 'web' }))).body.id;
    await ok(admin.delete(`/customers/${erased}/personal-data`));
    // Its owner would hear that the customer was erased (a 422); a rep refused on the lead must not.
    expect((await admin.post(`/leads/${ids.theirLead}/convert`, { customerId: erased })).status).toBe(422);
    for (const customerId of [erased, ids.theirCustomer, ids.myCustomer, randomUUID()]) {
      const res = await expectNothingAppended(t, () => rep.post(`/leads/${ids.theirLead}/convert`, { customerId }));
      expect([customerId, res.status, res.body.message]).toEqual([customerId, 403, expect.stringContaining(`lead-${ids.theirLead}`)]);
    }
  });
});

describe('reassigning an owner: managers and admins only', () => {
  it.each([
    [
      'POST /customers/:id/owner',
      (id: string) => `/customers/${id}/owner`,
      'customer',
      'CustomerOwnerAssigned',
      (id: string) => `/customers/${id}`,
    ],
    ['POST /leads/:id/assign', (id: string) => `/leads/${id}/assign`, 'lead', 'LeadAssigned', (id: string) => `/leads/${id}`],
    ['POST /deals/:id/owner', (id: string) => `/deals/${id}/owner`, 'deal', 'DealOwnerAssigned', (id: string) => `/deals/${id}`],
  ] as const)('%s', async (_name, url, category, eventType, view) => {
    const id =
      category === 'customer'
        ? (await ok(admin.post('/customers', { name: 'Moving', ownerId: t.actors.rep }))).body.id
        : category === 'lead'
          ? (await ok(admin.post('/leads', { name: 'Moving', source: 'web', ownerId: t.actors.rep }))).body.id
          : (await ok(admin.post('/deals', { customerId: ids.myCustomer, title: 'Moving', amount: 1, ownerId: t.actors.rep }))).body.id;
    for (const ownerId of [OTHER, t.actors.rep]) {
      const denied = await expectNothingAppended(t, () => rep.post(url(id), { ownerId }));
      expect(denied.status).toBe(403);
      expect(denied.body.message).toContain('rep');
    }
    const moved = await manager.post(url(id), { ownerId: OTHER });
    expect(moved.status).toBe(200);
    const events = await t.events(`${category}-${id}`);
    expect(events[events.length - 1]).toMatchObject({
      type: eventType,
      data: expect.objectContaining({ ownerId: OTHER }),
      actor: t.actors.manager,
    });
    // The old owner loses it, the new one has it: reads and writes.
    expect((await rep.latest(view(id))).status).toBe(403);
    expect((await other.get(`${view(id)}?minPosition=${moved.body.position}`)).status).toBe(200);
    const list = `/${category}s?minPosition=${moved.body.position}`;
    expect((await rep.get(list)).body.items.map((i: { id: string }) => i.id)).not.toContain(id);
    expect((await other.get(list)).body.items.map((i: { id: string }) => i.id)).toContain(id);
  });

  it('PATCH /customers/:id with another ownerId is a 403 for a rep and a reassignment for a manager', async () => {
    const id = (await ok(admin.post('/customers', { name: 'Patched', ownerId: t.actors.rep }))).body.id;
    const denied = await expectNothingAppended(t, () => rep.patch(`/customers/${id}`, { company: 'Co', ownerId: OTHER }));
    expect(denied.status).toBe(403);
    expect(denied.body.message).toContain('reassigning');
    // Naming oneself changes nothing and is allowed.
    expect((await rep.patch(`/customers/${id}`, { company: 'Co', ownerId: t.actors.rep })).status).toBe(200);
    expect((await manager.patch(`/customers/${id}`, { ownerId: OTHER })).status).toBe(200);
    expect((await t.events(`customer-${id}`)).map((e) => e.type)).toEqual([
      'CustomerRegistered',
      'CustomerProfileUpdated',
      'CustomerOwnerAssigned',
    ]);
    expect((await rep.post(`/customers/${id}/interactions`, { type: 'note', direction: 'inbound', subject: 'x' })).status).toBe(403);
  });

  it('campaigns and spend are for managers and admins', async () => {
    expect((await expectNothingAppended(t, () => rep.post('/campaigns', { name: 'C', channel: 'web' }))).status).toBe(403);
    expect((await expectNothingAppended(t, () => rep.post('/spend', { amount: 1, category: 'sales' }))).status).toBe(403);
    expect((await manager.post('/campaigns', { name: 'C', channel: 'web' })).status).toBe(201);
  });
});

describe('reports: a rep sees its own figures, scoped as its records are', () => {
  const window = 'from=2000-01-01&to=2100-01-01&interval=year';

  /**
   * Reads at the store's head, again if anything was appended meanwhile (the process managers
   * react to the fixture in the background): both answers then come from the same events.
   */
  async function atOneHead<T>(read: (head: number) => Promise<T>): Promise<T> {
    for (;;) {
      const head = await t.store.headPosition();
      const result = await read(head);
      if ((await t.store.headPosition()) === head) return result;
    }
  }

  it("sales-performance, activity and upcoming-activity: the rep's own entry, its totals being its own figures", async () => {
    for (const ownerId of [t.actors.rep, OTHER]) await ok(admin.post('/tasks', { subject: 'Due soon', dueAt: '2030-01-02', ownerId }));
    for (const name of ['sales-performance', 'activity', 'upcoming-activity']) {
      // (Both tasks above are due on 2030-01-02: a few days before, within the week.)
      const { mine, all } = await atOneHead(async (head) => {
        const query = `${window}&asOf=2029-12-29T00:00:00Z&minPosition=${head}`;
        return { mine: (await rep.get(`/reports/${name}?${query}`)).body, all: (await manager.get(`/reports/${name}?${query}`)).body };
      });
      const me = all.owners.find((o: { ownerId: string }) => o.ownerId === t.actors.rep);
      expect([name, all.owners.length > 1]).toEqual([name, true]);
      expect([name, mine.owners]).toEqual([name, [me]]);
      const { ownerId: _id, periods, ...figures } = me;
      expect([name, mine.totals]).toEqual([name, figures]);
      if (name === 'sales-performance') expect(mine.periods).toEqual(periods);
      else if (name === 'activity')
        for (const week of mine.periods)
          expect(week.owners.map((o: { ownerId: string }) => o.ownerId)).toEqual(week.owners.length ? [t.actors.rep] : []);
    }
  });

  it('goals: only those on its own figures', async () => {
    const goal = (owner: string) =>
      manager.post('/goals', {
        kpi: 'newRevenue',
        target: 1000,
        deadline: '2031-01-01T00:00:00Z',
        segment: { owner },
        name: `for ${owner}`,
      });
    const [own, theirs] = [await goal(t.actors.rep), await goal(OTHER)];
    expect([own.status, theirs.status]).toEqual([201, 201]);
    const head = await t.store.headPosition();
    const names = (body: { goals: Array<{ name: string }> }) => body.goals.map((g) => g.name);
    expect(names((await rep.get(`/reports/goals?minPosition=${head}`)).body)).toEqual([`for ${t.actors.rep}`]);
    expect(names((await manager.get(`/reports/goals?minPosition=${head}`)).body)).toEqual(
      expect.arrayContaining([`for ${t.actors.rep}`, `for ${OTHER}`]),
    );
  });

  it("the reports of everyone's records are a 403 naming those of its own figures; GET /reports lists those; report runs are refused", async () => {
    const refused = await rep.get('/reports/pipeline');
    expect([refused.status, refused.body.message]).toEqual([
      403,
      `role "rep" sees only its own figures; report "pipeline" covers everyone's records (its own are in: activity, goals, sales-performance, upcoming-activity)`,
    ]);
    expect((await rep.get('/reports/churn?format=csv')).status).toBe(403);
    const listed = (await rep.get('/reports')).body.reports.map((r: { name: string }) => r.name);
    expect(listed.sort()).toEqual(['activity', 'goals', 'sales-performance', 'upcoming-activity']);
    expect((await manager.get('/reports')).body.reports.length).toBeGreaterThan(10);
    expect((await rep.post('/report-runs', { report: 'activity' })).status).toBe(403);
    expect((await rep.get('/report-runs')).status).toBe(403);
  });
});
