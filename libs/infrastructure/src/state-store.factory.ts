import { Logger, Provider } from '@nestjs/common';
import { Db, MongoClient } from 'mongodb';
import { join } from 'node:path';
import { MongoStateStore, RoleCoordinator, SqliteStateStore, StateStore } from '@chronicle/cluster';
import { databaseFromUrl } from '@chronicle/read-store';
import type { ChronicleConfig } from './config';
import { CONFIG, COORDINATOR, STATE_STORE } from './tokens';

/**
 * The shared state (checkpoints, Idempotency-Key results, leases): in MongoDB when the read models
 * are (the read store's database), so that nothing of it lives only on one machine's disk;
 * otherwise `DATA_DIR/state.db`, shared by the processes of one host.
 */
export async function createStateStore(config: ChronicleConfig): Promise<StateStore> {
  if (config.readStore !== 'mongodb') return new SqliteStateStore(join(config.dataDir, 'state.db'));
  return onOwnMongoClient(config, (db) => new MongoStateStore(db));
}

/**
 * A store on the read store's MongoDB database, with a client of its own that its `close()`
 * closes too (the shared state and the webhook subscriptions).
 */
export async function onOwnMongoClient<S extends { close(): Promise<void> }>(config: ChronicleConfig, open: (db: Db) => S): Promise<S> {
  const client = new MongoClient(config.mongoUrl!, { ignoreUndefined: true });
  await client.connect();
  const store = open(client.db(databaseFromUrl(config.mongoUrl!) ?? 'chronicle'));
  const close = store.close.bind(store);
  store.close = async () => {
    await close();
    await client.close();
  };
  return store;
}

/** STATE_STORE and COORDINATOR, for the apps' infrastructure modules. */
export function clusterProviders(config: ChronicleConfig): Provider[] {
  const logger = new Logger('Cluster');
  return [
    { provide: STATE_STORE, useFactory: () => createStateStore(config) },
    {
      provide: COORDINATOR,
      inject: [STATE_STORE, CONFIG],
      useFactory: (state: StateStore, cfg: ChronicleConfig) =>
        new RoleCoordinator(state, {
          timeoutMs: cfg.lease.timeoutMs,
          renewMs: cfg.lease.renewMs,
          pinned: cfg.pinnedRoles,
          log: (level, message) =>
            level === 'info'
              ? logger.log(message)
              : level === 'warn'
                ? logger.warn(message)
                : level === 'error'
                  ? logger.error(message)
                  : logger.debug(message),
        }),
    },
  ];
}
