/**
 * (a) Event-store appends, one event per call, against raw better-sqlite3 in the same run.
 *
 * - raw:        WAL, the same synchronous level, the store's own schema (indexes included), one
 *               INSERT per transaction (BEGIN; INSERT; COMMIT), revisions counted in JS.
 * - sequential: one caller awaiting each `append` (one event, ExpectedRevision.Any).
 * - concurrent: 50 callers, each looping `await append(ownStream, [event])` (group commit), FULL.
 * - raw ×100:   100 INSERTs per transaction, FULL (the reference for what batching can reach).
 *
 * Each measurement gets a fresh database file; raw and store alternate which goes first.
 */
import Database from 'better-sqlite3';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { upcast } from '@chronicle/domain';
import { NewEvent, SqliteEventStore, SqliteSynchronous } from '@chronicle/event-store';
import { eventMetadata, INTERACTION_SCHEMA_VERSION, interactionData, log, removeDir, Row, stat, tempDir } from './lib';

export interface AppendsOptions {
  runs: number;
  /** Seconds per timed measurement. */
  seconds: number;
  concurrency: number;
}

const STREAMS = 100;
const streamIds = Array.from({ length: STREAMS }, () => `customer-${randomUUID()}`);

function newEvent(streamId: string, i: number): NewEvent {
  return {
    eventId: randomUUID(),
    type: 'InteractionLogged',
    data: interactionData(streamId.slice(9), i),
    metadata: eventMetadata(),
    schemaVersion: INTERACTION_SCHEMA_VERSION,
  };
}

/** A file with exactly the store's schema, then closed. */
async function storeSchemaFile(dir: string, name: string): Promise<string> {
  const filename = join(dir, name);
  await new SqliteEventStore({ filename }).close();
  return filename;
}

function openRaw(filename: string, synchronous: SqliteSynchronous): Database.Database {
  const db = new Database(filename);
  db.pragma('journal_mode = WAL');
  db.pragma(`synchronous = ${synchronous}`);
  return db;
}

const INSERT = `INSERT INTO events (event_id, stream_id, revision, category, type, schema_version, occurred_at, recorded_at, actor, correlation_id, causation_id, data, metadata)
  VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`;

/** Raw better-sqlite3: `perTxn` events per transaction for `seconds`; events/s. */
async function raw(dir: string, synchronous: SqliteSynchronous, perTxn: number, seconds: number): Promise<number> {
  const filename = await storeSchemaFile(dir, `raw-${synchronous}-${perTxn}-${randomUUID()}.db`);
  const db = openRaw(filename, synchronous);
  const insert = db.prepare(INSERT);
  const revisions = new Array<number>(STREAMS).fill(-1);
  let n = 0;
  const insertOne = () => {
    const s = n % STREAMS;
    const e = newEvent(streamIds[s], n);
    const m = e.metadata;
    insert.run(
      e.eventId,
      streamIds[s],
      ++revisions[s],
      'customer',
      e.type,
      1,
      m.occurredAt,
      new Date().toISOString(),
      m.actor,
      m.correlationId,
      m.causationId,
      JSON.stringify(e.data),
      null,
    );
    n++;
  };
  const txn = db.transaction(() => {
    for (let i = 0; i < perTxn; i++) insertOne();
  });
  const measure = (ms: number) => {
    const start = performance.now();
    const before = n;
    let now = start;
    while (now - start < ms) {
      txn();
      now = performance.now();
    }
    return ((n - before) * 1000) / (now - start);
  };
  measure(200); // warm-up
  const rate = measure(seconds * 1000);
  db.close();
  return rate;
}

/** The store with `callers` concurrent callers, each awaiting its own one-event appends; events/s. */
async function store(dir: string, synchronous: SqliteSynchronous, callers: number, seconds: number): Promise<number> {
  return storeAppendRate(join(dir, `store-${synchronous}-${callers}-${randomUUID()}.db`), synchronous, callers, seconds);
}

