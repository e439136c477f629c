import { appendFixtureHistory, readFixtureHistory } from '../support/fixture-history';
import { client } from '../support/http';
import { startTestApp, TestApp } from '../support/test-app';

/**
 * A history stored by schema version 1 of InteractionLogged (test/fixtures/histories), in an
 * upgraded deployment: every route reads it as version 2 — read models, `?asOf=` folds, the
 * event feed — and the audit trail says what is stored and that it was upcast
 * (docs/schema-evolution.md). Runs on EventStoreDB too (npm run test:eventstoredb).
 */

let t: TestApp;
let api: ReturnType<typeof client>;
const history = readFixtureHistory('v1-interactions');
const streamId = history[0].streamId;
const customerId = history[0].data.customerId as string;
const interactionIds = history.filter((e) => e.type === 'InteractionLogged').map((e) => e.data.interactionId as string);
const meeting = { medium: 'meeting', live: true };
const web = { medium: 'web', live: false };

beforeAll(async () => {
  t = await startTestApp({ processManagers: false });
  api = client(t, 'admin');
  // Through the app's store, as version 1 appended them: personal fields sealed, schemaVersion 1 kept.
  await appendFixtureHistory(t.store, history);
});
afterAll(async () => {
  await t?.close();
});

type Audited = { type: string; schemaVersion: number; storedSchemaVersion: number; upcast: boolean; data: Record<string, unknown> };

describe('a history stored at InteractionLogged version 1', () => {
  it('the audit trail shows each event as read (version 2) with the version it is stored with', async () => {
    const res = await client(t, 'service').get(`/streams/${streamId}/events`);
    expect(res.status).toBe(200);
    const events = res.body.events as Audited[];
    expect(events.map((e) => [e.type, e.schemaVersion, e.storedSchemaVersion, e.upcast])).toEqual([
      ['CustomerRegistered', 1, 1, false],
      ...Array(5).fill(['InteractionLogged', 2, 1, true]),
    ]);
    // The stored fields unchanged (personal ones opened again), plus the channel.
    expect(events[3].data).toEqual({ ...history[3].data, channel: meeting });
  });

  it('an interaction logged today with the same body is written at version 2: nothing to upcast', async () => {
    const res = await api.post(`/customers/${customerId}/interactions`, {
      type: 'call',
      direction: 'inbound',
      subject: 'Follow-up',
      durationMinutes: 10,
      occurredAt: '2024-03-25T09:00:00Z',
    });
    expect(res.status).toBe(201);
    const audit = await api.get(`/streams/${streamId}/events?direction=backwards&limit=1`);
    const [latest] = audit.body.events as Audited[];
    expect([latest.schemaVersion, latest.storedSchemaVersion, latest.upcast]).toEqual([2, 2, false]);
    expect(latest.data).toMatchObject({ type: 'call', channel: { medium: 'voice', live: true } });
  });

  it('an ?asOf= fold sees version 2: the latest interaction then, with its channel', async () => {
    const then = await api.get(`/customers/${customerId}?asOf=2024-03-12T23:59:59Z`);
    expect(then.status).toBe(200);
    expect(then.body.state).toMatchObject({
      interactions: 3,
      lastInteraction: { interactionId: interactionIds[2], occurredAt: '2024-03-12T14:00:00.000Z', channel: meeting },
    });
    const before = await api.get(`/customers/${customerId}?asOf=2024-03-24T00:00:00Z`);
    expect(before.body.state).toMatchObject({ interactions: 5, lastInteraction: { interactionId: interactionIds[4], channel: web } });
  });

  it('the read models are built from version 2: the timeline shows every interaction with its channel', async () => {
    const res = await api.latest(`/customers/${customerId}/timeline`);
    expect(res.status).toBe(200);
    const interactions = (res.body.items as Array<{ type: string; details: Record<string, unknown> }>).filter(
      (e) => e.type === 'InteractionLogged',
    );
    expect(interactions.map((e) => [e.details.interactionType, e.details.channel])).toEqual([
      ['call', { medium: 'voice', live: true }],
      ['web-visit', web],
      ['note', { medium: 'internal', live: false }],
      ['meeting', meeting],
      ['email', { medium: 'email', live: false }],
      ['call', { medium: 'voice', live: true }],
    ]);
    const customer = await api.latest(`/customers/${customerId}`);
    expect(customer.body.totals).toMatchObject({ interactions: 6, lastInteractionAt: '2024-03-25T09:00:00.000Z' });
  });

  it('the event feed carries version 2 in the envelope', async () => {
    const res = await client(t, 'service').get('/events?types=InteractionLogged');
    expect(res.status).toBe(200);
    const envelopes = res.body.events as Array<{ schemaVersion: number; data: Record<string, unknown> }>;
    expect(envelopes).toHaveLength(6);
    for (const envelope of envelopes) expect([envelope.schemaVersion, typeof envelope.data.channel]).toEqual([2, 'object']);
  });
});
