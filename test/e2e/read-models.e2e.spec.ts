import { randomUUID } from 'node:crypto';
import { client, expectNothingAppended } from '../support/http';
import { startTestApp, TestApp } from '../support/test-app';

// The entity read routes of docs/http-api.md: GET /customers, /customers/:id, /customers/:id/timeline,
// /deals, /deals/:id, /leads, /leads/:id, /tasks, /tasks/:id — served by the projections.
let t: TestApp;
let api: ReturnType<typeof client>;
// A tag unique to this run, so that filters only see this file's records.
const region = `region-${randomUUID().slice(0, 8)}`;
const ids: Record<string, string> = {};

async function created(res: { status: number; body: { id: string } }): Promise<string> {
  expect(res.status).toBe(201);
  return res.body.id;
}

beforeAll(async () => {
  t = await startTestApp();
  api = client(t, 'admin');
  ids.ada = await created(
    await api.post('/customers', {
      name: 'Ada Lovelace',
      email: 'ada@engines.example',
      company: 'Analytical Engines',
      source: 'web',
      region,
      occurredAt: '2024-01-01T00:00:00Z',
    }),
  );
  ids.bob = await created(
    await api.post('/customers', {
      name: 'Bob Babbage',
      company: 'Difference Ltd',
      source: 'referral',
      region,
      ownerId: 'rep-2',
      occurredAt: '2024-01-02T00:00:00Z',
    }),
  );
  ids.cyd = await created(
    await api.post('/customers', { name: 'Cyd Charisse', source: 'web', region, occurredAt: '2024-01-03T00:00:00Z' }),
  );

  ids.deal1 = await created(
    await api.post('/deals', { customerId: ids.ada, title: 'Licence', amount: 1000, ownerId: 'rep-1', occurredAt: '2024-02-01T00:00:00Z' }),
  );
  ids.deal2 = await created(
    await api.post('/deals', { customerId: ids.ada, title: 'Support', amount: 300, ownerId: 'rep-1', occurredAt: '2024-02-02T00:00:00Z' }),
  );
  expect((await api.post(`/deals/${ids.deal1}/stage`, { stage: 'proposal', occurredAt: '2024-02-10T00:00:00Z' })).status).toBe(200);
  expect((await api.post(`/deals/${ids.deal1}/win`, { occurredAt: '2024-03-01T00:00:00Z' })).status).toBe(200);
  expect(
    (
      await api.post(`/customers/${ids.ada}/interactions`, {
        type: 'call',
        direction: 'outbound',
        subject: 'Kick-off',
        occurredAt: '2024-03-02T00:00:00Z',
      })
    ).status,
  ).toBe(201);
  expect((await api.post(`/customers/${ids.ada}/purchases`, { amount: 50, occurredAt: '2024-03-03T00:00:00Z' })).status).toBe(201);
  expect((await api.post(`/customers/${ids.bob}/purchases`, { amount: 20, occurredAt: '2024-03-04T00:00:00Z' })).status).toBe(201);
  expect((await api.post(`/customers/${ids.bob}/churn`, { reason: 'price', occurredAt: '2024-04-01T00:00:00Z' })).status).toBe(200);

  ids.lead = await created(
    await api.post('/leads', { name: 'Grace Hopper', source: `webinar-${region}`, occurredAt: '2024-01-05T00:00:00Z' }),
  );
  ids.lead2 = await created(
    await api.post('/leads', { name: 'Hedy Lamarr', source: `webinar-${region}`, occurredAt: '2024-01-06T00:00:00Z' }),
  );
  expect((await api.post(`/leads/${ids.lead}/qualify`, {})).status).toBe(200);

  const owner = `owner-${region}`;
  ids.owner = owner;
  ids.task1 = await created(
    await api.post('/tasks', { ownerId: owner, subject: 'Later', dueAt: '2030-02-01T00:00:00Z', customerId: ids.ada }),
  );
  ids.task2 = await created(await api.post('/tasks', { ownerId: owner, subject: 'Sooner', dueAt: '2030-01-01T00:00:00Z' }));
  ids.task3 = await created(await api.post('/tasks', { ownerId: owner, subject: 'Done', dueAt: '2029-01-01T00:00:00Z' }));
  expect((await api.post(`/tasks/${ids.task3}/complete`, {})).status).toBe(200);
});
afterAll(async () => {
  await t?.close();
});

