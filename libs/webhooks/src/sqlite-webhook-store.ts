import type Database from 'better-sqlite3';
import { openSqlite } from '@chronicle/sqlite';
import type { DeadLetter, WebhookChanges, WebhookStatus, WebhookStore, WebhookSubscription } from './webhook-store';

type SubscriptionRow = {
  id: string;
  url: string;
  event_types: string | null;
  categories: string | null;
  secret: string;
  status: WebhookStatus;
  created_at: string;
  created_by: string;
  updated_at: string;
  replay_from: number | null;
  replay_requested_at: string | null;
};
type DeadLetterRow = {
  subscription_id: string;
  id: string;
  events: string;
  from_position: number;
  to_position: number;
  attempts: number;
  last_status: number | null;
  last_error: string;
  failed_at: string;
};

const json = (value: unknown[] | undefined) => (value === undefined ? null : JSON.stringify(value));

/** A row as a record without keys for absent fields (callers and the contract compare whole records). */
const subscriptionOf = (r: SubscriptionRow): WebhookSubscription => ({
  id: r.id,
  url: r.url,
  ...(r.event_types !== null && { eventTypes: JSON.parse(r.event_types) as string[] }),
  ...(r.categories !== null && { categories: JSON.parse(r.categories) as string[] }),
  secret: r.secret,
  status: r.status,
  createdAt: r.created_at,
  createdBy: r.created_by,
  updatedAt: r.updated_at,
  ...(r.replay_requested_at !== null && { replay: { fromPosition: r.replay_from!, requestedAt: r.replay_requested_at } }),
});

const rowOf = (s: WebhookSubscription): SubscriptionRow => ({
  id: s.id,
  url: s.url,
  event_types: json(s.eventTypes),
  categories: json(s.categories),
  secret: s.secret,
  status: s.status,
  created_at: s.createdAt,
  created_by: s.createdBy,
  updated_at: s.updatedAt,
  replay_from: s.replay?.fromPosition ?? null,
  replay_requested_at: s.replay?.requestedAt ?? null,
});

const deadLetterOf = (r: DeadLetterRow): DeadLetter => ({
  id: r.id,
  subscriptionId: r.subscription_id,
  events: JSON.parse(r.events) as unknown[],
  fromPosition: r.from_position,
  toPosition: r.to_position,
  attempts: r.attempts,
  ...(r.last_status !== null && { lastStatus: r.last_status }),
  lastError: r.last_error,
  failedAt: r.failed_at,
});

/** The fields `update` may change: any other key of the changes (a caller passing on a request body as it came) is ignored. */
const changeable = ['url', 'eventTypes', 'categories', 'status', 'replay'] as const;

/** The subscription after the changes; `unset` wins over a value given for the same field. */
function applyChanges(current: WebhookSubscription, changes: WebhookChanges, updatedAt: string): WebhookSubscription {
  const next: WebhookSubscription = { ...current, updatedAt };
  // A key given as undefined changes nothing (removing a field is what `unset` is for).
  for (const key of changeable) if (changes[key] !== undefined) Object.assign(next, { [key]: changes[key] });
  for (const key of changes.unset ?? []) delete next[key];
  return next;
}

/**
 * Webhook subscriptions and dead letters in a SQLite file (`DATA_DIR/webhooks.db`) that the
 * processes of one host share. Updates read and write in a BEGIN IMMEDIATE transaction (the
 * file's write lock is taken before the read), so a change from another process is never lost.
 */
export class SqliteWebhookStore implements WebhookStore {
  readonly kind = 'sqlite' as const;
  private readonly db: Database.Database;
  private readonly stmt;
  private readonly updateTx;
  private readonly removeTx;

