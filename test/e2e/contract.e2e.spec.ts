import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import request from 'supertest';
import { customerDecider, fold, schemaVersionOf, schemaVersions, streamIdOf } from '@chronicle/domain';
import { generateHistory } from '../../apps/cli/src/seed/generator';
import { appendHistory } from '../../apps/cli/src/seed/seed';
import { ContractValidator } from '../../examples/consumer/contract';
import { seedErasureScenario } from '../support/erasure-scenario';
import { client } from '../support/http';
import { startTestApp, TestApp } from '../support/test-app';
import { WebhookReceiver } from '../support/webhook-receiver';

/**
 * The published contract (docs/asyncapi.json, docs/kafka.md "The contract") against what the API
 * really gives out: a generated history, the erasure scenario and a few more commands (every
 * event type at least once), read back from GET /events and as a webhook delivers it — the
 * envelopes as Kafka carries them, personal fields sealed — and each checked against its type's
 * JSON Schema.
 */
let t: TestApp;
const contract = ContractValidator.fromFile();

beforeAll(async () => {
  t = await startTestApp({ env: { WEBHOOK_ALLOWED_HOSTS: '127.0.0.1', WEBHOOK_BATCH_SIZE: '1000' } });
  await appendHistory(t.store, generateHistory({ events: 3000, seed: 17, end: new Date('2025-06-01T00:00:00Z'), years: 1 }));
  const manager = client(t, 'manager');
  const ok = async (response: Promise<{ status: number; body: any }>) => {
    const r = await response;
    if (r.status >= 300) throw new Error(`HTTP ${r.status}: ${JSON.stringify(r.body)}`);
    return r.body;
  };
  // Customers and leads with personal data and free text, tasks, a conversion, a won deal, then the erasure.
  const s = await seedErasureScenario(t);
  await ok(manager.post(`/customers/${s.keptId}/owner`, { ownerId: 'rep-contract' }));
  // The scenario churned the kept customer.
  await ok(manager.post(`/customers/${s.keptId}/reactivate`, { reason: 'won back' }));
  const deal = await ok(manager.post('/deals', { customerId: s.keptId, title: 'Contract', amount: 10 }));
  await ok(manager.patch(`/deals/${deal.id}`, { expectedCloseDate: '2030-01-01T00:00:00Z' }));
  await ok(manager.post(`/deals/${deal.id}/owner`, { ownerId: 'rep-contract' }));
  // Archived and restored (issue 16): the deal, the lead below, and the kept customer at the end.
  await ok(manager.post(`/deals/${deal.id}/archive`, { reason: 'contract test' }));
  await ok(manager.post(`/deals/${deal.id}/restore`, {}));
  // Won, then reopened (issue 16).
  const reopened = await ok(manager.post('/deals', { customerId: s.keptId, title: 'Reopened', amount: 20 }));
  await ok(manager.post(`/deals/${reopened.id}/win`, {}));
  await ok(manager.post(`/deals/${reopened.id}/reopen`, { reason: 'contract test' }));
  // Merged into the kept customer, then unmerged (issue 16).
  const duplicate = await ok(manager.post('/customers', { name: 'Ada Duplicate', source: 'web' }));
  await ok(manager.post(`/customers/${duplicate.id}/merge`, { intoId: s.keptId, reason: 'contract test' }));
  await ok(manager.post(`/customers/${duplicate.id}/unmerge`, { reason: 'contract test' }));
  // A task edited (its new subject sealed with the customer's key), reassigned, then cancelled.
  const task = await ok(manager.post('/tasks', { subject: 'Call Ada', dueAt: '2030-01-01T00:00:00Z', customerId: s.keptId }));
  await ok(manager.patch(`/tasks/${task.id}`, { subject: 'Email Ada', dueAt: '2030-01-02T00:00:00Z' }));
  await ok(manager.post(`/tasks/${task.id}/owner`, { ownerId: 'rep-contract' }));
  await ok(manager.post(`/tasks/${task.id}/cancel`, { reason: 'contract test' }));
  const goal = await ok(manager.post('/goals', { kpi: 'winRate', target: 0.3, deadline: '2030-01-01T00:00:00Z', name: 'Win more' }));
  await ok(manager.post(`/goals/${goal.id}/cancel`, { reason: 'contract test' }));
  const lead = await ok(manager.post('/leads', { name: 'Grace', email: `grace.${randomUUID()}@example.com`, source: 'web' }));
  await ok(manager.post(`/leads/${lead.id}/archive`, {}));
  await ok(manager.post(`/leads/${lead.id}/restore`, { reason: 'contract test' }));
  await ok(manager.delete(`/leads/${lead.id}/personal-data`));
  await ok(manager.delete(`/customers/${s.customerId}/personal-data`));
  // Enrolment and tags come from automation rules only (off in tests): decided by the customer's
  // decider and appended through the app's store, sealed like any other append.
  const stream = streamIdOf('customer', s.keptId);
  const state = fold(customerDecider, (await t.store.readStream(stream)) as never);
  const occurredAt = new Date().toISOString();
  const decided = [
    ...customerDecider.decide(
      { type: 'EnrollCustomer', data: { customerId: s.keptId, campaign: 'nurture', reason: 'rule' }, occurredAt },
      state,
    ),
    ...customerDecider.decide({ type: 'TagCustomer', data: { customerId: s.keptId, tag: 'vip' }, occurredAt }, state),
  ];
  await t.store.append(
    stream,
    decided.map((e) => ({
      eventId: randomUUID(),
      type: e.type,
      data: e.data,
      schemaVersion: schemaVersionOf(e.type),
      metadata: { occurredAt, actor: 'automation', correlationId: 'contract', causationId: 'contract' },
    })),
  );
  await ok(manager.post(`/customers/${s.keptId}/archive`, { reason: 'contract test' }));
  await ok(manager.post(`/customers/${s.keptId}/restore`, {}));
}, 120_000);
afterAll(() => t?.close());

