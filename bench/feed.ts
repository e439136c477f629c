/**
 * (b) Global-feed read: N events (default 1,000,000) through the port's `readAll` pages vs raw
 * better-sqlite3 reading the same rows (SELECT … ORDER BY position, JSON.parse of `data`).
 *
 * The rows are seeded fast: the store creates its schema, is closed, and raw batched INSERTs
 * (synchronous=OFF, 20,000 per transaction) fill it. Events are InteractionLogged payloads
 * spread round-robin over 10,000 customer streams; metadata is NULL (as the command path stores
 * it when there is no extra metadata).
 */
import Database from 'better-sqlite3';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { upcast } from '@chronicle/domain';
import { SqliteEventStore } from '@chronicle/event-store';
import { storeAppendRate } from './appends';
import { dirSize, INTERACTION_SCHEMA_VERSION, interactionData, log, removeDir, Row, stat, tempDir } from './lib';

export interface FeedOptions {
  runs: number;
  events: number;
  pageSizes: number[];
  /** After the reads: 50 concurrent callers appending to this big store vs to a fresh one (seconds; 0 skips). */
  appendSeconds: number;
}

const COLUMNS =
  'position, event_id, stream_id, revision, type, schema_version, occurred_at, recorded_at, actor, correlation_id, causation_id, data, metadata';

export async function seedFeed(filename: string, count: number, streams = 10_000): Promise<number> {
  await new SqliteEventStore({ filename }).close();
  const db = new Database(filename);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = OFF');
  const insert = db.prepare(
    `INSERT INTO events (event_id, stream_id, revision, category, type, schema_version, occurred_at, recorded_at, actor, correlation_id, causation_id, data, metadata)
     VALUES (?, ?, ?, 'customer', 'InteractionLogged', ${INTERACTION_SCHEMA_VERSION}, ?, ?, 'bench-user', ?, ?, ?, NULL)`,
  );
  const ids = Array.from({ length: streams }, () => randomUUID());
  const start = performance.now();
  const t0 = Date.UTC(2023, 0, 1);
  const batch = db.transaction((from: number, to: number) => {
    for (let i = from; i < to; i++) {
      const s = i % streams;
      const at = new Date(t0 + i * 60_000).toISOString();
      const correlation = randomUUID();
      insert.run(
        randomUUID(),
        `customer-${ids[s]}`,
        Math.floor(i / streams),
        at,
        at,
        correlation,
        correlation,
        JSON.stringify(interactionData(ids[s], i)),
      );
    }
  });
  for (let i = 0; i < count; i += 20_000) batch(i, Math.min(count, i + 20_000));
  db.pragma('wal_checkpoint(TRUNCATE)');
  db.close();
  return (performance.now() - start) / 1000;
}

/** Raw sequential read: one statement iterating every row, JSON.parse of data. */
function rawIterate(filename: string): { rate: number; count: number } {
  const db = new Database(filename, { readonly: true });
  const start = performance.now();
  let count = 0;
  let check = 0;
  for (const row of db.prepare(`SELECT ${COLUMNS} FROM events ORDER BY position`).iterate() as IterableIterator<{ data: string }>) {
    const data = JSON.parse(row.data) as { durationMinutes?: number };
    check += data.durationMinutes ?? 0;
    count++;
  }
  const rate = (count * 1000) / (performance.now() - start);
  db.close();
  if (check === 0) throw new Error('nothing read');
  return { rate, count };
}

/** Raw paged read (keyset pages of `pageSize` with .all()), JSON.parse of data. */
function rawPaged(filename: string, pageSize: number): { rate: number; count: number } {
  const db = new Database(filename, { readonly: true });
  const page = db.prepare(`SELECT ${COLUMNS} FROM events WHERE position > ? ORDER BY position LIMIT ?`);
  const start = performance.now();
  let count = 0;
  let from = 0;
  for (;;) {
    const rows = page.all(from, pageSize) as Array<{ position: number; data: string }>;
    for (const row of rows) JSON.parse(row.data);
    count += rows.length;
    if (rows.length < pageSize) break;
    from = rows[rows.length - 1].position;
  }
  const rate = (count * 1000) / (performance.now() - start);
  db.close();
  return { rate, count };
}

/** Through the port: readAll pages from checkpoint to the end. */
/** The port's `readAll` over a whole file, in pages of `pageSize` (events/s); also the replay item's reference. */
export async function storeRead(filename: string, pageSize: number): Promise<{ rate: number; count: number }> {
  const es = new SqliteEventStore({ filename, upcast });
  const start = performance.now();
  let count = 0;
  let from = 0;
  let check = 0;
  for (;;) {
    const page = await es.readAll({ fromPosition: from, maxCount: pageSize });
    count += page.events.length;
    for (const e of page.events) check += (e.data as { durationMinutes?: number }).durationMinutes ?? 0;
    from = page.checkpoint;
    if (page.isEnd) break;
  }
  const rate = (count * 1000) / (performance.now() - start);
  await es.close();
  if (check === 0) throw new Error('nothing read');
  return { rate, count };
}

