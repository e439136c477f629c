import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AcquisitionProcessManager, StallProcessManager } from '@chronicle/commands';
import { ERASED } from '@chronicle/domain';
import { PersonalDataEventStore } from '@chronicle/personal-data';
import { appendDirectly, client, expectNothingAppended } from '../support/http';
import { startTestApp, TestApp } from '../support/test-app';

// Erasing a customer erases every lead that became them (converted into a new customer, or into
// the customer once it existed), whatever step an earlier attempt stopped at, and whatever order
// a conversion and the erasure happen in.
let t: TestApp;
let manager: ReturnType<typeof client>;

beforeAll(async () => {
  t = await startTestApp();
  manager = client(t, 'manager');
});
afterAll(async () => {
  await t?.close();
});

const ok = async (response: PromiseLike<{ status: number; body: any }>, status = 200) => {
  const r = await response;
  if (r.status !== status) throw new Error(`expected ${status}, got ${r.status}: ${JSON.stringify(r.body)}`);
  return r.body;
};
const tag = () => randomUUID().slice(0, 8);
const captureLead = async (name: string, email: string) =>
  (await ok(manager.post('/leads', { name, email, source: 'ads' }), 201)).id as string;
const registerCustomer = async (email: string) =>
  (await ok(manager.post('/customers', { name: 'Ada Lovelace', email, source: 'web' }), 201)).id as string;
const types = async (streamId: string) => (await t.events(streamId)).map((e) => e.type);
const acquisitionCaughtUp = () => t.app.get(AcquisitionProcessManager).caughtUp();

/** A customer registered on its own, then two leads (the same person) converted into it. */
async function customerWithTwoLeads() {
  const emails = [`ada.${tag()}@engines.example`, `augusta.${tag()}@byron.example`];
  const customerId = await registerCustomer(`ada.${tag()}@lovelace.example`);
  const leadIds: string[] = [];
  for (const email of emails) {
    const leadId = await captureLead('Augusta Ada King', email);
    await ok(manager.post(`/leads/${leadId}/convert`, { customerId }));
    leadIds.push(leadId);
  }
  return { customerId, leadIds, emails };
}

async function expectLeadErased(leadId: string, email: string) {
  expect((await types(`lead-${leadId}`)).filter((type) => type === 'LeadPersonalDataErased')).toHaveLength(1);
  expect((await manager.latest(`/leads/${leadId}`)).body).toMatchObject({ name: ERASED, email: ERASED, status: 'converted' });
  expect(JSON.stringify(await t.events(`lead-${leadId}`))).not.toContain(email);
  expect((await client(t, 'service').get(`/personal-data/keys/lead-${leadId}`)).status).toBe(410);
}

it('erases the leads converted into an existing customer: their views, audit trails and keys', async () => {
  const { customerId, leadIds, emails } = await customerWithTwoLeads();
  expect(await types(`customer-${customerId}`)).toEqual(['CustomerRegistered', 'CustomerLeadLinked', 'CustomerLeadLinked']);
  await ok(manager.delete(`/customers/${customerId}/personal-data`));
  for (const [i, leadId] of leadIds.entries()) await expectLeadErased(leadId, emails[i]);
  const feed = JSON.stringify((await t.store.readAll({ maxCount: 10_000 })).events);
  for (const email of emails) expect(feed).not.toContain(email);
});

it('a retry finishes an erasure that stopped after destroying the key, before any event', async () => {
  const { customerId, leadIds, emails } = await customerWithTwoLeads();
  await t.app.get(PersonalDataEventStore).erase(`customer-${customerId}`); // the crash: nothing else happened
  await ok(manager.delete(`/customers/${customerId}/personal-data`));
  expect((await types(`customer-${customerId}`)).filter((type) => type === 'CustomerPersonalDataErased')).toHaveLength(1);
  for (const [i, leadId] of leadIds.entries()) await expectLeadErased(leadId, emails[i]);
});