describe('the contract against GET /events', () => {
  it('every event of the feed, of every type, matches its schema', async () => {
    const service = client(t, 'service');
    const seen = new Map<string, number>();
    const problems: string[] = [];
    let after = 0;
    for (;;) {
      const page = await service.get(`/events?after=${after}&limit=1000`);
      expect(page.status).toBe(200);
      problems.push(...contract.feedPageProblems(page.body).slice(0, 5));
      for (const event of page.body.events as Array<{ type: string; globalPosition: number }>) {
        seen.set(event.type, (seen.get(event.type) ?? 0) + 1);
        problems.push(...contract.problems(event).map((p) => `#${event.globalPosition} ${event.type}: ${p}`));
      }
      after = page.body.checkpoint;
      if (page.body.isEnd) break;
    }
    expect(problems.slice(0, 20)).toEqual([]);
    // Every event type appeared at least once, so every schema was checked against real events.
    expect([...seen.keys()].sort()).toEqual(Object.keys(schemaVersions).sort());
    expect([...seen.values()].reduce((a, b) => a + b)).toBe(await t.store.headPosition());
  }, 60_000);

  it('refuses what differs: a missing field, a personal field in clear, a wrong schemaVersion, an unknown type', async () => {
    const page = await client(t, 'service').get('/events?types=CustomerRegistered&limit=1');
    const event = page.body.events[0];
    expect(contract.problems(event)).toEqual([]);
    const { source: _, ...withoutSource } = event.data;
    expect(contract.problems({ ...event, data: withoutSource }).join()).toContain("must have required property 'source'");
    expect(contract.problems({ ...event, data: { ...event.data, name: 'Ada' } }).join()).toContain('must NOT have additional properties');
    expect(contract.problems({ ...event, schemaVersion: 2 }).join()).toContain('schemaVersion');
    expect(contract.problems({ ...event, type: 'CustomerRenamed' }).join()).toContain('unknown event type');
  });
});

describe('the contract against webhook deliveries', () => {
  const receiver = new WebhookReceiver();
  afterAll(() => receiver.stop());

  it('every delivery body, with every event of every type, matches the WebhookDelivery schema', async () => {
    await receiver.start();
    const created = await client(t, 'manager').post('/webhooks', { url: receiver.url('/contract') });
    receiver.secrets.set(created.body.id, created.body.secret);
    const head = await t.store.headPosition();
    await receiver.waitUntil(() => receiver.firstReceptions().length === head, 30_000, 'the whole feed');
    expect(receiver.received.flatMap((r) => r.contractProblems).slice(0, 20)).toEqual([]);
    expect(receiver.received.every((r) => r.signatureValid)).toBe(true);
    expect([...new Set(receiver.firstReceptions().map((e) => e.type))].sort()).toEqual(Object.keys(schemaVersions).sort());
  }, 60_000);
});

describe('GET /asyncapi.json', () => {
  it('serves the committed contract, without a key', async () => {
    const res = await request(t.http).get('/asyncapi.json');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    expect(res.body).toEqual(JSON.parse(readFileSync(join(__dirname, '..', '..', 'docs', 'asyncapi.json'), 'utf8')));
    expect(res.body).toMatchObject({ asyncapi: '3.0.0', channels: { deal: { address: 'crm.deal' } } });
  });
});