  constructor(filename: string) {
    // secure_delete: removed subscriptions' secrets and dead letters' events (personal data) are zeroed, not left in free pages.
    this.db = openSqlite(filename, { synchronous: 'FULL', secureDelete: true });
    // In a transaction: several processes may open (and create) the file at once.
    this.db.transaction(() => this.migrate()).immediate();

    const subscriptionColumns =
      'id, url, event_types, categories, secret, status, created_at, created_by, updated_at, replay_from, replay_requested_at';
    const deadLetterColumns = 'subscription_id, id, events, from_position, to_position, attempts, last_status, last_error, failed_at';
    this.stmt = {
      insert: this.db.prepare<[SubscriptionRow]>(
        `INSERT INTO webhooks (${subscriptionColumns}) VALUES (@id, @url, @event_types, @categories, @secret, @status, @created_at,
           @created_by, @updated_at, @replay_from, @replay_requested_at)`,
      ),
      get: this.db.prepare<[string], SubscriptionRow>(`SELECT ${subscriptionColumns} FROM webhooks WHERE id = ?`),
      list: this.db.prepare<[], SubscriptionRow>(`SELECT ${subscriptionColumns} FROM webhooks ORDER BY created_at, id`),
      replace: this.db.prepare<[SubscriptionRow]>(
        `UPDATE webhooks SET url = @url, event_types = @event_types, categories = @categories, status = @status,
           updated_at = @updated_at, replay_from = @replay_from, replay_requested_at = @replay_requested_at WHERE id = @id`,
      ),
      // The requestedAt in the WHERE clause: a newer request made meanwhile changes no row.
      clearReplay: this.db.prepare<[string, string]>(
        'UPDATE webhooks SET replay_from = NULL, replay_requested_at = NULL WHERE id = ? AND replay_requested_at = ?',
      ),
      remove: this.db.prepare<[string]>('DELETE FROM webhooks WHERE id = ?'),
      removeDeadLetters: this.db.prepare<[string]>('DELETE FROM webhook_dead_letters WHERE subscription_id = ?'),
      addDeadLetter: this.db.prepare<[DeadLetterRow]>(
        `INSERT INTO webhook_dead_letters (${deadLetterColumns}) VALUES (@subscription_id, @id, @events, @from_position, @to_position,
           @attempts, @last_status, @last_error, @failed_at)`,
      ),
      deadLetters: this.db.prepare<[string], DeadLetterRow>(
        `SELECT ${deadLetterColumns} FROM webhook_dead_letters WHERE subscription_id = ? ORDER BY from_position, id`,
      ),
      deadLetter: this.db.prepare<[string, string], DeadLetterRow>(
        `SELECT ${deadLetterColumns} FROM webhook_dead_letters WHERE subscription_id = ? AND id = ?`,
      ),
      updateDeadLetter: this.db.prepare<[number, number | null, string, string, string, string]>(
        `UPDATE webhook_dead_letters SET attempts = ?, last_status = ?, last_error = ?, failed_at = ? WHERE subscription_id = ? AND id = ?`,
      ),
      removeDeadLetter: this.db.prepare<[string, string]>('DELETE FROM webhook_dead_letters WHERE subscription_id = ? AND id = ?'),
    };

    this.updateTx = this.db.transaction((id: string, changes: WebhookChanges, updatedAt: string): WebhookSubscription | undefined => {
      const row = this.stmt.get.get(id);
      if (!row) return undefined;
      const next = applyChanges(subscriptionOf(row), changes, updatedAt);
      this.stmt.replace.run(rowOf(next));
      return next;
    });
    this.removeTx = this.db.transaction((id: string): boolean => {
      // Its dead letters go even when the subscription is gone already (they would be unreachable).
      this.stmt.removeDeadLetters.run(id);
      return this.stmt.remove.run(id).changes === 1;
    });
  }

  private migrate(): void {
    this.db.exec(`
      CREATE TABLE IF NOT EXISTS webhooks (
        id TEXT PRIMARY KEY, url TEXT NOT NULL, event_types TEXT, categories TEXT, secret TEXT NOT NULL, status TEXT NOT NULL,
        created_at TEXT NOT NULL, created_by TEXT NOT NULL, updated_at TEXT NOT NULL,
        replay_from INTEGER, replay_requested_at TEXT
      );
      CREATE INDEX IF NOT EXISTS webhooks_created ON webhooks (created_at, id);
      CREATE TABLE IF NOT EXISTS webhook_dead_letters (
        subscription_id TEXT NOT NULL, id TEXT NOT NULL, events TEXT NOT NULL,
        from_position INTEGER NOT NULL, to_position INTEGER NOT NULL, attempts INTEGER NOT NULL,
        last_status INTEGER, last_error TEXT NOT NULL, failed_at TEXT NOT NULL,
        PRIMARY KEY (subscription_id, id)
      );
      CREATE INDEX IF NOT EXISTS webhook_dead_letters_order ON webhook_dead_letters (subscription_id, from_position, id);`);
  }

  async create(subscription: WebhookSubscription): Promise<void> {
    // A duplicate id fails on the primary key.
    this.stmt.insert.run(rowOf(subscription));
  }

  async list(): Promise<WebhookSubscription[]> {
    return this.stmt.list.all().map(subscriptionOf);
  }

  async get(id: string): Promise<WebhookSubscription | undefined> {
    const row = this.stmt.get.get(id);
    return row && subscriptionOf(row);
  }

  async update(id: string, changes: WebhookChanges, updatedAt: string): Promise<WebhookSubscription | undefined> {
    return this.updateTx.immediate(id, changes, updatedAt);
  }

  async clearReplay(id: string, requestedAt: string): Promise<boolean> {
    return this.stmt.clearReplay.run(id, requestedAt).changes === 1;
  }

  async remove(id: string): Promise<boolean> {
    return this.removeTx.immediate(id);
  }

  async addDeadLetter(letter: DeadLetter): Promise<void> {
    this.stmt.addDeadLetter.run({
      subscription_id: letter.subscriptionId,
      id: letter.id,
      // As JSON text: the events as they would have been delivered (as JSON).
      events: JSON.stringify(letter.events),
      from_position: letter.fromPosition,
      to_position: letter.toPosition,
      attempts: letter.attempts,
      last_status: letter.lastStatus ?? null,
      last_error: letter.lastError,
      failed_at: letter.failedAt,
    });
  }

  async deadLetters(subscriptionId: string): Promise<DeadLetter[]> {
    return this.stmt.deadLetters.all(subscriptionId).map(deadLetterOf);
  }

  async deadLetter(subscriptionId: string, id: string): Promise<DeadLetter | undefined> {
    const row = this.stmt.deadLetter.get(subscriptionId, id);
    return row && deadLetterOf(row);
  }

  async updateDeadLetter(
    subscriptionId: string,
    id: string,
    failure: Pick<DeadLetter, 'attempts' | 'lastStatus' | 'lastError' | 'failedAt'>,
  ): Promise<void> {
    // No lastStatus (no response this time) clears the previous attempt's.
    this.stmt.updateDeadLetter.run(failure.attempts, failure.lastStatus ?? null, failure.lastError, failure.failedAt, subscriptionId, id);
  }

  async removeDeadLetter(subscriptionId: string, id: string): Promise<boolean> {
    return this.stmt.removeDeadLetter.run(subscriptionId, id).changes === 1;
  }

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }
}
