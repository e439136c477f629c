import { request as httpRequest } from 'node:http';
import { AcquisitionProcessManager } from '@chronicle/commands';
import type { RecordedEvent } from '@chronicle/event-store';
import { client } from './http';
import { listen } from './raw-http';
import type { TestApp } from './test-app';

/** Helpers shared by the e2e suites that walk through the HTTP API one concern at a time. */

export const types = (events: RecordedEvent[]) => events.map((e) => e.type);

export const iso = (ms: number) => new Date(ms).toISOString();

/** A request with exactly these headers (as the admin) and this body: no Content-Length unless given, as curl -X POST sends. */
export async function rawRequest(app: TestApp, method: string, path: string, headers: Record<string, string>, body?: string) {
  const port = await listen(app.http);
  return new Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: any }>((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, method, path, headers: { ...app.as('admin'), ...headers } }, (res) => {
      let text = '';
      res.on('data', (chunk) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: text ? JSON.parse(text) : undefined }));
    });
    req.on('error', reject);
    // Node would add Transfer-Encoding: chunked to a request ended without a length; flushing the
    // headers first and ending with nothing sends none of them (useChunkedEncodingByDefault off).
    (req as unknown as { useChunkedEncodingByDefault: boolean }).useChunkedEncodingByDefault = false;
    req.end(body);
  });
}

/**
 * Commands that create a record as the admin, asserting the 201, and a wait for the acquisition
 * process manager. `app` is read on each call, so the helpers can be made before `beforeAll` has
 * started the app.
 */
export function sessionHelpers(app: () => TestApp) {
  const admin = () => client(app(), 'admin');

  async function registerCustomer(body: Record<string, unknown> = {}): Promise<string> {
    const res = await admin().post('/customers', { name: 'Ada Lovelace', source: 'web', ...body });
    expect(res.status).toBe(201);
    return res.body.id;
  }

  async function openDeal(customerId: string, body: Record<string, unknown> = {}): Promise<string> {
    const res = await admin().post('/deals', { customerId, title: 'Annual licence', amount: 24000, ...body });
    expect(res.status).toBe(201);
    return res.body.id;
  }

  async function captureLead(body: Record<string, unknown> = {}): Promise<string> {
    const res = await admin().post('/leads', { name: 'Grace Hopper', email: 'grace@example.com', source: 'webinar', ...body });
    expect(res.status).toBe(201);
    return res.body.id;
  }

  async function createTask(body: Record<string, unknown> = {}): Promise<string> {
    const res = await admin().post('/tasks', { subject: 'Call back', dueAt: '2030-01-01T09:00:00Z', ...body });
    expect(res.status).toBe(201);
    return res.body.id;
  }

  /** Waits until the acquisition process manager has handled everything in the store. */
  async function processManagerCaughtUp(): Promise<void> {
    const t = app();
    const pm = t.app.get(AcquisitionProcessManager);
    // The last event the process manager reacts to: a filtered feed (EventStoreDB) need not report
    // checkpoints beyond it, so "caught up" means "past the last DealWon / LeadConverted".
    let last = 0;
    for (let from = 0; ;) {
      const page = await t.store.readAll({ fromPosition: from, maxCount: 1000, filter: { types: ['DealWon', 'LeadConverted'] } });
      if (page.events.length) last = page.events[page.events.length - 1].globalPosition;
      from = page.checkpoint;
      if (page.isEnd) break;
    }
    const deadline = Date.now() + 5000;
    while (pm.checkpoint < last) {
      if (Date.now() > deadline) throw new Error(`process manager stuck at ${pm.checkpoint}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  return { registerCustomer, openDeal, captureLead, createTask, processManagerCaughtUp };
}