/** Appends to the store at `filename` (new or existing) from `callers` concurrent callers; events/s. */
export async function storeAppendRate(filename: string, synchronous: SqliteSynchronous, callers: number, seconds: number): Promise<number> {
  const es = new SqliteEventStore({ filename, synchronous, upcast });
  const measure = async (ms: number) => {
    let n = 0;
    const start = performance.now();
    let end = start;
    const caller = async (c: number) => {
      for (let i = 0; ; i++) {
        const now = performance.now();
        if (now - start >= ms) {
          end = Math.max(end, now);
          return;
        }
        const streamId = streamIds[(c + i * callers) % STREAMS];
        await es.append(streamId, [newEvent(streamId, i)]);
        n++;
      }
    };
    await Promise.all(Array.from({ length: callers }, (_, c) => caller(c)));
    end = Math.max(end, performance.now());
    return (n * 1000) / (end - start);
  };
  await measure(200); // warm-up
  const rate = await measure(seconds * 1000);
  await es.close();
  return rate;
}

export async function benchAppends(options: AppendsOptions): Promise<{ rows: Row[]; details: Record<string, unknown> }> {
  const dir = tempDir('appends');
  const r = {
    rawFull: [] as number[],
    storeFull: [] as number[],
    rawNormal: [] as number[],
    storeNormal: [] as number[],
    concurrentFull: [] as number[],
    rawBatchFull: [] as number[],
  };
  try {
    for (let run = 0; run < options.runs; run++) {
      const storeFirst = run % 2 === 1;
      for (const level of ['FULL', 'NORMAL'] as const) {
        const pair: Array<() => Promise<void>> = [
          async () => void (level === 'FULL' ? r.rawFull : r.rawNormal).push(await raw(dir, level, 1, options.seconds)),
          async () => void (level === 'FULL' ? r.storeFull : r.storeNormal).push(await store(dir, level, 1, options.seconds)),
        ];
        if (storeFirst) pair.reverse();
        for (const step of pair) await step();
      }
      r.concurrentFull.push(await store(dir, 'FULL', options.concurrency, options.seconds));
      r.rawBatchFull.push(await raw(dir, 'FULL', 100, Math.max(1, options.seconds / 2)));
      log(
        `appends run ${run + 1}/${options.runs}: FULL raw ${r.rawFull[run].toFixed(0)} store ${r.storeFull[run].toFixed(0)}; ` +
          `NORMAL raw ${r.rawNormal[run].toFixed(0)} store ${r.storeNormal[run].toFixed(0)}; ` +
          `${options.concurrency} callers FULL ${r.concurrentFull[run].toFixed(0)}; raw 100/txn ${r.rawBatchFull[run].toFixed(0)} events/s`,
      );
    }
  } finally {
    removeDir(dir);
  }
  const ratio = (a: number[], b: number[]) => stat(a.map((v, i) => v / b[i]));
  const seqFull = ratio(r.storeFull, r.rawFull);
  const seqNormal = ratio(r.storeNormal, r.rawNormal);
  const concurrent = stat(r.concurrentFull);
  const rows: Row[] = [
    {
      item: 'a appends',
      metric: '1 sequential caller, FULL',
      unit: 'ev/s',
      value: stat(r.storeFull),
      reference: { label: 'raw 1/txn FULL', value: stat(r.rawFull) },
      ratio: seqFull,
      bar: '≥ 0.9 × raw',
      pass: seqFull.median >= 0.9,
    },
    {
      item: 'a appends',
      metric: '1 sequential caller, NORMAL',
      unit: 'ev/s',
      value: stat(r.storeNormal),
      reference: { label: 'raw 1/txn NORMAL', value: stat(r.rawNormal) },
      ratio: seqNormal,
      bar: '≥ 0.9 × raw',
      pass: seqNormal.median >= 0.9,
    },
    {
      item: 'a appends',
      metric: `${options.concurrency} concurrent callers, FULL`,
      unit: 'ev/s',
      value: concurrent,
      reference: { label: 'raw 1/txn FULL', value: stat(r.rawFull) },
      ratio: ratio(r.concurrentFull, r.rawFull),
      bar: '≥ 20,000 ev/s',
      pass: concurrent.median >= 20_000,
    },
    {
      item: 'a appends',
      metric: 'raw 100 ev/txn, FULL (reference)',
      unit: 'ev/s',
      value: stat(r.rawBatchFull),
      reference: { label: 'raw 1/txn FULL', value: stat(r.rawFull) },
      ratio: ratio(r.rawBatchFull, r.rawFull),
    },
  ];
  return { rows, details: { ...r, secondsPerMeasurement: options.seconds, concurrency: options.concurrency, streams: STREAMS } };
}
