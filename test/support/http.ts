import { randomUUID } from 'node:crypto';
import request from 'supertest';
import { schemaVersionOf } from '@chronicle/domain';
import type { Role } from '@chronicle/infrastructure';
import type { TestApp } from './test-app';

export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export type Headers = Record<string, string>;

/** Thin supertest helpers bound to one test app and one role. */
export function client(t: TestApp, role: Role = 'admin') {
  const auth = () => t.as(role);
  return {
    get: (url: string, headers: Headers = {}) => request(t.http).get(url).set(auth()).set(headers),
    /** A read-model query once the projections have reached the store's head (`?minPosition=`). */
    latest: async (url: string, headers: Headers = {}) => {
      const head = await t.store.headPosition();
      return request(t.http)
        .get(`${url}${url.includes('?') ? '&' : '?'}minPosition=${head}`)
        .set(auth())
        .set(headers);
    },
    post: (url: string, body?: unknown, headers: Headers = {}) => {
      const r = request(t.http).post(url).set(auth()).set(headers);
      return body === undefined ? r : r.send(body as object);
    },
    patch: (url: string, body?: unknown, headers: Headers = {}) => {
      const r = request(t.http).patch(url).set(auth()).set(headers);
      return body === undefined ? r : r.send(body as object);
    },
    delete: (url: string, headers: Headers = {}) => request(t.http).delete(url).set(auth()).set(headers),
    /** Sends `text` verbatim as an application/json body (malformed JSON, top-level scalars, raw numbers like -0 or 1e400). */
    raw: (method: 'post' | 'patch', url: string, text: string, headers: Headers = {}) =>
      request(t.http)[method](url).set(auth()).set('Content-Type', 'application/json').set(headers).send(text),
  };
}

/** Runs `action` and asserts that the store's head position did not move. */
export async function expectNothingAppended<T>(t: TestApp, action: () => Promise<T>): Promise<T> {
  const before = await t.store.headPosition();
  const result = await action();
  expect(await t.store.headPosition()).toBe(before);
  return result;
}

/** Appends an event straight to the app's store, as a handler would have before a crash (or an older version did). */
export const appendDirectly = (t: TestApp, streamId: string, type: string, data: Record<string, unknown>) =>
  t.store.append(streamId, [
    {
      eventId: randomUUID(),
      type,
      data,
      schemaVersion: schemaVersionOf(type),
      metadata: { occurredAt: new Date().toISOString(), actor: 'test', correlationId: randomUUID(), causationId: randomUUID() },
    },
  ]);