describe('customers', () => {
  it('GET /customers/:id: profile, lifecycle, owner and totals', async () => {
    const res = await api.latest(`/customers/${ids.ada}`);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      id: ids.ada,
      name: 'Ada Lovelace',
      company: 'Analytical Engines',
      status: 'active',
      acquiredAt: '2024-03-01T00:00:00.000Z',
      totals: {
        purchases: { count: 1, amount: 50 },
        wonDeals: { count: 1, amount: 1000 },
        openDeals: 1,
        revenue: 1050,
        interactions: 1,
        lastInteractionAt: '2024-03-02T00:00:00.000Z',
      },
    });
  });

  it('GET /customers filters, searches, sorts and paginates', async () => {
    const all = await api.latest(`/customers?region=${region}`);
    expect(all.status).toBe(200);
    expect(all.body).toMatchObject({ total: 3, limit: 50, offset: 0 });
    expect(all.body.items.map((c: { name: string }) => c.name)).toEqual(['Ada Lovelace', 'Bob Babbage', 'Cyd Charisse']);

    const churned = await api.get(`/customers?region=${region}&status=churned`);
    expect(churned.body.items.map((c: { id: string }) => c.id)).toEqual([ids.bob]);
    expect(churned.body.items[0]).toMatchObject({ churnReason: 'price', ownerId: 'rep-2' });

    const search = await api.get(`/customers?region=${region}&q=ENGINES`); // email and company, any case
    expect(search.body.items.map((c: { id: string }) => c.id)).toEqual([ids.ada]);

    const byRevenue = await api.get(`/customers?region=${region}&sort=-revenue&limit=2`);
    expect(byRevenue.body).toMatchObject({ total: 3, limit: 2 });
    expect(byRevenue.body.items.map((c: { id: string }) => c.id)).toEqual([ids.ada, ids.bob]);
    const second = await api.get(`/customers?region=${region}&sort=-revenue&limit=2&offset=2`);
    expect(second.body.items.map((c: { id: string }) => c.id)).toEqual([ids.cyd]);
  });

  it('GET /customers/:id/timeline: newest first, paged by cursor', async () => {
    const first = await api.latest(`/customers/${ids.ada}/timeline?limit=2`);
    expect(first.status).toBe(200);
    // The task about Ada (created now, so newest) is on her timeline too.
    expect(first.body.items.map((e: { kind: string; type: string }) => [e.kind, e.type])).toEqual([
      ['task', 'TaskCreated'],
      ['purchase', 'PurchaseRecorded'],
    ]);
    expect(first.body.items[0].details).toMatchObject({ taskId: ids.task1, subject: 'Later', dueAt: '2030-02-01T00:00:00.000Z' });
    expect(first.body.nextCursor).toEqual(expect.any(String));
    const rest = await api.get(`/customers/${ids.ada}/timeline?limit=50&before=${first.body.nextCursor}`);
    const types = rest.body.items.map((e: { type: string }) => e.type);
    expect(types.slice(0, 4)).toEqual(['InteractionLogged', 'CustomerAcquired', 'DealWon', 'DealStageChanged']);
    expect(types[types.length - 1]).toBe('CustomerRegistered');
    expect(rest.body.nextCursor).toBeNull();
    const times = [...first.body.items, ...rest.body.items].map((e: { occurredAt: string }) => e.occurredAt);
    expect(times).toEqual([...times].sort().reverse());
  });
});

