import type Database from 'better-sqlite3';
import { categoryOf } from '@chronicle/domain';
import { openSqlite, SqliteSynchronous } from '@chronicle/sqlite';
import { EventEmitter } from 'node:events';
import {
  AppendOptions,
  AppendResult,
  EventFilter,
  EventStore,
  EventStoreClosedError,
  ExpectedRevision,
  FeedPage,
  NewEvent,
  ReadAllOptions,
  ReadStreamOptions,
  RecordedEvent,
  StreamHead,
  SubscribeOptions,
  Subscription,
  WrongExpectedRevisionError,
} from '../event-store';
import { pollingSubscription } from '../polling-subscription';

export type { SqliteSynchronous } from '@chronicle/sqlite';
/** Brings a stored payload up to its type's current schema version (libs/domain `upcast`); applied on every read. */
export type Upcast = (type: string, schemaVersion: number, data: unknown) => { data: unknown; schemaVersion: number };

export interface SqliteEventStoreOptions {
  /** File path, or ':memory:'. */
  filename: string;
  /** FULL (default): an acknowledged append survives power loss. NORMAL: survives a process crash. */
  synchronous?: SqliteSynchronous;
  /** How often live subscriptions look for appends made by other processes. */
  pollIntervalMs?: number;
  /** Most appends committed in one transaction (group commit). */
  maxGroupSize?: number;
  upcast?: Upcast;
}

interface Row {
  position: number;
  event_id: string;
  stream_id: string;
  revision: number;
  type: string;
  schema_version: number;
  occurred_at: string;
  recorded_at: string;
  actor: string;
  correlation_id: string;
  causation_id: string;
  data: string;
  metadata: string | null;
}

