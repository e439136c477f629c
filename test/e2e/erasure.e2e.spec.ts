import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { ERASED } from '@chronicle/domain';
import { client } from '../support/http';
import { ErasureScenario, reportFigures, seedErasureScenario } from '../support/erasure-scenario';
import { startTestApp, TestApp } from '../support/test-app';

// GDPR erasure by crypto-shredding on the embedded default (SQLite event store, embedded read
// store, SQLite key store). The integration tier repeats it on FerretDB and Kafka.
let t: TestApp;
let s: ErasureScenario;
let manager: ReturnType<typeof client>;
let before: Record<string, unknown>;

/** Every byte of every file in DATA_DIR (event store, read store, key store, state, and their WALs). */
const dataDirBytes = () => {
  const files = readdirSync(t.dataDir).filter((f) => statSync(join(t.dataDir, f)).isFile());
  return { files, bytes: Buffer.concat(files.map((f) => readFileSync(join(t.dataDir, f)))) };
};
const holds = (bytes: Buffer, text: string) => bytes.includes(Buffer.from(text)) || bytes.includes(Buffer.from(text.toLowerCase()));

beforeAll(async () => {
  t = await startTestApp();
  manager = client(t, 'manager');
  s = await seedErasureScenario(t);
  before = await reportFigures(t);
}, 60_000);
afterAll(async () => {
  await t?.close();
});

describe('before erasure', () => {
  it('the personal fields are readable, yet the event store files never held them', async () => {
    expect((await manager.latest(`/customers/${s.customerId}`)).body).toMatchObject({ name: 'Ada Lovelace', email: s.email });
    const { files, bytes } = dataDirBytes();
    expect(files).toEqual(expect.arrayContaining(['events.db', 'keys.db']));
    // The read models hold the email in clear (they are rebuildable caches), which makes the search after erasure meaningful.
    expect(holds(bytes, s.email)).toBe(true);
    for (const text of s.freeText) if (text !== s.leadInteractionSubject) expect([text, holds(bytes, text)]).toEqual([text, true]);
    const eventFiles = Buffer.concat(files.filter((f) => f.startsWith('events.db')).map((f) => readFileSync(join(t.dataDir, f))));
    expect(eventFiles.includes(Buffer.from(s.customerId))).toBe(true);
    expect(holds(eventFiles, s.keptTaskSubject)).toBe(true); // a task about no one: in clear
    for (const text of [s.email, s.leadEmail, ...s.linkedLeadEmails, 'Lovelace', '+44 20 7946', ...s.freeText])
      expect(holds(eventFiles, text)).toBe(false);
  });

  it('free text about the person is readable, and the customer stream names every lead converted into them', async () => {
    const timeline = JSON.stringify((await manager.latest(`/customers/${s.customerId}/timeline`)).body);
    expect(timeline).toContain('Follow-up 2: call Ada Lovelace');
    expect((await manager.latest(`/tasks/${s.personTaskIds[0]}`)).body).toMatchObject({ subject: 'Call Ada Lovelace on +44 20 7946 0001' });
    const linked = (await t.events(`customer-${s.customerId}`))
      .filter((e) => e.type === 'CustomerLeadLinked')
      .map((e) => (e.data as { leadId: string }).leadId);
    expect(linked).toEqual(s.linkedLeadIds);
  });

  it('only admins and managers may erase; others get a 403 and nothing is appended', async () => {
    const head = await t.store.headPosition();
    for (const role of ['rep', 'analyst', 'service'] as const) {
      expect((await client(t, role).delete(`/customers/${s.customerId}/personal-data`)).status).toBe(403);
    }
    expect(await t.store.headPosition()).toBe(head);
  });
});

