import { CommandBus } from '@nestjs/cqrs';
import { CustomerMessage } from '@chronicle/commands';
import type { RecordedEvent } from '@chronicle/event-store';
import { client } from '../support/http';
import { startTestApp, TestApp } from '../support/test-app';

let t: TestApp;
let api: ReturnType<typeof client>;

beforeAll(async () => {
  t = await startTestApp();
  api = client(t, 'admin');
});
afterAll(async () => {
  await t?.close();
});

const N = 50;

/** Revisions 0..n-1 exactly once each, and global positions strictly increasing with them. */
function expectContiguous(events: RecordedEvent[], length: number): void {
  expect(events.map((e) => e.streamRevision)).toEqual(Array.from({ length }, (_, i) => i));
  for (let i = 1; i < events.length; i++) expect(events[i].globalPosition).toBeGreaterThan(events[i - 1].globalPosition);
  expect(new Set(events.map((e) => e.eventId)).size).toBe(length);
}

describe('optimistic concurrency under load', () => {
  it(`lets exactly one of ${N} concurrent stage changes with the same If-Match through; the others get 409`, async () => {
    const customer = await api.post('/customers', { name: 'Contended' });
    const deal = await api.post('/deals', { customerId: customer.body.id, title: 'Hot deal', amount: 1000 });
    expect(deal.status).toBe(201);
    const dealId = deal.body.id as string;
    const stages = ['needs-analysis', 'proposal', 'negotiation'];
    const head = await t.store.headPosition();

    const responses = await Promise.all(
      Array.from({ length: N }, (_, i) => api.post(`/deals/${dealId}/stage`, { stage: stages[i % stages.length] }, { 'If-Match': '0' })),
    );

    const statuses = responses.map((r) => r.status);
    const winners = responses.filter((r) => r.status >= 200 && r.status < 300);
    expect(winners).toHaveLength(1);
    expect(statuses.filter((s) => s === 409)).toHaveLength(N - 1);
    expect(winners[0].body).toMatchObject({ id: dealId, streamId: `deal-${dealId}`, revision: 1 });
    for (const r of responses.filter((r) => r.status === 409)) {
      expect(r.body).toMatchObject({ code: 'wrong-expected-revision', currentRevision: expect.any(Number) });
    }

    const events = await t.events(`deal-${dealId}`);
    expectContiguous(events, 2);
    expect(events[1]).toMatchObject({ type: 'DealStageChanged', globalPosition: winners[0].body.position });
    // Exactly one event appended anywhere (positions need not be consecutive on every store).
    expect((await t.store.readAll({ fromPosition: head, maxCount: 100 })).events).toHaveLength(1);

    // The winner's stage is the deal's stage.
    const view = await api.latest(`/deals/${dealId}`);
    expect(view.body).toMatchObject({ id: dealId, stage: (events[1].data as { to: string }).to });
  });

  it(`appends all ${N} concurrent interactions on one customer (no If-Match), with contiguous revisions`, async () => {
    const customer = await api.post('/customers', { name: 'Chatty' });
    const customerId = customer.body.id as string;
    const responses = await Promise.all(
      Array.from({ length: N }, (_, i) =>
        api.post(`/customers/${customerId}/interactions`, {
          type: 'call',
          direction: i % 2 ? 'inbound' : 'outbound',
          subject: `call ${i}`,
        }),
      ),
    );
    expect(responses.map((r) => r.status)).toEqual(Array(N).fill(201));

    const events = await t.events(`customer-${customerId}`);
    expectContiguous(events, N + 1);
    // Every acknowledged write is the event at the revision and position it was acknowledged with.
    const byRevision = new Map(events.map((e) => [e.streamRevision, e]));
    const revisions = new Set<number>();
    for (const r of responses) {
      const event = byRevision.get(r.body.revision)!;
      expect(event).toMatchObject({ type: 'InteractionLogged', globalPosition: r.body.position, data: { interactionId: r.body.id } });
      revisions.add(r.body.revision);
    }
    expect(revisions.size).toBe(N);
    expect(new Set(events.slice(1).map((e) => (e.data as { subject: string }).subject)).size).toBe(N);
  });

  it(`never answers 409 to writers that sent no If-Match: ${N} concurrent profile updates all land`, async () => {
    const customer = await api.post('/customers', { name: 'Busy' });
    const customerId = customer.body.id as string;
    const responses = await Promise.all(
      Array.from({ length: N }, (_, i) => api.patch(`/customers/${customerId}`, { company: `Company ${i}` })),
    );
    expect(responses.map((r) => r.status)).toEqual(Array(N).fill(200));
    const events = await t.events(`customer-${customerId}`);
    expectContiguous(events, N + 1);
    expect(new Set(responses.map((r) => r.body.revision))).toEqual(new Set(events.slice(1).map((e) => e.streamRevision)));
  });

  it(`lands ${N} commands on one stream sent in the same tick without an expected revision (no retry storm)`, async () => {
    const customer = await api.post('/customers', { name: 'Same tick' });
    const customerId = customer.body.id as string;
    const bus = t.app.get(CommandBus);
    const context = { actor: 'concurrency-test', correlationId: 'same-tick', causationId: 'same-tick' };
    const results = await Promise.allSettled(
      Array.from({ length: N }, (_, i) =>
        bus.execute(
          new CustomerMessage(
            { type: 'UpdateCustomerProfile', data: { customerId, company: `Tick ${i}` }, occurredAt: new Date().toISOString() },
            context,
          ),
        ),
      ),
    );
    expect(results.filter((r) => r.status === 'rejected').map((r) => String(r.reason))).toEqual([]);
    expectContiguous(await t.events(`customer-${customerId}`), N + 1);
  });
});
