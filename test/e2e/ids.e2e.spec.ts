import { randomUUID } from 'node:crypto';
import { generateHistory } from '../../apps/cli/src/seed/generator';
import { appendHistory } from '../../apps/cli/src/seed/seed';
import { client, expectNothingAppended } from '../support/http';
import { startTestApp, TestApp } from '../support/test-app';

/**
 * Record ids: a UUID is case-insensitive, so every spelling names one record (ids are stored
 * lower-case); and an id a command refers to must exist, belong where the command says, and be
 * within the caller's scope.
 */

let t: TestApp;
let manager: ReturnType<typeof client>;

beforeAll(async () => {
  t = await startTestApp({ extraActors: [{ actor: 'rep-other', role: 'rep' }] });
  manager = client(t, 'manager');
});
afterAll(() => t?.close());

describe('ids are case-insensitive', () => {
  it('an upper-case spelling of an existing id is the same record: creating it again is a 409', async () => {
    const id = randomUUID();
    const created = await manager.post('/customers', { id: id.toUpperCase(), name: 'Ada Lovelace', source: 'web' });
    expect([created.status, created.body.id, created.body.streamId]).toEqual([201, id, `customer-${id}`]);
    const again = await expectNothingAppended(t, () => manager.post('/customers', { id, name: 'Ada Lovelace', source: 'web' }));
    expect(again.status).toBe(409);
    const upper = await expectNothingAppended(t, () =>
      manager.post('/customers', { id: id.toUpperCase(), name: 'Ada Lovelace', source: 'web' }),
    );
    expect(upper.status).toBe(409);
  });

  it('paths, bodies and list filters in upper case reach the lower-case record', async () => {
    const customerId = (await manager.post('/customers', { name: 'Grace Hopper', source: 'web' })).body.id as string;
    const deal = await manager.post('/deals', { customerId: customerId.toUpperCase(), title: 'Licence', amount: 100 });
    expect(deal.status).toBe(201);
    expect((await t.events(`deal-${deal.body.id}`))[0].data).toMatchObject({ customerId });
    const staged = await manager.post(`/deals/${deal.body.id.toUpperCase()}/stage`, { stage: 'proposal' });
    expect([staged.status, staged.body.streamId]).toEqual([200, `deal-${deal.body.id}`]);
    const view = await manager.get(`/customers/${customerId.toUpperCase()}?minPosition=${staged.body.position}`);
    expect([view.status, view.body.id]).toEqual([200, customerId]);
    const list = await manager.get(`/deals?customerId=${customerId.toUpperCase()}&minPosition=${staged.body.position}`);
    expect(list.body.items.map((d: { id: string }) => d.id)).toEqual([deal.body.id]);
    const asOf = await manager.get(`/deals/${deal.body.id.toUpperCase()}?asOf=${new Date().toISOString()}`);
    expect([asOf.status, asOf.body.streamId]).toEqual([200, `deal-${deal.body.id}`]);
  });
});

describe('ids a command refers to', () => {
  it("an interaction's dealId must be a deal of that customer, and for a rep one it owns (nothing appended otherwise)", async () => {
    const rep = client(t, 'rep');
    const customer = (await manager.post('/customers', { name: 'Ada', source: 'web', ownerId: t.actors.rep })).body.id as string;
    const other = (await manager.post('/customers', { name: 'Bob', source: 'web', ownerId: t.actors.rep })).body.id as string;
    const own = (await manager.post('/deals', { customerId: customer, title: 'Mine', amount: 5, ownerId: t.actors.rep })).body.id as string;
    const theirs = (await manager.post('/deals', { customerId: customer, title: 'Theirs', amount: 5, ownerId: 'rep-other' })).body
      .id as string;
    const elsewhere = (await manager.post('/deals', { customerId: other, title: 'Elsewhere', amount: 5, ownerId: t.actors.rep })).body
      .id as string;
    const log = (who: ReturnType<typeof client>, dealId: string) =>
      who.post(`/customers/${customer}/interactions`, { type: 'call', direction: 'outbound', subject: 'Check-in', dealId });

    expect((await log(rep, own)).status).toBe(201);
    expect((await log(rep, own.toUpperCase())).status).toBe(201);
    const ofAnother = await expectNothingAppended(t, () => log(rep, theirs));
    expect([ofAnother.status, ofAnother.body.message]).toEqual([403, expect.stringContaining(`deal-${theirs} is owned by someone else`)]);
    for (const who of [rep, manager]) {
      const wrongCustomer = await expectNothingAppended(t, () => log(who, elsewhere));
      expect([wrongCustomer.status, wrongCustomer.body.message]).toEqual([
        422,
        `dealId: deal-${elsewhere} is a deal of another customer, not of customer-${customer}`,
      ]);
      const missing = randomUUID();
      const unknown = await expectNothingAppended(t, () => log(who, missing));
      expect([unknown.status, unknown.body.message]).toEqual([422, `dealId: deal-${missing} does not exist`]);
    }
    expect((await log(manager, theirs)).status).toBe(201);
  });

  it("a lead's campaignId must be an existing campaign", async () => {
    const missing = randomUUID();
    const refused = await expectNothingAppended(t, () => manager.post('/leads', { name: 'Grace', source: 'web', campaignId: missing }));
    expect([refused.status, refused.body.message]).toEqual([422, `campaignId: campaign-${missing} does not exist`]);
    const campaign = (await manager.post('/campaigns', { name: 'Spring', channel: 'email' })).body.id as string;
    expect((await manager.post('/leads', { name: 'Grace', source: 'web', campaignId: campaign.toUpperCase() })).status).toBe(201);
  });
});

describe('seeded records', () => {
  it('are named by UUIDs: a seeded customer and lead can be read and erased through the API', async () => {
    const history = generateHistory({ events: 400, seed: 5, end: new Date('2026-01-01T00:00:00Z') });
    await appendHistory(t.store, history);
    const customerId = (history.find((e) => e.type === 'CustomerRegistered')!.data as { customerId: string }).customerId;
    const leadId = (history.find((e) => e.type === 'LeadCaptured')!.data as { leadId: string }).leadId;
    const admin = client(t, 'admin');
    expect((await admin.latest(`/customers/${customerId}`)).status).toBe(200);
    expect((await admin.latest(`/leads/${leadId}`)).status).toBe(200);
    expect((await admin.delete(`/customers/${customerId}/personal-data`)).status).toBe(200);
    expect((await admin.delete(`/leads/${leadId}/personal-data`)).status).toBe(200);
    expect((await admin.get(`/customers/${customerId}?asOf=${new Date().toISOString()}`)).body.state).toMatchObject({ name: '[erased]' });
  });
});
