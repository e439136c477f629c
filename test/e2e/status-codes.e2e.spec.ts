import request from 'supertest';
import { randomUUID } from 'node:crypto';
import { client, expectNothingAppended } from '../support/http';
import { iso, rawRequest, sessionHelpers } from '../support/session';
import { startTestApp, TestApp } from '../support/test-app';

/**
 * Status codes 400, 415, 401, 403, 404, 409 and 422, each with the requests that earn it
 * (docs/http-api.md).
 */

let t: TestApp;
let api: ReturnType<typeof client>;

beforeAll(async () => {
  t = await startTestApp();
  api = client(t, 'admin');
});
afterAll(async () => {
  await t?.close();
});

const { registerCustomer, openDeal, captureLead, createTask } = sessionHelpers(() => t);

describe('status codes', () => {
  describe('400: malformed or invalid requests', () => {
    it('refuses malformed JSON', async () => {
      const res = await expectNothingAppended(t, () => api.raw('post', '/customers', '{"name": "Ada",'));
      expect(res.status).toBe(400);
      expect(res.body).toMatchObject({ statusCode: 400, error: 'Bad Request', correlationId: expect.any(String) });
    });

    it('refuses a body that is not a JSON object', async () => {
      const customerId = await registerCustomer();
      for (const body of ['[]', '[{"name":"Ada"}]', '"Ada"', '42', 'true', 'null']) {
        const res = await expectNothingAppended(t, () => api.raw('post', '/customers', body));
        expect([body, res.status]).toEqual([body, 400]);
        const onExisting = await expectNothingAppended(t, () => api.raw('patch', `/customers/${customerId}`, body));
        expect([body, onExisting.status]).toEqual([body, 400]);
      }
    });

    it('refuses an unknown field, naming it', async () => {
      const res = await expectNothingAppended(t, () => api.post('/customers', { name: 'Ada', favouriteColour: 'green' }));
      expect(res.status).toBe(400);
      expect(res.body.message).toContain('favouriteColour');
      const customerId = await registerCustomer();
      for (const field of ['constructor', 'toString', 'hasOwnProperty']) {
        const sneaky = await expectNothingAppended(t, () => api.raw('patch', `/customers/${customerId}`, `{"company":"X","${field}":"y"}`));
        expect([field, sneaky.status]).toEqual([field, 400]);
        expect(sneaky.body.message).toContain(field);
      }
      const proto = await expectNothingAppended(t, () => api.raw('post', '/customers', '{"name":"x","__proto__":{"admin":true}}'));
      expect(proto.status).toBe(400);
    });

    it('refuses an invalid field, naming it in the message', async () => {
      const customerId = await registerCustomer();
      const cases: Array<[string, string, Record<string, unknown>, string]> = [
        ['post', '/deals', { customerId, title: 'Negative', amount: -1 }, 'amount'],
        ['post', '/deals', { customerId, title: 'Text', amount: '100' }, 'amount'],
        ['post', '/customers', { name: 'Ada', email: 'not-an-email' }, 'email'],
        ['post', '/customers', { name: 'Ada', source: 'Paid Search' }, 'source'],
        ['post', '/customers', { name: 42 }, 'name'],
        ['post', `/customers/${customerId}/interactions`, { type: 'telegram', direction: 'inbound', subject: 'x' }, 'type'],
        ['post', `/customers/${customerId}/purchases`, { amount: 1e300 }, 'amount'],
        ['patch', `/customers/${customerId}`, { name: null }, 'name'],
        ['post', '/tasks', { subject: 'S', dueAt: '2024-02-30' }, 'dueAt'],
        ['post', '/spend', { amount: 1, category: 'travel' }, 'category'],
        ['post', `/customers/${customerId}/churn`, { reason: 'x', expectedRevision: -1 }, 'expectedRevision'],
        ['post', `/customers/${customerId}/churn`, { reason: 'x', expectedRevision: 1e308 }, 'expectedRevision'],
      ];
      for (const [method, url, body, field] of cases) {
        const res = await expectNothingAppended(t, () => (method === 'post' ? api.post(url, body) : api.patch(url, body)));
        expect([url, body, res.status]).toEqual([url, body, 400]);
        expect(res.body.message).toMatch(new RegExp(`^(.*; )?${field}: `));
      }
    });

    it('refuses a body nested deeper than any command needs, before anything walks it', async () => {
      const deep = '{"name":"x","attributes":' + '{"a":'.repeat(10_000) + '1' + '}'.repeat(10_000) + '}';
      const res = await expectNothingAppended(t, () => api.raw('post', '/customers', deep, { 'Idempotency-Key': 'deep' }));
      expect(res.status).toBe(400);
      // Free-form attributes may nest 3 levels (abuse-limits.e2e.spec.ts has their every bound).
      const fine = await api.post('/customers', { name: 'Nested', attributes: { a: { b: [1, 'two', true, null] } } });
      expect(fine.status).toBe(201);
      expect((await t.events(fine.body.streamId))[0].data).toMatchObject({ attributes: { a: { b: [1, 'two', true, null] } } });
    });

    it('refuses a bad If-Match', async () => {
      const customerId = await registerCustomer();
      for (const value of ['abc', '-1', '1.5', '0x1', '']) {
        const res = await expectNothingAppended(t, () => api.patch(`/customers/${customerId}`, { company: 'X' }, { 'If-Match': value }));
        expect([value, res.status]).toEqual([value, 400]);
      }
      // An ETag-style quoted revision is fine.
      expect((await api.patch(`/customers/${customerId}`, { company: 'X' }, { 'If-Match': '"0"' })).status).toBe(200);
      // If-Match and expectedRevision must agree.
      const disagree = await expectNothingAppended(t, () =>
        api.patch(`/customers/${customerId}`, { company: 'Y', expectedRevision: 0 }, { 'If-Match': '1' }),
      );
      expect(disagree.status).toBe(400);
    });

    it('refuses occurredAt more than 5 minutes in the future, and accepts a little clock skew', async () => {
      const tooLate = iso(Date.now() + 10 * 60_000);
      const res = await expectNothingAppended(t, () => api.post('/customers', { name: 'Future', occurredAt: tooLate }));
      expect(res.status).toBe(400);
      expect(res.body.message).toContain('occurredAt');
      const skewed = iso(Date.now() + 2 * 60_000);
      const ok = await api.post('/customers', { name: 'Skewed', occurredAt: skewed });
      expect(ok.status).toBe(201);
      expect((await t.events(ok.body.streamId))[0].occurredAt).toBe(skewed);
      for (const bogus of ['2024-02-30T00:00:00Z', '+275760-09-13T00:00:00Z', 'yesterday', '2024-W10-1', 1700000000000]) {
        const bad = await expectNothingAppended(t, () => api.post('/customers', { name: 'Bogus', occurredAt: bogus }));
        expect([bogus, bad.status]).toEqual([bogus, 400]);
      }
    });

    it('refuses an id that is not a UUID, on commands and on reads', async () => {
      for (const [method, url] of [
        ['patch', '/customers/123'],
        ['post', '/customers/not-a-uuid/churn'],
        ['post', '/deals/123/win'],
        ['post', '/leads/abc/qualify'],
        ['post', '/tasks/1/complete'],
        ['get', '/customers/123'],
        ['get', '/deals/xyz'],
      ] as const) {
        const res = await expectNothingAppended(t, () =>
          method === 'get' ? api.get(url) : method === 'post' ? api.post(url, { reason: 'x' }) : api.patch(url, {}),
        );
        expect([url, res.status]).toEqual([url, 400]);
      }
      const clientId = await expectNothingAppended(t, () => api.post('/customers', { id: 'my-id', name: 'x' }));
      expect(clientId.status).toBe(400);
      expect(clientId.body.message).toContain('id');
    });

    it('refuses a bad X-Correlation-Id', async () => {
      const res = await expectNothingAppended(t, () => api.post('/customers', { name: 'x' }, { 'X-Correlation-Id': 'x'.repeat(200) }));
      expect(res.status).toBe(400);
    });
  });

  describe('415 and empty bodies: bodies are JSON, and an empty one is no body', () => {
    it('refuses every other content type with 415, a DELETE and a GET included, and appends nothing', async () => {
      const customerId = await registerCustomer();
      const cases: Array<[string, string, string | undefined, Record<string, string>]> = [
        ['post', '/customers', '{"name":"Ada"}', { 'Content-Type': 'text/plain' }],
        ['post', '/customers', 'name=Ada', { 'Content-Type': 'application/x-www-form-urlencoded' }],
        ['post', '/customers', '{"name":"Ada"}', { 'Content-Type': 'application/merge-patch+json' }],
        ['patch', `/customers/${customerId}`, '{"company":"X"}', { 'Content-Type': 'application/merge-patch+json' }],
        ['post', '/customers', '{"name":"Ada"}', { 'Content-Type': 'application/json; charset=iso-8859-1' }],
        ['delete', `/customers/${customerId}/personal-data`, '{}', { 'Content-Type': 'text/plain' }],
        ['delete', `/customers/${customerId}/personal-data`, undefined, { 'Content-Type': 'text/plain' }],
        ['get', `/customers/${customerId}`, undefined, { 'Content-Type': 'text/plain' }],
      ];
      for (const [method, url, body, headers] of cases) {
        const res = await expectNothingAppended(t, async () => {
          const r = request(t.http)[method as 'post'](url).set(t.as('admin')).set(headers);
          return body === undefined ? r : r.send(body);
        });
        expect([method, url, headers, res.status]).toEqual([method, url, headers, 415]);
        expect(res.body).toMatchObject({
          statusCode: 415,
          error: 'Unsupported Media Type',
          message: expect.stringMatching(/application\/json/),
          correlationId: expect.any(String),
        });
      }
      // A body without a Content-Type is no JSON either.
      const untyped = await expectNothingAppended(t, () =>
        rawRequest(t, 'POST', '/customers', { 'Content-Length': '14' }, '{"name":"Ada"}'),
      );
      expect(untyped.status).toBe(415);
      // The customer is still there: the DELETEs above erased nothing.
      expect((await api.latest(`/customers/${customerId}`)).body).toMatchObject({ name: 'Ada Lovelace' });
    });

    it('accepts application/json in any case, with charset=utf-8', async () => {
      for (const type of ['application/json; charset=utf-8', 'Application/JSON', 'application/json;charset="UTF-8"']) {
        const res = await request(t.http).post('/customers').set(t.as('admin')).set('Content-Type', type).send('{"name":"Ada"}');
        expect([type, res.status]).toEqual([type, 201]);
      }
    });

    it("runs the README's win step: curl's POST with Content-Type: application/json and no body", async () => {
      const dealId = await openDeal(await registerCustomer());
      // curl -H 'Content-Type: application/json' -X POST …/win sends neither a body nor a Content-Length.
      const json = { 'Content-Type': 'application/json', 'Idempotency-Key': 'readme-win-1' };
      const won = await rawRequest(t, 'POST', `/deals/${dealId}/win`, json);
      expect([won.status, won.body]).toEqual([200, expect.objectContaining({ streamId: `deal-${dealId}` })]);
      const retry = await rawRequest(t, 'POST', `/deals/${dealId}/win`, json);
      expect(retry.status).toBe(200);
      expect(retry.headers['idempotent-replayed']).toBe('true');
      // Content-Length: 0 is no body as well.
      const other = await openDeal(await registerCustomer());
      expect(
        (await rawRequest(t, 'POST', `/deals/${other}/win`, { 'Content-Type': 'application/json', 'Content-Length': '0' })).status,
      ).toBe(200);
      const lead = await captureLead();
      expect(
        (await rawRequest(t, 'POST', `/leads/${lead}/qualify`, { 'Content-Type': 'application/json', 'Content-Length': '0' })).status,
      ).toBe(200);
    });

    it('treats an empty JSON body as no body: a body-less DELETE works, a route that needs a body names the missing fields', async () => {
      const customerId = await registerCustomer();
      const erased = await rawRequest(t, 'DELETE', `/customers/${customerId}/personal-data`, { 'Content-Type': 'application/json' });
      expect(erased.status).toBe(200);
      const empty = await expectNothingAppended(t, () =>
        rawRequest(t, 'POST', '/customers', { 'Content-Type': 'application/json', 'Content-Length': '0' }),
      );
      expect(empty.status).toBe(400);
      expect(empty.body.message).toMatch(/^name: /);
      const dealId = await openDeal(await registerCustomer());
      const lose = await expectNothingAppended(t, () =>
        rawRequest(t, 'POST', `/deals/${dealId}/lose`, { 'Content-Type': 'application/json' }),
      );
      expect(lose.status).toBe(400);
      expect(lose.body.message).toMatch(/^reason: /);
    });
  });

  describe('401: no or unknown credentials', () => {
    it('refuses a request without a key or with an unknown one; /health stays open', async () => {
      const customerId = await registerCustomer();
      const noKey = await expectNothingAppended(t, () => request(t.http).post('/customers').send({ name: 'x' }));
      expect(noKey.status).toBe(401);
      const unknown = await expectNothingAppended(t, () =>
        request(t.http).post('/customers').set('Authorization', 'Bearer not-a-known-key-at-all').send({ name: 'x' }),
      );
      expect(unknown.status).toBe(401);
      const basic = await request(t.http).get(`/customers/${customerId}`).set('Authorization', `Basic ${t.keys.admin}`);
      expect(basic.status).toBe(401);
      expect((await request(t.http).get(`/customers/${customerId}`)).status).toBe(401);
      expect((await request(t.http).get(`/streams/customer-${customerId}/events`)).status).toBe(401);
      expect((await request(t.http).get('/health')).status).toBe(200);
    });
  });

  describe('403: the role may not do this', () => {
    it('refuses writes by analyst and service keys, lets the analyst read and the rep write', async () => {
      const customerId = await registerCustomer();
      for (const role of ['analyst', 'service'] as const) {
        const as = client(t, role);
        const writes = [
          () => as.post('/customers', { name: 'x' }),
          () => as.patch(`/customers/${customerId}`, { company: 'x' }),
          () => as.post(`/customers/${customerId}/interactions`, { type: 'note', direction: 'inbound', subject: 'x' }),
          () => as.post('/spend', { amount: 1, category: 'sales' }),
        ];
        for (const write of writes) {
          const res = await expectNothingAppended(t, write);
          expect([role, res.status]).toEqual([role, 403]);
        }
      }
      const read = await client(t, 'analyst').latest(`/customers/${customerId}`);
      expect(read.status).toBe(200);
      expect(read.body.name).toBe('A***'); // analysts see personal fields masked (personal-data.e2e.spec.ts)
      expect((await client(t, 'service').get(`/streams/customer-${customerId}/events`)).status).toBe(200);
      expect((await client(t, 'rep').post('/customers', { name: 'By a rep' })).status).toBe(201);
      expect(
        (await client(t, 'manager').post(`/customers/${customerId}/interactions`, { type: 'note', direction: 'inbound', subject: 'x' }))
          .status,
      ).toBe(201);
    });
  });

  describe('404: unknown aggregate', () => {
    it('answers 404 for an unknown customer, deal, lead or task, on commands and reads', async () => {
      const unknown = randomUUID();
      const cases: Array<[string, string, Record<string, unknown> | undefined]> = [
        ['patch', `/customers/${unknown}`, { company: 'x' }],
        ['post', `/customers/${unknown}/churn`, { reason: 'x' }],
        ['post', `/customers/${unknown}/reactivate`, {}],
        ['post', `/customers/${unknown}/purchases`, { amount: 1 }],
        ['post', `/customers/${unknown}/interactions`, { type: 'call', direction: 'inbound', subject: 'x' }],
        ['post', `/deals/${unknown}/stage`, { stage: 'proposal' }],
        ['patch', `/deals/${unknown}`, { amount: 1 }],
        ['post', `/deals/${unknown}/win`, undefined],
        ['post', `/deals/${unknown}/lose`, { reason: 'x' }],
        ['post', `/leads/${unknown}/qualify`, {}],
        ['post', `/leads/${unknown}/disqualify`, { reason: 'x' }],
        ['post', `/leads/${unknown}/convert`, {}],
        ['post', `/leads/${unknown}/assign`, { ownerId: 'u-1' }],
        ['post', `/tasks/${unknown}/complete`, {}],
        ['get', `/customers/${unknown}`, undefined],
        ['get', `/deals/${unknown}`, undefined],
        ['get', `/customers/${unknown}?asOf=2024-01-01T00:00:00Z`, undefined],
        ['get', `/deals/${unknown}?asOf=2024-01-01T00:00:00Z`, undefined],
        ['get', `/customers/${unknown}/timeline`, undefined],
        ['get', `/leads/${unknown}`, undefined],
        ['get', `/tasks/${unknown}`, undefined],
        ['get', `/streams/customer-${unknown}/events`, undefined],
        ['get', `/streams/task-${unknown}/events`, undefined],
      ];
      for (const [method, url, body] of cases) {
        const res = await expectNothingAppended(t, () =>
          method === 'get' ? api.get(url) : method === 'post' ? api.post(url, body) : api.patch(url, body),
        );
        expect([method, url, res.status]).toEqual([method, url, 404]);
        expect(res.body).toMatchObject({ statusCode: 404, message: expect.stringContaining(unknown) });
      }
      // Converting an unknown lead must not register a customer either.
      expect(await t.events(`customer-${unknown}`)).toEqual([]);
    }, 30_000); // 24 requests, each also reading the head twice: slow on the EventStoreDB double under load
  });

  describe('409: concurrency conflicts', () => {
    it('refuses a stale If-Match and a stale expectedRevision', async () => {
      const customerId = await registerCustomer();
      expect((await api.patch(`/customers/${customerId}`, { company: 'First' }, { 'If-Match': '0' })).status).toBe(200);
      const staleHeader = await expectNothingAppended(t, () =>
        api.patch(`/customers/${customerId}`, { company: 'Second' }, { 'If-Match': '0' }),
      );
      expect(staleHeader.status).toBe(409);
      expect(staleHeader.body).toMatchObject({ currentRevision: 1 });
      const staleBody = await expectNothingAppended(t, () =>
        api.patch(`/customers/${customerId}`, { company: 'Second', expectedRevision: 0 }),
      );
      expect(staleBody.status).toBe(409);
      const ahead = await expectNothingAppended(t, () =>
        api.post(`/customers/${customerId}/interactions`, { type: 'call', direction: 'inbound', subject: 'x', expectedRevision: 5 }),
      );
      expect(ahead.status).toBe(409);
      const current = await api.patch(`/customers/${customerId}`, { company: 'Second', expectedRevision: 1 });
      expect(current.status).toBe(200);
      expect(current.body.revision).toBe(2);
      const dealId = await openDeal(customerId);
      const staleWin = await expectNothingAppended(t, () => api.post(`/deals/${dealId}/win`, { expectedRevision: 3 }));
      expect(staleWin.status).toBe(409);
    });

    it('refuses to create an aggregate whose client-supplied id exists', async () => {
      const id = randomUUID();
      expect((await api.post('/customers', { id, name: 'Original' })).status).toBe(201);
      const again = await expectNothingAppended(t, () => api.post('/customers', { id, name: 'Impostor' }));
      expect(again.status).toBe(409);
      expect((await t.events(`customer-${id}`)).map((e) => (e.data as { name: string }).name)).toEqual(['Original']);
      const leadId = await captureLead();
      expect((await expectNothingAppended(t, () => api.post('/leads', { id: leadId, name: 'Again', source: 'web' }))).status).toBe(409);
    });
  });

  describe('422: business rules', () => {
    it('refuses each broken rule, appending nothing', async () => {
      const prospect = await registerCustomer();
      const active = await registerCustomer();
      expect((await api.post(`/customers/${active}/purchases`, { amount: 10 })).status).toBe(201);
      const closedDeal = await openDeal(active);
      expect((await api.post(`/deals/${closedDeal}/lose`, { reason: 'price' })).status).toBe(200);
      const openDealId = await openDeal(active);
      const convertedLead = await captureLead();
      expect((await api.post(`/leads/${convertedLead}/convert`, {})).status).toBe(200);
      const doneTask = await createTask({ customerId: active });
      expect((await api.post(`/tasks/${doneTask}/complete`, { outcome: 'done' })).status).toBe(200);

      const cases: Array<[string, string, string, Record<string, unknown>]> = [
        ['churn a prospect', 'post', `/customers/${prospect}/churn`, { reason: 'x' }],
        ['reactivate an active customer', 'post', `/customers/${active}/reactivate`, {}],
        ['move a closed deal', 'post', `/deals/${closedDeal}/stage`, { stage: 'proposal' }],
        ['change the amount of a closed deal', 'patch', `/deals/${closedDeal}`, { amount: 5 }],
        ['win a lost deal', 'post', `/deals/${closedDeal}/win`, {}],
        ['an unknown stage', 'post', `/deals/${openDealId}/stage`, { stage: 'demo' }],
        ['close a deal through a stage', 'post', `/deals/${openDealId}/stage`, { stage: 'won' }],
        ['open a deal in an unknown stage', 'post', '/deals', { customerId: active, title: 'x', amount: 1, stage: 'demo' }],
        ['disqualify a converted lead', 'post', `/leads/${convertedLead}/disqualify`, { reason: 'x' }],
        ['complete a task twice', 'post', `/tasks/${doneTask}/complete`, {}],
        ['spend on an unknown campaign', 'post', '/spend', { amount: 5, category: 'marketing', campaignId: randomUUID() }],
        ['a deal for an unknown customer', 'post', '/deals', { customerId: randomUUID(), title: 'x', amount: 1 }],
        ['a task on an unknown deal', 'post', '/tasks', { subject: 'x', dueAt: '2030-01-01', dealId: randomUUID() }],
        [
          "a deal change before the deal's last one in business time",
          'patch',
          `/deals/${openDealId}`,
          { amount: 9, occurredAt: '2001-01-01T00:00:00Z' },
        ],
        [
          'churn before the acquisition in business time',
          'post',
          `/customers/${active}/churn`,
          { reason: 'x', occurredAt: '2001-01-01T00:00:00Z' },
        ],
      ];
      for (const [rule, method, url, body] of cases) {
        const res = await expectNothingAppended(t, () => (method === 'post' ? api.post(url, body) : api.patch(url, body)));
        expect([rule, res.status]).toEqual([rule, 422]);
        expect(res.body).toMatchObject({
          statusCode: 422,
          error: 'Unprocessable Entity',
          code: expect.any(String),
          message: expect.any(String),
        });
      }
    });
  });
});
