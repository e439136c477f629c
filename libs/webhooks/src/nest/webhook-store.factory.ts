import { join } from 'node:path';
import { ChronicleConfig, onOwnMongoClient } from '@chronicle/infrastructure';
import { MongoWebhookStore } from '../mongo-webhook-store';
import { SqliteWebhookStore } from '../sqlite-webhook-store';
import type { WebhookStore } from '../webhook-store';

/** Webhook subscriptions and dead letters beside the shared state: MongoDB when the read models are there, else `DATA_DIR/webhooks.db`. */
export async function createWebhookStore(config: ChronicleConfig): Promise<WebhookStore> {
  if (config.readStore !== 'mongodb') return new SqliteWebhookStore(join(config.dataDir, 'webhooks.db'));
  return onOwnMongoClient(config, (db) => new MongoWebhookStore(db));
}
