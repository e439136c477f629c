import { randomUUID } from 'node:crypto';
import type { RecordedEvent } from '@chronicle/event-store';
import { client } from '../support/http';
import { sessionHelpers } from '../support/session';
import { startTestApp, TestApp } from '../support/test-app';

/**
 * The audit trail: a stream's raw events with their metadata, paged (docs/http-api.md).
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

const { registerCustomer } = sessionHelpers(() => t);

describe('audit trail', () => {
  it('pages forwards and backwards with limit, fromRevision and nextRevision', async () => {
    const customerId = await registerCustomer();
    for (let i = 0; i < 6; i++) {
      expect(
        (await api.post(`/customers/${customerId}/interactions`, { type: 'note', direction: 'outbound', subject: `note ${i}` })).status,
      ).toBe(201);
    }
    const streamId = `customer-${customerId}`;
    const page = async (query: string) => {
      const res = await client(t, 'service').get(`/streams/${streamId}/events?${query}`);
      expect(res.status).toBe(200);
      return {
        revisions: res.body.events.map((e: RecordedEvent) => e.streamRevision),
        next: res.body.nextRevision,
        direction: res.body.direction,
      };
    };
    expect(await page('limit=3')).toEqual({ revisions: [0, 1, 2], next: 3, direction: 'forwards' });
    expect(await page('limit=3&fromRevision=3')).toEqual({ revisions: [3, 4, 5], next: 6, direction: 'forwards' });
    expect(await page('limit=3&fromRevision=6')).toEqual({ revisions: [6], next: null, direction: 'forwards' });
    expect(await page('limit=3&fromRevision=7')).toEqual({ revisions: [], next: null, direction: 'forwards' });
    expect(await page('')).toEqual({ revisions: [0, 1, 2, 3, 4, 5, 6], next: null, direction: 'forwards' });
    expect(await page('direction=backwards&limit=3')).toEqual({ revisions: [6, 5, 4], next: 3, direction: 'backwards' });
    expect(await page('direction=backwards&limit=3&fromRevision=3')).toEqual({ revisions: [3, 2, 1], next: 0, direction: 'backwards' });
    expect(await page('direction=backwards&limit=3&fromRevision=0')).toEqual({ revisions: [0], next: null, direction: 'backwards' });

    for (const bad of ['limit=0', 'limit=1001', 'limit=x', 'fromRevision=-1', 'fromRevision=1e308', 'direction=sideways', 'unknown=1']) {
      const res = await api.get(`/streams/${streamId}/events?${bad}`);
      expect([bad, res.status]).toEqual([bad, 400]);
    }
    expect((await api.get(`/streams/customer-${randomUUID()}/events`)).status).toBe(404);
    expect((await api.get('/streams/not%20a%20stream/events')).status).toBe(400);
  });
});
