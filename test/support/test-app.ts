import 'reflect-metadata';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { mkdtempSync, rmSync } from 'node:fs';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { EventStore, RecordedEvent } from '@chronicle/event-store';
import { EVENT_STORE, loadConfig, Role, Roles } from '@chronicle/infrastructure';
import { createApp } from '../../apps/api/src/app.factory';
import { eventStoreEnv } from './event-store-under-test';

export type Keys = Record<Role, string>;

export interface TestApp {
  app: NestFastifyApplication;
  /** A supertest target: `request(t.http).post(...)`. */
  http: Server;
  keys: Keys;
  /** Actor names per role (what lands in each event's `actor`). */
  actors: Record<Role, string>;
  /** Authorization header for a role: `.set(t.as('rep'))`. */
  as(role: Role): { Authorization: string };
  /** Authorization header for one of `options.extraActors` (e.g. a second rep): `.set(t.asActor('rep-other'))`. */
  asActor(actor: string): { Authorization: string };
  store: EventStore;
  dataDir: string;
  /** Every event of a stream (empty when it does not exist). */
  events(streamId: string): Promise<RecordedEvent[]>;
  close(): Promise<void>;
}

export function makeKeys(): { keys: Keys; actors: Record<Role, string>; env: string } {
  const keys = {} as Keys;
  const actors = {} as Record<Role, string>;
  for (const role of Roles) {
    keys[role] = `test-${role}-${randomBytes(12).toString('hex')}`;
    actors[role] = `${role}-user`;
  }
  const env = Roles.map((role) => `${keys[role]}:${actors[role]}:${role}`).join(',');
  return { keys, actors, env };
}

/** Starts the API on a fresh temporary DATA_DIR with one API key per role. */
export async function startTestApp(
  options: {
    processManagers?: boolean;
    env?: NodeJS.ProcessEnv;
    extraActors?: Array<{ actor: string; role: Role }>;
    /** Reuse this DATA_DIR and keep it on close (restart tests). */
    dataDir?: string;
  } = {},
): Promise<TestApp> {
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'chronicle-e2e-'));
  const made = makeKeys();
  const { keys, actors } = made;
  const extraKeys = new Map(
    (options.extraActors ?? []).map(({ actor, role }) => [actor, { key: `test-${actor}-${randomBytes(12).toString('hex')}`, role }]),
  );
  const env = [made.env, ...[...extraKeys].map(([actor, { key, role }]) => `${key}:${actor}:${role}`)].join(',');
  const eventStore = await eventStoreEnv();
  // Sales automation appends to lead and customer streams on its own; suites that count events or
  // revisions exactly run without it, the automation suites turn it on (AUTOMATION: 'on'). Suites
  // send many requests without a key from one address: the per-address limit is off but in the
  // abuse suites, which set UNAUTHENTICATED_LIMIT_PER_MINUTE.
  const config = loadConfig({
    DATA_DIR: dataDir,
    API_KEYS: env,
    LOG_LEVEL: 'silent',
    SQLITE_SYNCHRONOUS: 'NORMAL',
    AUTOMATION: 'off',
    UNAUTHENTICATED_LIMIT_PER_MINUTE: '0',
    ...eventStore.env,
    ...options.env,
  });
  const app = await createApp(config, { processManagers: options.processManagers ?? true, announce: () => undefined });
  await app.getHttpAdapter().getInstance().ready();
  const store = app.get<EventStore>(EVENT_STORE);
  let closed = false;
  return {
    app,
    http: app.getHttpServer(),
    keys,
    actors,
    as: (role) => ({ Authorization: `Bearer ${keys[role]}` }),
    asActor: (actor) => {
      const extra = extraKeys.get(actor);
      if (!extra) throw new Error(`no key for ${actor}: pass it in extraActors`);
      return { Authorization: `Bearer ${extra.key}` };
    },
    store,
    dataDir,
    events: (streamId) => store.readStream(streamId),
    close: async () => {
      if (closed) return;
      closed = true;
      try {
        await app.close();
        await eventStore.stop();
      } finally {
        if (!options.dataDir) rmSync(dataDir, { recursive: true, force: true });
      }
    },
  };
}