describe('deals', () => {
  it('GET /deals/:id and GET /deals by customer and status', async () => {
    const deal = await api.latest(`/deals/${ids.deal1}`);
    expect(deal.body).toMatchObject({
      id: ids.deal1,
      customerId: ids.ada,
      status: 'won',
      stage: 'won',
      closedFromStage: 'proposal',
      amount: 1000,
      source: 'web',
    });
    const open = await api.get(`/deals?customerId=${ids.ada}&status=open`);
    expect(open.body).toMatchObject({ total: 1, items: [{ id: ids.deal2, stage: 'qualification' }] });
    const newestFirst = await api.get(`/deals?customerId=${ids.ada}`);
    expect(newestFirst.body.items.map((d: { id: string }) => d.id)).toEqual([ids.deal2, ids.deal1]);
    const byAmount = await api.get(`/deals?customerId=${ids.ada}&sort=amount`);
    expect(byAmount.body.items.map((d: { id: string }) => d.id)).toEqual([ids.deal2, ids.deal1]);
  });
});

describe('leads', () => {
  it('GET /leads/:id and GET /leads by source and status', async () => {
    expect((await api.latest(`/leads/${ids.lead}`)).body).toMatchObject({ id: ids.lead, name: 'Grace Hopper', status: 'qualified' });
    const bySource = await api.get(`/leads?source=webinar-${region}`);
    expect(bySource.body.items.map((l: { id: string }) => l.id)).toEqual([ids.lead2, ids.lead]);
    const fresh = await api.get(`/leads?source=webinar-${region}&status=new`);
    expect(fresh.body).toMatchObject({ total: 1, items: [{ id: ids.lead2 }] });
  });
});

describe('tasks', () => {
  it('GET /tasks?ownerId=&status= soonest due first, and GET /tasks/:id', async () => {
    const open = await api.latest(`/tasks?ownerId=${ids.owner}&status=open`);
    expect(open.body.items.map((x: { subject: string }) => x.subject)).toEqual(['Sooner', 'Later']);
    const done = await api.get(`/tasks?ownerId=${ids.owner}&status=completed`);
    expect(done.body).toMatchObject({ total: 1, items: [{ id: ids.task3, status: 'completed' }] });
    expect((await api.get(`/tasks/${ids.task1}`)).body).toMatchObject({
      id: ids.task1,
      customerId: ids.ada,
      dueAt: '2030-02-01T00:00:00.000Z',
    });
    const dueBefore = await api.get(`/tasks?ownerId=${ids.owner}&dueBefore=2030-01-15T00:00:00Z`);
    expect(dueBefore.body.items.map((x: { id: string }) => x.id)).toEqual([ids.task3, ids.task2]);
  });
});

describe('bad query parameters are a 400 naming the parameter, never a 500', () => {
  it.each([
    ['/customers?status=happy', 'status'],
    ['/customers?sort=age', 'sort'],
    ['/customers?limit=0', 'limit'],
    ['/customers?limit=abc', 'limit'],
    ['/customers?offset=-1', 'offset'],
    ['/customers?colour=red', 'colour'],
    ['/customers?region=a&region=b', 'region'],
    ['/deals?status=pending', 'status'],
    ['/leads?sort=name', 'sort'],
    ['/tasks?dueBefore=tomorrow', 'dueBefore'],
    ['/customers?minPosition=-3', 'minPosition'],
  ])('%s', async (url, field) => {
    const res = await expectNothingAppended(t, () => api.get(url));
    expect(res.status).toBe(400);
    expect(res.body.message).toContain(field);
  });

  it('a bad timeline cursor or a non-UUID id', async () => {
    expect((await api.get(`/customers/${ids.ada}/timeline?before=%%%`)).status).toBe(400);
    expect((await api.get('/customers/not-a-uuid')).status).toBe(400);
    expect((await api.get('/tasks/not-a-uuid')).status).toBe(400);
  });
});

it('read-your-writes: ?minPosition= sees the command just acknowledged', async () => {
  const write = await api.patch(`/customers/${ids.cyd}`, { company: 'Right Now Inc' });
  expect(write.status).toBe(200);
  const read = await api.get(`/customers/${ids.cyd}?minPosition=${write.body.position}`);
  expect(read.body.company).toBe('Right Now Inc');
});