describe('DELETE /customers/:id/personal-data', () => {
  let erased: { status: number; body: any };

  beforeAll(async () => {
    erased = await manager.delete(`/customers/${s.customerId}/personal-data`);
  });

  it('destroys the key, appends CustomerPersonalDataErased, and erases every lead that became the customer', async () => {
    expect(erased.status).toBe(200);
    expect(erased.body).toMatchObject({ id: s.customerId, streamId: `customer-${s.customerId}` });
    const customerEvents = await t.events(`customer-${s.customerId}`);
    expect(customerEvents.at(-1)).toMatchObject({
      type: 'CustomerPersonalDataErased',
      actor: 'manager-user',
      data: { customerId: s.customerId },
    });
    for (const leadId of [s.leadId, ...s.linkedLeadIds]) {
      expect((await t.events(`lead-${leadId}`)).at(-1)).toMatchObject({
        type: 'LeadPersonalDataErased',
        actor: 'manager-user',
        data: { leadId },
      });
      expect((await client(t, 'service').get(`/personal-data/keys/lead-${leadId}`)).status).toBe(410);
    }
    // The key endpoint of downstream consumers answers 410 for good.
    expect((await client(t, 'service').get(`/personal-data/keys/customer-${s.customerId}`)).status).toBe(410);
    expect((await client(t, 'service').get(`/personal-data/keys/customer-${s.keptId}`)).status).toBe(200);
  });

  it('leaves no byte of the email, name, phone or free text about them in any file of DATA_DIR', async () => {
    await manager.latest(`/customers/${s.customerId}`); // the projector has applied the erasure
    const { bytes } = dataDirBytes();
    for (const text of [
      s.email,
      s.leadEmail,
      ...s.linkedLeadEmails,
      'Ada Lovelace',
      'Augusta Ada Byron',
      '+44 20 7946 0001',
      ...s.freeText,
    ])
      expect([text, holds(bytes, text)]).toEqual([text, false]);
    expect(holds(bytes, s.keptEmail)).toBe(true);
    expect(holds(bytes, s.keptTaskSubject)).toBe(true);
  });

  it('shows the fields as erased on every read path: read models, search, asOf, audit trail, timeline', async () => {
    const view = (await manager.latest(`/customers/${s.customerId}`)).body;
    expect(view).toMatchObject({ name: ERASED, email: ERASED, phone: ERASED, region: 'EU', source: 'webinar' });
    expect(view.attributes ?? null).toBeNull();
    expect((await manager.latest(`/leads/${s.leadId}`)).body).toMatchObject({ name: ERASED, email: ERASED });
    expect((await manager.latest(`/customers?q=${encodeURIComponent(s.email)}`)).body.items).toEqual([]);
    expect((await manager.latest(`/customers?q=lovelace`)).body.items).toEqual([]);
    const asOf = (await manager.get(`/customers/${s.customerId}?asOf=2024-06-01T00:00:00Z`)).body;
    expect(asOf.state).toMatchObject({ name: ERASED, email: ERASED, phone: ERASED });
    for (const leadId of s.linkedLeadIds)
      expect((await manager.latest(`/leads/${leadId}`)).body).toMatchObject({
        name: ERASED,
        email: ERASED,
        source: 'ads',
        status: 'converted',
      });
    const trails = [
      `customer-${s.customerId}`,
      `lead-${s.leadId}`,
      ...s.linkedLeadIds.map((id) => `lead-${id}`),
      ...s.personTaskIds.map((id) => `task-${id}`),
    ];
    for (const streamId of trails) {
      const trail = JSON.stringify((await manager.get(`/streams/${streamId}/events`)).body);
      expect(trail).toContain(ERASED);
      for (const text of [s.email, ...s.linkedLeadEmails, 'Lovelace', 'Augusta', '+44 20', 'call ada', ...s.freeText])
        expect([streamId, trail.toLowerCase().includes(text.toLowerCase())]).toEqual([streamId, false]);
    }
    // The export (`chronicle export`) reads the same opened feed.
    const feed = JSON.stringify((await t.store.readAll({ maxCount: 10_000 })).events);
    for (const text of [s.email, ...s.linkedLeadEmails, 'Lovelace', ...s.freeText]) expect(feed).not.toContain(text);
    expect(feed).toContain(s.keptTaskSubject);
    const timeline = (await manager.latest(`/customers/${s.customerId}/timeline`)).body;
    const interactions = timeline.items.filter((e: { type: string }) => e.type === 'InteractionLogged');
    expect(interactions.map((e: { details: object }) => e.details)).toEqual(
      [2, 1, 0].map((i) => expect.objectContaining({ subject: ERASED, outcome: ERASED, interactionType: ['call', 'email', 'meeting'][i] })),
    );
    expect(timeline.items.find((e: { type: string }) => e.type === 'PurchaseRecorded').details).toMatchObject({
      amount: 300,
      description: ERASED,
    });
    expect(JSON.stringify(timeline)).not.toContain('Lovelace');
    for (const taskId of s.personTaskIds) expect((await manager.latest(`/tasks/${taskId}`)).body).toMatchObject({ subject: ERASED });
    expect((await manager.latest(`/tasks/${s.personTaskIds[0]}`)).body).toMatchObject({ outcome: ERASED, status: 'completed' });
    expect((await manager.latest(`/tasks/${s.keptTaskId}`)).body).toMatchObject({ subject: s.keptTaskSubject });
    // The other customer is untouched.
    expect((await manager.latest(`/customers/${s.keptId}`)).body).toMatchObject({ name: 'Grace Hopper', email: s.keptEmail });
  });

  it('keeps every report figure unchanged', async () => {
    expect(await reportFigures(t)).toEqual(before);
  });

  it('is final: personal fields and free text about them cannot be recorded again (422), other fields can, and erasing again appends nothing', async () => {
    const refused = await manager.patch(`/customers/${s.customerId}`, { email: 'again@example.org' });
    expect(refused.status).toBe(422);
    expect(refused.body.message).toMatch(/erased/);
    const texts = [
      await manager.post(`/customers/${s.customerId}/interactions`, { type: 'call', direction: 'inbound', subject: 'Ada called again' }),
      await manager.post(`/customers/${s.customerId}/purchases`, { amount: 1, description: 'for Ada' }),
      await manager.post('/tasks', { subject: 'Call Ada', dueAt: '2030-01-01T00:00:00Z', customerId: s.customerId }),
      await manager.post(`/leads/${s.linkedLeadIds[0]}/interactions`, { type: 'call', subject: 'Ada again' }),
    ];
    expect(texts.map((r) => [r.status, r.body.code])).toEqual(Array(4).fill([422, 'personal-data-erased']));
    expect((await manager.patch(`/customers/${s.customerId}`, { region: 'US' })).status).toBe(200);
    const head = await t.store.headPosition();
    const again = await client(t, 'admin').delete(`/customers/${s.customerId}/personal-data`);
    expect(again.status).toBe(200);
    expect(await t.store.headPosition()).toBe(head);
  });

  it('survives a rebuild: the replayed read models show the fields and the free text erased', async () => {
    for (const name of ['customers', 'customer-timeline', 'tasks']) {
      const generation = (await manager.get('/projections')).body.projections.find((p: { name: string }) => p.name === name).generation;
      expect((await client(t, 'admin').post(`/projections/${name}/rebuild`)).status).toBe(202);
      for (let i = 0; i < 200; i++) {
        const p = (await manager.get('/projections')).body.projections.find((x: { name: string }) => x.name === name);
        if (p.generation > generation && p.status === 'live') break;
        await new Promise((r) => setTimeout(r, 50));
      }
    }
    expect((await manager.latest(`/customers/${s.customerId}`)).body).toMatchObject({
      name: ERASED,
      email: ERASED,
      totals: { purchases: { count: 1, amount: 300 }, wonDeals: { count: 1, amount: 1200 } },
    });
    const timeline = (await manager.latest(`/customers/${s.customerId}/timeline`)).body;
    expect(
      timeline.items
        .filter((e: { type: string }) => e.type === 'InteractionLogged')
        .map((e: { details: { subject: string } }) => e.details.subject),
    ).toEqual([ERASED, ERASED, ERASED]);
    expect((await manager.latest(`/tasks/${s.personTaskIds[0]}`)).body).toMatchObject({ subject: ERASED, outcome: ERASED });
    expect(await reportFigures(t)).toEqual(before);
  });

  it('answers 404 for an unknown customer and 400 for a malformed id, appending nothing', async () => {
    const head = await t.store.headPosition();
    const del = (id: string) => client(t, 'admin').delete(`/customers/${id}/personal-data`);
    expect((await del('00000000-0000-4000-8000-000000000000')).status).toBe(404);
    expect((await del('not-a-uuid')).status).toBe(400);
    expect((await client(t, 'service').get('/personal-data/keys/customer-x')).status).toBe(400);
    expect(await t.store.headPosition()).toBe(head);
  });
});

describe('DELETE /leads/:id/personal-data', () => {
  it('erases a lead on its own; an erased lead cannot become a customer', async () => {
    const lead = (await manager.post('/leads', { name: 'Mary Somerville', email: 'mary.somerville@example.org', source: 'ads' })).body;
    const r = await manager.delete(`/leads/${lead.id}/personal-data`);
    expect(r.status).toBe(200);
    expect((await t.events(`lead-${lead.id}`)).map((e) => e.type)).toEqual(['LeadCaptured', 'LeadPersonalDataErased']);
    expect((await manager.latest(`/leads/${lead.id}`)).body).toMatchObject({ name: ERASED, email: ERASED, source: 'ads' });
    const convert = await manager.post(`/leads/${lead.id}/convert`, {});
    expect(convert.status).toBe(422);
    expect(convert.body.code).toBe('personal-data-erased');
    expect(holds(dataDirBytes().bytes, 'mary.somerville@example.org')).toBe(false);
  });
});