interface PendingAppend {
  streamId: string;
  events: NewEvent[];
  expected: ExpectedRevision;
  resolve(result: AppendResult): void;
  reject(error: unknown): void;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS events (
  position       INTEGER PRIMARY KEY AUTOINCREMENT,
  event_id       TEXT    NOT NULL UNIQUE,
  stream_id      TEXT    NOT NULL,
  revision       INTEGER NOT NULL,
  category       TEXT    NOT NULL,
  type           TEXT    NOT NULL,
  schema_version INTEGER NOT NULL,
  occurred_at    TEXT    NOT NULL,
  recorded_at    TEXT    NOT NULL,
  actor          TEXT    NOT NULL,
  correlation_id TEXT    NOT NULL,
  causation_id   TEXT    NOT NULL,
  data           TEXT    NOT NULL,
  metadata       TEXT,
  UNIQUE (stream_id, revision)
);
`;
const COLUMNS =
  'position, event_id, stream_id, revision, type, schema_version, occurred_at, recorded_at, actor, correlation_id, causation_id, data, metadata';
/** COLUMNS of a feed page's JSON rows, in this order (see PageRow). */
const PAGE_COLUMNS =
  'position, event_id, stream_id, revision, type, schema_version, occurred_at, recorded_at, actor, correlation_id, causation_id, json(data), json(metadata)';
type PageRow = [
  number,
  string,
  string,
  number,
  string,
  number,
  string,
  string,
  string,
  string,
  string,
  unknown,
  Record<string, unknown> | null,
];

/**
 * The embedded event store: one SQLite file in WAL mode. Appends from concurrent callers are
 * grouped into one transaction per event-loop turn (group commit), so one fsync serves many
 * callers; each append in the group is still checked and applied on its own (a savepoint), so
 * one caller's conflict never fails another's append.
 */
export class SqliteEventStore implements EventStore {
  private readonly db: Database.Database;
  private readonly notifier = new EventEmitter();
  private pending: PendingAppend[] = [];
  private flushScheduled = false;
  private closed = false;
  private readonly pollIntervalMs: number;
  private readonly maxGroupSize: number;
  private readonly upcast?: Upcast;
  private readonly feedStatements = new Map<string, Database.Statement>();
  private readonly stmt: {
    revision: Database.Statement<[string], { revision: number | null }>;
    streamHead: Database.Statement<[string], { revision: number; type: string }>;
    insert: Database.Statement;
    byEventId: Database.Statement<[string], { stream_id: string; revision: number; position: number }>;
    head: Database.Statement<[], { position: number | null }>;
    forwards: Database.Statement<[string, number, number], Row>;
    backwards: Database.Statement<[string, number, number], Row>;
  };
  private readonly appendOne: (append: PendingAppend, recordedAt: string) => AppendResult;
  private readonly appendGroup: (group: PendingAppend[]) => Array<AppendResult | Error>;

  constructor(options: SqliteEventStoreOptions) {
    this.db = openSqlite(options.filename, { synchronous: options.synchronous ?? 'FULL' });
    this.db.exec(SCHEMA);
    this.pollIntervalMs = options.pollIntervalMs ?? 200;
    this.maxGroupSize = options.maxGroupSize ?? 500;
    this.upcast = options.upcast;
    this.notifier.setMaxListeners(0);

    this.stmt = {
      revision: this.db.prepare('SELECT max(revision) AS revision FROM events WHERE stream_id = ?'),
      streamHead: this.db.prepare('SELECT revision, type FROM events WHERE stream_id = ? ORDER BY revision DESC LIMIT 1'),
      insert: this.db.prepare(
        `INSERT INTO events (event_id, stream_id, revision, category, type, schema_version, occurred_at, recorded_at, actor, correlation_id, causation_id, data, metadata)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      ),
      byEventId: this.db.prepare('SELECT stream_id, revision, position FROM events WHERE event_id = ?'),
      head: this.db.prepare('SELECT max(position) AS position FROM events'),
      forwards: this.db.prepare(`SELECT ${COLUMNS} FROM events WHERE stream_id = ? AND revision >= ? ORDER BY revision LIMIT ?`),
      backwards: this.db.prepare(`SELECT ${COLUMNS} FROM events WHERE stream_id = ? AND revision <= ? ORDER BY revision DESC LIMIT ?`),
    };

    // Nested better-sqlite3 transactions are savepoints: a failed append rolls back alone.
    this.appendOne = this.db.transaction((append: PendingAppend, recordedAt: string) => this.write(append, recordedAt));
    this.appendGroup = this.db.transaction((group: PendingAppend[]) => {
      const recordedAt = new Date().toISOString();
      return group.map((append) => {
        try {
          return this.appendOne(append, recordedAt);
        } catch (error) {
          return error instanceof Error ? error : new Error(String(error));
        }
      });
    });
  }

  append(streamId: string, events: NewEvent[], options: AppendOptions = {}): Promise<AppendResult> {
    if (this.closed) return Promise.reject(new EventStoreClosedError());
    if (events.length === 0) return Promise.reject(new Error('append needs at least one event'));
    return new Promise((resolve, reject) => {
      this.pending.push({ streamId, events, expected: options.expectedRevision ?? ExpectedRevision.Any, resolve, reject });
      if (!this.flushScheduled) {
        this.flushScheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  private flush(): void {
    this.flushScheduled = false;
    while (this.pending.length > 0) {
      const group = this.pending.splice(0, this.maxGroupSize);
      let results: Array<AppendResult | Error>;
      try {
        results = this.appendGroup(group);
      } catch (error) {
        // The commit itself failed (disk full, I/O error): nothing of the group was written.
        for (const append of group) append.reject(error);
        continue;
      }
      group.forEach((append, i) => {
        const result = results[i];
        if (result instanceof Error) append.reject(result);
        else append.resolve(result);
      });
      this.notifier.emit('append');
    }
  }

  private write(append: PendingAppend, recordedAt: string): AppendResult {
    const { streamId, events, expected } = append;
    const current = this.stmt.revision.get(streamId)?.revision ?? -1;
    const ok =
      expected === ExpectedRevision.Any ||
      (expected === ExpectedRevision.NoStream && current === -1) ||
      (expected === ExpectedRevision.StreamExists && current >= 0) ||
      expected === current;
    if (!ok) {
      const replayed = this.idempotentReplay(streamId, events);
      if (replayed) return replayed;
      throw new WrongExpectedRevisionError(streamId, expected, current);
    }
    const category = categoryOf(streamId);
    let revision = current;
    let position = 0;
    for (const event of events) {
      revision += 1;
      const { occurredAt, actor, correlationId, causationId, ...extra } = event.metadata;
      try {
        const info = this.stmt.insert.run(
          event.eventId,
          streamId,
          revision,
          category,
          event.type,
          event.schemaVersion ?? 1,
          occurredAt,
          recordedAt,
          actor,
          correlationId,
          causationId,
          JSON.stringify(event.data ?? {}),
          Object.keys(extra).length > 0 ? JSON.stringify(extra) : null,
        );
        position = Number(info.lastInsertRowid);
      } catch (error) {
        if ((error as { code?: string }).code === 'SQLITE_CONSTRAINT_UNIQUE' && String(error).includes('event_id')) {
          const replayed = this.idempotentReplay(streamId, events);
          if (replayed) return replayed;
        }
        throw error;
      }
    }
    return { streamId, nextExpectedRevision: revision, position };
  }

  /** Appending events whose ids are already stored in this stream returns the first result (as EventStoreDB does). */
  private idempotentReplay(streamId: string, events: NewEvent[]): AppendResult | undefined {
    const first = this.stmt.byEventId.get(events[0].eventId);
    if (!first || first.stream_id !== streamId) return undefined;
    const last = this.stmt.byEventId.get(events[events.length - 1].eventId);
    if (!last || last.stream_id !== streamId) return undefined;
    return { streamId, nextExpectedRevision: last.revision, position: last.position };
  }

  async readStream(streamId: string, options: ReadStreamOptions = {}): Promise<RecordedEvent[]> {
    this.assertOpen();
    const maxCount = options.maxCount ?? Number.MAX_SAFE_INTEGER;
    const rows =
      options.direction === 'backwards'
        ? this.stmt.backwards.all(streamId, options.fromRevision ?? Number.MAX_SAFE_INTEGER, maxCount)
        : this.stmt.forwards.all(streamId, options.fromRevision ?? 0, maxCount);
    return rows.map((row) => this.toEvent(row));
  }

  async streamRevision(streamId: string): Promise<number> {
    this.assertOpen();
    return this.stmt.revision.get(streamId)?.revision ?? -1;
  }

  async streamHead(streamId: string): Promise<StreamHead | undefined> {
    this.assertOpen();
    const row = this.stmt.streamHead.get(streamId);
    return row && { revision: row.revision, type: row.type };
  }

  async headPosition(): Promise<number> {
    this.assertOpen();
    return this.stmt.head.get()?.position ?? 0;
  }

  private readonly readPage = (options: ReadAllOptions): FeedPage => {
    const from = options.fromPosition ?? 0;
    const maxCount = options.maxCount ?? 1000;
    const { where, params } = filterClause(options.filter);
    let statement = this.feedStatements.get(where);
    if (!statement) {
      // The page as one JSON array built by SQLite, `data` and `metadata` embedded as JSON: one
      // JSON.parse instead of a row object, 13 strings and two parses per event (a replay reads
      // the feed in pages of 20,000; measured 1.6 × faster).
      statement = this.db.prepare(
        `SELECT json_group_array(json_array(${PAGE_COLUMNS}) ORDER BY position) AS page FROM (SELECT ${COLUMNS} FROM events WHERE position > ?${where} ORDER BY position LIMIT ?)`,
      );
      this.feedStatements.set(where, statement);
    }
    let events: RecordedEvent[];
    try {
      events = (JSON.parse((statement.get(from, ...params, maxCount) as { page: string }).page) as PageRow[]).map((row) =>
        this.toEventFromPage(row),
      );
    } catch (error) {
      // A page of huge events past SQLite's 1 GB string limit: read it row by row instead.
      if ((error as { code?: string }).code !== 'SQLITE_TOOBIG') throw error;
      const rows = this.db
        .prepare(`SELECT ${COLUMNS} FROM events WHERE position > ?${where} ORDER BY position LIMIT ?`)
        .all(from, ...params, maxCount) as Row[];
      events = rows.map((row) => this.toEvent(row));
    }
    if (events.length === maxCount) return { events, checkpoint: events[events.length - 1].globalPosition, isEnd: false };
    // Fewer rows than asked: the scan reached the head as it stood in this read's snapshot.
    const head = this.stmt.head.get()?.position ?? 0;
    return { events, checkpoint: Math.max(from, head), isEnd: true };
  };
  // One read transaction so the page and the head come from the same snapshot.
  private readonly readPageInSnapshot = (options: ReadAllOptions) => this.db.transaction(this.readPage)(options);

  async readAll(options: ReadAllOptions = {}): Promise<FeedPage> {
    this.assertOpen();
    return this.readPageInSnapshot(options);
  }

  subscribeToAll(options: SubscribeOptions = {}): Subscription {
    this.assertOpen();
    return pollingSubscription(
      (o) => this.readAll(o),
      (listener) => {
        this.notifier.on('append', listener);
        return () => this.notifier.off('append', listener);
      },
      { ...options, pollIntervalMs: this.pollIntervalMs },
    );
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.flush(); // acknowledged-to-be appends still queued are written before closing
    this.closed = true;
    this.notifier.emit('append');
    this.db.close();
  }

  private assertOpen(): void {
    if (this.closed) throw new EventStoreClosedError();
  }

  private toEventFromPage(row: PageRow): RecordedEvent {
    let data: unknown = row[11];
    let schemaVersion = row[5];
    if (this.upcast) ({ data, schemaVersion } = this.upcast(row[4], schemaVersion, data));
    const event: RecordedEvent = {
      eventId: row[1],
      type: row[4],
      schemaVersion,
      streamId: row[2],
      streamRevision: row[3],
      globalPosition: row[0],
      occurredAt: row[6],
      recordedAt: row[7],
      actor: row[8],
      correlationId: row[9],
      causationId: row[10],
      data,
      metadata: row[12] ?? {},
    };
    if (schemaVersion !== row[5]) event.storedSchemaVersion = row[5];
    return event;
  }

  private toEvent(row: Row): RecordedEvent {
    let data: unknown = JSON.parse(row.data);
    let schemaVersion = row.schema_version;
    if (this.upcast) ({ data, schemaVersion } = this.upcast(row.type, schemaVersion, data));
    const event: RecordedEvent = {
      eventId: row.event_id,
      type: row.type,
      schemaVersion,
      streamId: row.stream_id,
      streamRevision: row.revision,
      globalPosition: row.position,
      occurredAt: row.occurred_at,
      recordedAt: row.recorded_at,
      actor: row.actor,
      correlationId: row.correlation_id,
      causationId: row.causation_id,
      data,
      metadata: row.metadata ? JSON.parse(row.metadata) : {},
    };
    if (schemaVersion !== row.schema_version) event.storedSchemaVersion = row.schema_version;
    return event;
  }
}

function filterClause(filter?: EventFilter): { where: string; params: string[] } {
  let where = " AND category NOT LIKE '$%'";
  const params: string[] = [];
  if (filter?.categories) {
    where += ` AND category IN (${filter.categories.map(() => '?').join(',') || 'NULL'})`;
    params.push(...filter.categories);
  }
  if (filter?.types) {
    where += ` AND type IN (${filter.types.map(() => '?').join(',') || 'NULL'})`;
    params.push(...filter.types);
  }
  return { where, params };
}