export async function benchFeed(options: FeedOptions): Promise<{ rows: Row[]; details: Record<string, unknown> }> {
  const dir = tempDir('feed');
  const filename = join(dir, 'events.db');
  try {
    log(`feed: seeding ${options.events.toLocaleString('en-US')} events…`);
    const seedSeconds = await seedFeed(filename, options.events);
    const bytes = dirSize(dir);
    log(`feed: seeded in ${seedSeconds.toFixed(1)} s, ${(bytes / 2 ** 20).toFixed(0)} MiB on disk`);
    rawIterate(filename); // warm the page cache and the JIT

    const raw: number[] = [];
    const paged: number[] = [];
    const viaStore = new Map<number, number[]>(options.pageSizes.map((p) => [p, []]));
    const rawPage = options.pageSizes[0];
    for (let run = 0; run < options.runs; run++) {
      const steps: Array<() => Promise<void>> = [
        async () => {
          const r = rawIterate(filename);
          if (r.count !== options.events) throw new Error(`raw read ${r.count} rows`);
          raw.push(r.rate);
        },
        async () => void paged.push(rawPaged(filename, rawPage).rate),
        ...options.pageSizes.map((p) => async () => {
          const r = await storeRead(filename, p);
          if (r.count !== options.events) throw new Error(`store read ${r.count} events`);
          viaStore.get(p)!.push(r.rate);
        }),
      ];
      if (run % 2 === 1) steps.reverse();
      for (const step of steps) await step();
      log(
        `feed run ${run + 1}/${options.runs}: raw iterate ${raw[run].toFixed(0)}, raw paged(${rawPage}) ${paged[run].toFixed(0)}, ` +
          options.pageSizes.map((p) => `store readAll(${p}) ${viaStore.get(p)![run].toFixed(0)}`).join(', ') +
          ' events/s',
      );
    }
    const ratio = (a: number[]) => stat(a.map((v, i) => v / raw[i]));
    const rows: Row[] = options.pageSizes.map((p) => {
      const r = ratio(viaStore.get(p)!);
      return {
        item: 'b feed',
        metric: `readAll, pages of ${p}`,
        unit: 'ev/s',
        value: stat(viaStore.get(p)!),
        reference: { label: 'raw sequential + JSON.parse', value: stat(raw) },
        ratio: r,
        bar: '≥ 0.85 × raw',
        pass: r.median >= 0.85,
      };
    });
    rows.push({
      item: 'b feed',
      metric: `raw paged (${rawPage}/page) (reference)`,
      unit: 'ev/s',
      value: stat(paged),
      reference: { label: 'raw sequential + JSON.parse', value: stat(raw) },
      ratio: ratio(paged),
    });
    rows[0].note = `${options.events.toLocaleString('en-US')} events, ${(bytes / 2 ** 20).toFixed(0)} MiB, seeded in ${seedSeconds.toFixed(1)} s`;

    // Group commit on a big store (the event_id index no longer fits SQLite's page cache) vs a fresh one.
    const aged: number[] = [];
    const fresh: number[] = [];
    for (let run = 0; options.appendSeconds > 0 && run < options.runs; run++) {
      const steps = [
        async () => void aged.push(await storeAppendRate(filename, 'FULL', 50, options.appendSeconds)),
        async () => void fresh.push(await storeAppendRate(join(dir, `fresh-${run}.db`), 'FULL', 50, options.appendSeconds)),
      ];
      if (run % 2 === 1) steps.reverse();
      for (const step of steps) await step();
      log(
        `feed run ${run + 1}/${options.runs}: 50 concurrent appenders, FULL: ${aged[run].toFixed(0)} events/s on the big store, ${fresh[run].toFixed(0)} on a fresh one`,
      );
    }
    if (aged.length > 0) {
      rows.push({
        item: 'a appends',
        metric: `50 concurrent callers, FULL, on the ${options.events / 1e6}M-event store`,
        unit: 'ev/s',
        value: stat(aged),
        reference: { label: '50 callers, fresh store', value: stat(fresh) },
        ratio: stat(aged.map((v, i) => v / fresh[i])),
        bar: '(≥ 20,000 ev/s)',
        note: 'info: docs/quality.md does not say how big the store is; measured in the feed item, after the reads',
      });
    }
    return {
      rows,
      details: {
        events: options.events,
        bytesOnDisk: bytes,
        seedSeconds,
        rawIterate: raw,
        rawPaged: paged,
        store: Object.fromEntries(viaStore),
        appendsOnBigStore: aged,
        appendsOnFreshStore: fresh,
      },
    };
  } finally {
    removeDir(dir);
  }
}
