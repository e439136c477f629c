import { EventFeedStreams } from '../../apps/api/src/events/event-feed.streams';
import { eventStoreUnderTest } from '../support/event-store-under-test';
import { client } from '../support/http';
import { listen } from '../support/raw-http';
import { sse } from '../support/sse';
import { startTestApp, TestApp } from '../support/test-app';

/**
 * GET /events: the global feed for services without Kafka, in the Kafka envelope with personal
 * fields sealed; pages by position, or followed live as Server-Sent Events that resume with
 * Last-Event-ID.
 */

let t: TestApp;
let port: number;
let manager: ReturnType<typeof client>;
let service: ReturnType<typeof client>;

interface Envelope {
  envelopeVersion: number;
  eventId: string;
  type: string;
  streamId: string;
  globalPosition: number;
  data: Record<string, unknown>;
}

beforeAll(async () => {
  t = await startTestApp({ env: { WEBHOOK_ALLOWED_HOSTS: '127.0.0.1' } });
  port = await listen(t.http);
  manager = client(t, 'manager');
  service = client(t, 'service');
  const customer = (await manager.post('/customers', { name: 'Ada Lovelace', email: 'ada@example.com', source: 'web' })).body.id;
  const deal = (await manager.post('/deals', { customerId: customer, title: 'Licence', amount: 1200 })).body.id;
  await manager.post(`/deals/${deal}/win`);
  await manager.post('/customers', { name: 'Grace Hopper', email: 'grace@example.com', source: 'ads' });
});
afterAll(() => t?.close());

const url = (path: string) => `http://127.0.0.1:${port}${path}`;

describe('GET /events, pages', () => {
  it('pages through the whole feed in append order, each page saying where to continue', async () => {
    const all = (await t.store.readAll({ fromPosition: 0, maxCount: 1000 })).events;
    const seen: Envelope[] = [];
    let after = 0;
    for (let pages = 0; pages < 50; pages++) {
      const page = await service.get(`/events?after=${after}&limit=2`);
      expect(page.status).toBe(200);
      seen.push(...page.body.events);
      // (On EventStoreDB a checkpoint may also pass the system events scanned after the page's last event.)
      expect(page.body.checkpoint).toBeGreaterThanOrEqual(page.body.events.at(-1)?.globalPosition ?? after);
      after = page.body.checkpoint;
      if (page.body.isEnd) break;
    }
    expect(seen.map((e) => [e.globalPosition, e.eventId, e.type])).toEqual(all.map((e) => [e.globalPosition, e.eventId, e.type]));
    expect(seen.every((e) => e.envelopeVersion === 1)).toBe(true);
  });

  it('seals personal fields as Kafka does (the audit trail, for the same event, opens them)', async () => {
    const page = await service.get('/events?types=CustomerRegistered');
    const ada = (page.body.events as Envelope[])[0];
    expect(JSON.stringify(ada)).not.toContain('ada@example.com');
    expect(JSON.stringify(ada)).not.toContain('Lovelace');
    const trail = await manager.get(`/streams/${ada.streamId}/events`);
    expect(trail.body.events[0].data).toMatchObject({ name: 'Ada Lovelace', email: 'ada@example.com' });
  });

  it('filters by event types and stream categories', async () => {
    const won = await service.get('/events?types=DealWon');
    expect(won.body.events.map((e: Envelope) => e.type)).toEqual(['DealWon']);
    const deals = await service.get('/events?categories=deal,campaign');
    expect(deals.body.events.map((e: Envelope) => e.type)).toEqual(['DealOpened', 'DealWon']);
    const both = await service.get('/events?categories=customer&types=CustomerAcquired,DealWon');
    expect(both.body.events.map((e: Envelope) => e.type)).toEqual(['CustomerAcquired']);
    expect(both.body.isEnd).toBe(true);
  });

  it('names what is wrong in a 400', async () => {
    const type = await service.get('/events?types=DealWon,DealWonn');
    expect([type.status, type.body.message]).toEqual([
      400,
      expect.stringMatching(/^types: "DealWonn" is not an event type; event types: /),
    ]);
    const category = await service.get('/events?categories=customers');
    expect([category.status, category.body.message]).toEqual([
      400,
      'categories: "customers" is not a stream category; stream categories: customer, lead, deal, campaign, spend, task, goal',
    ]);
    const empty = await service.get('/events?types=DealWon,');
    expect(empty.status).toBe(400);
    for (const query of ['after=-1', 'after=x', 'limit=0', 'limit=1001'])
      expect([query, (await service.get(`/events?${query}`)).status]).toEqual([query, 400]);
  });

  it('an invented position: SQLite pages on after it; EventStoreDB, whose positions are log offsets, refuses it with a 400 naming the parameter', async () => {
    const first = (await t.store.readAll({ fromPosition: 0, maxCount: 2 })).events;
    const invented = first[0].globalPosition + 1; // between two events on EventStoreDB (each takes a log record's bytes)
    const webhook = (await manager.post('/webhooks', { url: 'http://127.0.0.1:9/hook' })).body.id as string;
    if (eventStoreUnderTest() === 'eventstoredb') {
      expect(first[1].globalPosition).toBeGreaterThan(invented);
      const message = `${invented} is not a position of this event store: use 0 (the start) or a checkpoint the feed handed out`;
      const page = await service.get(`/events?after=${invented}`);
      expect([page.status, page.body.message]).toEqual([400, `after: ${message}`]);
      const live = await fetch(url('/events'), {
        headers: { ...t.as('service'), Accept: 'text/event-stream', 'Last-Event-ID': String(invented) },
      });
      expect([live.status, ((await live.json()) as { message: string }).message]).toEqual([400, `Last-Event-ID: ${message}`]);
      const replay = await manager.post(`/webhooks/${webhook}/replay`, { fromPosition: invented });
      expect([replay.status, replay.body.message]).toEqual([400, `fromPosition: ${message}`]);
    } else {
      const page = await service.get(`/events?after=${invented}`);
      expect([page.status, page.body.events[0]?.globalPosition]).toEqual([200, invented + 1]);
      expect((await manager.post(`/webhooks/${webhook}/replay`, { fromPosition: invented })).status).toBe(202);
    }
    await manager.delete(`/webhooks/${webhook}`);
  });

  it('is open to the audit access (admin, manager, service), not to reps or analysts', async () => {
    for (const role of ['admin', 'manager', 'service'] as const)
      expect([role, (await client(t, role).get('/events')).status]).toEqual([role, 200]);
    for (const role of ['rep', 'analyst'] as const) expect([role, (await client(t, role).get('/events')).status]).toEqual([role, 403]);
  });
});

