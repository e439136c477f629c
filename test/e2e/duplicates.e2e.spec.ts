import { randomUUID } from 'node:crypto';
import { ReadModels } from '@chronicle/projector';
import { client } from '../support/http';
import { startTestApp, TestApp } from '../support/test-app';

// GET /customers/duplicates: candidate pairs by email, phone, and name with company, found on
// keyed hashes of the sealed fields; managers and admins only.
let t: TestApp;
let manager: ReturnType<typeof client>;
const tag = randomUUID().slice(0, 8);
const email = `ada.${tag}@engines.example`;
const phone = '+44 20 7946 0000';
const ids: Record<'ada' | 'adaAgain' | 'sameName' | 'other', string> = { ada: '', adaAgain: '', sameName: '', other: '' };

const sorted = (a: string, b: string) => (a < b ? [a, b] : [b, a]);

beforeAll(async () => {
  t = await startTestApp();
  manager = client(t, 'manager');
  const register = async (body: object) => {
    const res = await manager.post('/customers', { source: 'web', ...body });
    expect([res.status, res.body]).toEqual([201, expect.anything()]);
    return res.body.id as string;
  };
  ids.ada = await register({ name: 'Ada Lovelace', email, phone, company: 'Analytical Engines' });
  ids.adaAgain = await register({
    name: 'ADA LOVELACE',
    email: email.replace('@', '+crm@').toUpperCase(),
    phone: '0044 (0)20 7946-0000',
    company: 'Analytical Engines',
  });
  ids.sameName = await register({ name: 'Ada Lovelace', company: 'analytical  engines' });
  ids.other = await register({ name: 'Charles Babbage', email: `charles.${tag}@engines.example` });
});
afterAll(async () => {
  await t?.close();
});

describe('GET /customers/duplicates', () => {
  it('lists the pairs with their reasons and scores, strongest first, by cursor', async () => {
    const res = await manager.latest('/customers/duplicates');
    expect(res.status).toBe(200);
    const items = res.body.items as Array<{ customers: string[]; reasons: string[]; score: number }>;
    const byAda = [
      { customers: sorted(ids.ada, ids.adaAgain), reasons: ['email', 'phone', 'name-company'], score: 1 },
      ...[
        { customers: sorted(ids.ada, ids.sameName), reasons: ['name-company'], score: 0.3 },
        { customers: sorted(ids.adaAgain, ids.sameName), reasons: ['name-company'], score: 0.3 },
      ].sort((x, y) => (x.customers.join('|') < y.customers.join('|') ? -1 : 1)),
    ];
    expect(res.body).toEqual({ items: byAda, limit: 50, nextCursor: null });
    expect(items.flatMap((i) => i.customers)).not.toContain(ids.other);

    const first = await manager.get('/customers/duplicates?limit=1');
    expect(first.status).toBe(200);
    expect(first.body.items).toEqual(byAda.slice(0, 1));
    const second = await manager.get(`/customers/duplicates?limit=2&after=${first.body.nextCursor}`);
    expect(second.body).toEqual({ items: byAda.slice(1), limit: 2, nextCursor: null });
  });

  it('is not taken for a customer id, and keeps no email, phone or name in clear', async () => {
    const readModels = t.app.get(ReadModels);
    const docs: unknown[] = [];
    for (const name of ['people', 'groups', 'pairs']) docs.push(...(await (await readModels.collection('duplicates', name)).find({})));
    const text = JSON.stringify(docs).toLowerCase();
    expect(text).toContain(ids.ada);
    for (const value of [email, `ada.${tag}`, '442079460000', '2079460000', 'lovelace', 'analytical'])
      expect([value, text.includes(value)]).toEqual([value, false]);
  });

  it('answers 400 for bad paging parameters', async () => {
    for (const query of ['limit=0', 'limit=201', 'limit=abc', 'after=not-a-cursor', 'after=', 'offset=3', 'sort=score']) {
      const res = await manager.get(`/customers/duplicates?${query}`);
      expect([query, res.status]).toEqual([query, 400]);
    }
  });

  it('is for managers and admins only', async () => {
    expect((await client(t, 'admin').get('/customers/duplicates')).status).toBe(200);
    for (const role of ['rep', 'analyst', 'service'] as const) {
      const res = await client(t, role).get('/customers/duplicates');
      expect([role, res.status]).toEqual([role, 403]);
      expect(res.body.message).toContain(role);
    }
  });

  it('drops an erased customer from every pair', async () => {
    expect((await manager.delete(`/customers/${ids.ada}/personal-data`)).status).toBe(200);
    const res = await manager.latest('/customers/duplicates');
    expect(res.body.items).toEqual([{ customers: sorted(ids.adaAgain, ids.sameName), reasons: ['name-company'], score: 0.3 }]);
  });
});