it('a retry erases the leads an earlier attempt left alive after recording the customer erased', async () => {
  const { customerId, leadIds, emails } = await customerWithTwoLeads();
  await t.app.get(PersonalDataEventStore).erase(`customer-${customerId}`);
  await appendDirectly(t, `customer-${customerId}`, 'CustomerPersonalDataErased', { customerId });
  expect((await manager.latest(`/leads/${leadIds[0]}`)).body.email).toBe(emails[0]); // the state the crash left
  const head = await t.store.headPosition();
  await ok(manager.delete(`/customers/${customerId}/personal-data`));
  expect((await types(`customer-${customerId}`)).filter((type) => type === 'CustomerPersonalDataErased')).toHaveLength(1);
  for (const [i, leadId] of leadIds.entries()) await expectLeadErased(leadId, emails[i]);
  expect(await t.store.headPosition()).toBe(head + 2); // the two leads' events, nothing else
  // Erasing once more appends nothing at all.
  await expectNothingAppended(t, () => ok(manager.delete(`/customers/${customerId}/personal-data`)));
});

it('a conversion whose link was never written (a crash) is linked by the process manager, so erasure finds it', async () => {
  const email = `ada.${tag()}@engines.example`;
  const customerId = await registerCustomer(`ada.${tag()}@lovelace.example`);
  const leadId = await captureLead('Ada King', email);
  await appendDirectly(t, `lead-${leadId}`, 'LeadConverted', { leadId, customerId, source: 'ads' });
  await acquisitionCaughtUp();
  expect(await types(`customer-${customerId}`)).toContain('CustomerLeadLinked');
  await ok(manager.delete(`/customers/${customerId}/personal-data`));
  await expectLeadErased(leadId, email);
});

it('a conversion recorded after the erasure (they raced) erases the lead as soon as it is linked', async () => {
  const email = `ada.${tag()}@engines.example`;
  const customerId = await registerCustomer(`ada.${tag()}@lovelace.example`);
  const leadId = await captureLead('Ada King', email);
  await ok(manager.delete(`/customers/${customerId}/personal-data`));
  await appendDirectly(t, `lead-${leadId}`, 'LeadConverted', { leadId, customerId, source: 'ads' });
  await acquisitionCaughtUp();
  expect((await types(`customer-${customerId}`)).slice(-2)).toEqual(['CustomerPersonalDataErased', 'CustomerLeadLinked']);
  await expectLeadErased(leadId, email);
});

it('refuses to convert a lead into an erased customer (422), appending nothing', async () => {
  const customerId = await registerCustomer(`ada.${tag()}@lovelace.example`);
  await ok(manager.delete(`/customers/${customerId}/personal-data`));
  const leadId = await captureLead('Ada King', `ada.${tag()}@engines.example`);
  const refused = await expectNothingAppended(t, () => manager.post(`/leads/${leadId}/convert`, { customerId }));
  expect(refused.status).toBe(422);
  expect(refused.body).toMatchObject({ code: 'personal-data-erased' });
  expect(refused.body.message).toContain(`customer-${customerId}`);
});

describe('automation after an erasure', () => {
  let auto: TestApp;
  const configDir = mkdtempSync(join(tmpdir(), 'chronicle-erasure-stall-'));
  beforeAll(async () => {
    const pipeline = join(configDir, 'pipeline.json');
    writeFileSync(
      pipeline,
      JSON.stringify({
        stages: [
          { name: 'qualification', probability: 0.1, stallAfterDays: 7 },
          { name: 'proposal', probability: 0.5 },
        ],
      }),
    );
    auto = await startTestApp({ env: { AUTOMATION: 'on', PIPELINE_FILE: pipeline, STALL_CHECK_SECONDS: '3600' } });
  });
  afterAll(async () => {
    await auto?.close();
    rmSync(configDir, { recursive: true, force: true });
  });

  it("a stalled deal of an erased customer still gets its reminder, about the deal alone (the customer's key is gone)", async () => {
    const api = client(auto, 'manager');
    const customerId = (await ok(api.post('/customers', { name: 'Ada Lovelace', source: 'web' }), 201)).id;
    const dealId = (
      await ok(
        api.post('/deals', { customerId, title: 'Engine', amount: 20, occurredAt: new Date(Date.now() - 10 * 86_400_000).toISOString() }),
        201,
      )
    ).id;
    await ok(api.delete(`/customers/${customerId}/personal-data`));
    const stall = auto.app.get(StallProcessManager);
    await stall.caughtUp();
    expect(await stall.sweep()).toBe(1);
    const tasks = (await auto.store.readAll({ maxCount: 10_000, filter: { types: ['TaskCreated'] } })).events.map((e) => e.data);
    expect(tasks).toEqual([expect.objectContaining({ dealId, subject: 'Deal stalled in qualification for more than 7 days' })]);
    expect(tasks[0]).not.toHaveProperty('customerId');
  });
});