describe('GET /events as Server-Sent Events', () => {
  it('sends the history, then each new event live, the SSE id being its position', async () => {
    const before = (await service.get('/events?categories=customer&limit=1000')).body.events as Envelope[];
    const stream = await sse(url('/events?categories=customer'), t.as('service'));
    try {
      expect([stream.status, stream.headers.get('content-type')]).toEqual([200, 'text/event-stream; charset=utf-8']);
      expect(stream.headers.get('x-correlation-id')).toBeTruthy();
      await stream.waitFor(before.length);
      const created = await manager.post('/customers', { name: 'Live One', source: 'web' });
      const messages = await stream.waitFor(before.length + 1);
      const received = messages.map((m) => JSON.parse(m.data) as Envelope);
      expect(received.map((e) => e.eventId)).toEqual([...before.map((e) => e.eventId), received.at(-1)!.eventId]);
      expect(received.at(-1)).toMatchObject({
        type: 'CustomerRegistered',
        streamId: created.body.streamId,
        globalPosition: created.body.position,
      });
      expect(messages.map((m) => m.id)).toEqual(received.map((e) => String(e.globalPosition)));
      expect(JSON.stringify(received)).not.toContain('ada@example.com');
    } finally {
      stream.close();
    }
  });

  it('resumes after Last-Event-ID (over `after`), and refuses one that is not a position', async () => {
    const all = (await service.get('/events?limit=1000')).body.events as Envelope[];
    const stream = await sse(url('/events?after=0'), { ...t.as('service'), 'Last-Event-ID': String(all[1].globalPosition) });
    try {
      const messages = await stream.waitFor(all.length - 2);
      expect(messages.map((m) => Number(m.id))).toEqual(all.slice(2).map((e) => e.globalPosition));
    } finally {
      stream.close();
    }
    const bad = await fetch(url('/events'), { headers: { ...t.as('service'), Accept: 'text/event-stream', 'Last-Event-ID': 'abc' } });
    expect([bad.status, ((await bad.json()) as { message: string }).message]).toEqual([
      400,
      'Last-Event-ID: must be an event position (the id of the last event received)',
    ]);
  });

  it('a closed client frees its stream; a refused key gets no stream', async () => {
    const streams = t.app.get(EventFeedStreams);
    const stream = await sse(url('/events'), t.as('admin'));
    await stream.waitFor(1);
    expect(streams.size).toBe(1);
    stream.close();
    for (let i = 0; i < 50 && streams.size > 0; i++) await new Promise((r) => setTimeout(r, 20));
    expect(streams.size).toBe(0);
    const rep = await fetch(url('/events'), { headers: { ...t.as('rep'), Accept: 'text/event-stream' } });
    expect([rep.status, rep.headers.get('content-type')]).toEqual([403, 'application/json; charset=utf-8']);
  });

  it('shutting the server down ends the live feeds instead of waiting for them', async () => {
    const other = await startTestApp();
    const otherPort = await listen(other.http);
    const stream = await sse(`http://127.0.0.1:${otherPort}/events`, other.as('service'));
    const started = Date.now();
    await other.close();
    await stream.ended;
    expect(Date.now() - started).toBeLessThan(3_000);
  });
});
