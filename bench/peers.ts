/**
 * The peer in the same run (issue 18, item 5): Emmett's SQLite event store
 * (`@event-driven-io/emmett-sqlite`, a dev dependency) and Chronicle's `SqliteEventStore` on the
 * same payloads, in the same process, both WAL at synchronous = FULL, each on a fresh file:
 *
 * - sequential: 1 caller, one event per append to one stream, with the expected revision;
 * - concurrent: `concurrency` callers, each appending one event at a time to its own stream,
 *               with the expected revision, every append committed before it is acknowledged;
 * - read:       one stream of `streamEvents` events read whole, again and again (events/s).
 *
 * Emmett is given one shared connection (`connectionOptions: { singleton: true, connection }`,
 * PRAGMA synchronous = FULL set on it and read back). Its default pool opens and closes a
 * connection per call: slower sequentially (an info row), and under concurrent callers it fails
 * with SQLITE_BUSY (no busy_timeout). On the shared connection, Emmett's `withTransaction` nests
 * concurrent appends into one open transaction, committed only when none is in flight, so an
 * append can be acknowledged long before its commit; for the same durability as Chronicle (an
 * append acknowledged after its commit) the concurrent row runs Emmett's appends one at a time
 * (a queue in the bench). Emmett left concurrent is an info row, with the share of its appends
 * acknowledged before their commit (a wrapper that only observes `withTransaction`).
 *
 * The two stores alternate which goes first, run by run.
 */
import {
  getSQLiteEventStore,
  sqliteConnection,
  type SQLiteConnection,
  type SQLiteEventStore as EmmettStore,
} from '@event-driven-io/emmett-sqlite';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { ExpectedRevision, NewEvent, SqliteEventStore } from '@chronicle/event-store';
import { eventMetadata, fmt, interactionData, log, removeDir, Row, stat, tempDir } from './lib';

/** The installed version (the package's `exports` do not include its package.json). */
const EMMETT_VERSION = (
  JSON.parse(readFileSync(join(dirname(require.resolve('@event-driven-io/emmett-sqlite')), '..', 'package.json'), 'utf8')) as {
    version: string;
  }
).version;

export interface PeersOptions {
  runs: number;
  /** Seconds per timed append measurement (after a 200 ms warm-up). */
  seconds: number;
  concurrency: number;
  /** Events in the stream that is read. */
  streamEvents: number;
  /** Seconds of reading that stream, per store and run. */
  readSeconds: number;
}

/** The same event for both stores: Chronicle's `NewEvent`; Emmett gets its type, data and metadata (and the id as `messageId`). */
function newEvent(streamId: string, i: number): NewEvent {
  return {
    eventId: randomUUID(),
    type: 'InteractionLogged',
    data: interactionData(streamId.slice(9), i),
    metadata: eventMetadata(),
    schemaVersion: 1,
  };
}

function emmettEvent(e: NewEvent) {
  return { type: e.type, data: e.data as Record<string, unknown>, metadata: { ...e.metadata, messageId: e.eventId } };
}

/** One store behind the same three operations. */
interface Peer {
  name: 'chronicle' | 'emmett';
  /** Appends one event to `streamId` whose last revision is `last` (-1: no stream); returns the new last revision. */
  append(streamId: string, event: NewEvent, last: number): Promise<number>;
  appendMany(streamId: string, events: NewEvent[], last: number): Promise<number>;
  /** Reads the whole stream; returns the number of events. */
  read(streamId: string): Promise<number>;
  close(): Promise<void>;
  /** Appends acknowledged while their transaction was still open (Emmett's shared connection). */
  ackedBeforeCommit(): number;
}

function chronicle(filename: string): Peer {
  const es = new SqliteEventStore({ filename, synchronous: 'FULL' });
  return {
    name: 'chronicle',
    append: async (streamId, event, last) =>
      (await es.append(streamId, [event], { expectedRevision: last < 0 ? ExpectedRevision.NoStream : last })).nextExpectedRevision,
    appendMany: async (streamId, events, last) =>
      (await es.append(streamId, events, { expectedRevision: last < 0 ? ExpectedRevision.NoStream : last })).nextExpectedRevision,
    read: async (streamId) => (await es.readStream(streamId)).length,
    close: () => es.close(),
    ackedBeforeCommit: () => 0,
  };
}

/** Emmett's stream versions count events (0: no stream); Chronicle's revisions start at 0 (-1: no stream). */
/**
 * `shared`: one connection for every call (Emmett's `singleton` option); `serialized`: the same,
 * each append awaited before the next starts (one transaction, committed before it is acknowledged,
 * per append); `default`: Emmett's default pool, a connection opened and closed per call.
 */
type EmmettMode = 'shared' | 'serialized' | 'default';

async function emmett(fileName: string, mode: EmmettMode): Promise<Peer & { synchronous: number; sqlite: string }> {
  let shared: SQLiteConnection | undefined;
  let open = 0;
  let early = 0;
  let es: EmmettStore;
  if (mode !== 'default') {
    const inner = sqliteConnection({ fileName });
    await inner.command('PRAGMA synchronous = FULL');
    shared = {
      ...inner,
      // Observes only: Emmett commits when the outermost of the nested calls finishes.
      withTransaction: async (fn) => {
        open++;
        try {
          return await inner.withTransaction(fn);
        } finally {
          open--;
          if (open > 0) early++;
        }
      },
    };
    es = getSQLiteEventStore({ fileName, connectionOptions: { singleton: true, connection: shared } });
  } else {
    es = getSQLiteEventStore({ fileName });
  }
  await es.schema.migrate();
  const probe = shared ?? sqliteConnection({ fileName });
  const synchronous = (await probe.querySingle<{ synchronous: number }>('PRAGMA synchronous'))?.synchronous ?? -1;
  const sqlite = (await probe.querySingle<{ v: string }>('SELECT sqlite_version() AS v'))?.v ?? 'unknown';
  if (!shared) probe.close();
  let queue: Promise<unknown> = Promise.resolve();
  const serial = <T>(call: () => Promise<T>): Promise<T> => {
    if (mode !== 'serialized') return call();
    const next = queue.then(call);
    queue = next.catch(() => undefined);
    return next;
  };
  return {
    name: 'emmett',
    synchronous,
    sqlite,
    append: async (streamId, event, last) =>
      Number(
        (await serial(() => es.appendToStream(streamId, [emmettEvent(event)], { expectedStreamVersion: BigInt(last + 1) })))
          .nextExpectedStreamVersion,
      ) - 1,
    appendMany: async (streamId, events, last) =>
      Number(
        (await es.appendToStream(streamId, events.map(emmettEvent), { expectedStreamVersion: BigInt(last + 1) })).nextExpectedStreamVersion,
      ) - 1,
    read: async (streamId) => (await es.readStream(streamId)).events.length,
    close: () => {
      shared?.close();
      return Promise.resolve();
    },
    ackedBeforeCommit: () => early,
  };
}

/**
 * `callers` concurrent callers, each appending one event at a time to its own stream: events/s, and the
 * share of the timed appends acknowledged before their commit.
 */
async function appendRate(peer: Peer, callers: number, seconds: number): Promise<{ rate: number; ackedBeforeCommit: number }> {
  const streams = Array.from({ length: callers }, () => `customer-${randomUUID()}`);
  const last = new Array<number>(callers).fill(-1);
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
        last[c] = await peer.append(streams[c], newEvent(streams[c], i), last[c]);
        n++;
      }
    };
    await Promise.all(Array.from({ length: callers }, (_, c) => caller(c)));
    end = Math.max(end, performance.now());
    return { rate: (n * 1000) / (end - start), appends: n };
  };
  await measure(200); // warm-up (and Emmett's schema check on its first call)
  const early = peer.ackedBeforeCommit();
  const { rate, appends } = await measure(seconds * 1000);
  return { rate, ackedBeforeCommit: (peer.ackedBeforeCommit() - early) / Math.max(1, appends) };
}

/** Writes one stream of `events` events (100 per append), then reads it whole for `seconds`; events/s. */
async function readRate(peer: Peer, events: number, seconds: number): Promise<number> {
  const streamId = `customer-${randomUUID()}`;
  let last = -1;
  for (let i = 0; i < events; i += 100) {
    last = await peer.appendMany(
      streamId,
      Array.from({ length: Math.min(100, events - i) }, (_, j) => newEvent(streamId, i + j)),
      last,
    );
  }
  const read = async () => {
    const n = await peer.read(streamId);
    if (n !== events) throw new Error(`read ${n} events of ${events}`);
    return n;
  };
  for (let i = 0; i < 3; i++) await read(); // warm-up
  let n = 0;
  const start = performance.now();
  let now = start;
  while (now - start < seconds * 1000) {
    n += await read();
    now = performance.now();
  }
  return (n * 1000) / (now - start);
}

/** Emmett's concurrent appends left to nest on its shared connection (not a like-for-like figure: see the header). */
function unserializedNote(rates: number[], early: number[], failures: string[], runs: number): string {
  const parts = ["Emmett's appends left concurrent on its shared connection (one open transaction, not durable on acknowledgement):"];
  if (rates.length) {
    const rate = stat(rates);
    const share = stat(early.map((x) => x * 100));
    parts.push(
      `${fmt(rate.median)} ev/s [${fmt(rate.min)}–${fmt(rate.max)}] in ${rates.length} of ${runs} runs,`,
      `${share.median.toFixed(1)} % [${share.min.toFixed(1)}–${share.max.toFixed(1)}] of its appends acknowledged before their commit (Chronicle: none);`,
    );
  }
  parts.push(failures.length ? `failed in ${failures.length} of ${runs} runs: ${failures.join('; ')}` : 'no failure');
  return parts.join(' ');
}

export async function benchPeers(options: PeersOptions): Promise<{ rows: Row[]; details: Record<string, unknown> }> {
  const dir = tempDir('peers');
  const r = {
    chronicleSequential: [] as number[],
    emmettSequential: [] as number[],
    emmettDefaultPoolSequential: [] as number[],
    /** Runs in which an append failed on the default pool (the measurement stops at the first failure). */
    emmettDefaultPoolFailures: [] as string[],
    chronicleConcurrent: [] as number[],
    /** Emmett's appends one at a time on its shared connection: each committed before it is acknowledged. */
    emmettConcurrentSerialized: [] as number[],
    /** Emmett's appends left concurrent on its shared connection (nested into one open transaction). */
    emmettConcurrentShared: [] as number[],
    /** Share of those appends acknowledged while their transaction was still open. */
    emmettConcurrentSharedAckedBeforeCommit: [] as number[],
    /** Runs in which an append failed there (the measurement stops at the first failure). */
    emmettConcurrentSharedFailures: [] as string[],
    chronicleRead: [] as number[],
    emmettRead: [] as number[],
    emmettSynchronous: [] as number[],
    emmettSqlite: '',
  };
  const file = (name: string) => join(dir, `${name}-${randomUUID()}.db`);
  const openEmmett = async (mode: EmmettMode) => {
    const peer = await emmett(file(`emmett-${mode}`), mode);
    r.emmettSynchronous.push(peer.synchronous);
    r.emmettSqlite = peer.sqlite;
    return peer;
  };
  /** Runs `measure` on a fresh Chronicle and a fresh Emmett store, in alternating order; closes both. */
  const pair = async (
    chronicleFirst: boolean,
    mode: EmmettMode,
    measure: (peer: Peer) => Promise<number>,
    chronicleOut: number[],
    emmettOut: number[],
  ) => {
    const steps = [
      async () => {
        const peer = chronicle(file('chronicle'));
        chronicleOut.push(await measure(peer));
        await peer.close();
      },
      async () => {
        const peer = await openEmmett(mode);
        emmettOut.push(await measure(peer));
        await peer.close();
      },
    ];
    if (!chronicleFirst) steps.reverse();
    for (const step of steps) await step();
  };
  const phase = async (name: string, step: () => Promise<void>) => {
    try {
      await step();
    } catch (error) {
      throw new Error(`peers, ${name}: ${(error as Error).message}`, { cause: error });
    }
  };
  const committedFirst = async (p: Peer) => {
    const { rate, ackedBeforeCommit } = await appendRate(p, options.concurrency, options.seconds);
    if (ackedBeforeCommit > 0) throw new Error(`${p.name} acknowledged an append before its commit`);
    return rate;
  };
  try {
    for (let run = 0; run < options.runs; run++) {
      const chronicleFirst = run % 2 === 0;
      await pair(
        chronicleFirst,
        'shared',
        async (p) => (await appendRate(p, 1, options.seconds)).rate,
        r.chronicleSequential,
        r.emmettSequential,
      );
      await phase('concurrent', () =>
        pair(chronicleFirst, 'serialized', committedFirst, r.chronicleConcurrent, r.emmettConcurrentSerialized),
      );
      await phase('read', () =>
        pair(chronicleFirst, 'shared', (p) => readRate(p, options.streamEvents, options.readSeconds), r.chronicleRead, r.emmettRead),
      );
      // Info: Emmett as it ships, without the bench's queue (it may fail: see the header), and its default pool.
      const shared = await openEmmett('shared');
      try {
        const unserialized = await appendRate(shared, options.concurrency, options.seconds);
        r.emmettConcurrentShared.push(unserialized.rate);
        r.emmettConcurrentSharedAckedBeforeCommit.push(unserialized.ackedBeforeCommit);
      } catch (error) {
        r.emmettConcurrentSharedFailures.push(`run ${run + 1}: ${(error as Error).message}`);
      }
      await shared.close();
      const defaultPool = await openEmmett('default');
      try {
        r.emmettDefaultPoolSequential.push((await appendRate(defaultPool, 1, options.seconds)).rate);
      } catch (error) {
        r.emmettDefaultPoolFailures.push(`run ${run + 1}: ${(error as Error).message}`);
      }
      await defaultPool.close();
      log(
        `peers run ${run + 1}/${options.runs}: sequential Chronicle ${r.chronicleSequential[run].toFixed(0)} Emmett ${r.emmettSequential[run].toFixed(0)} ` +
          `(default pool ${r.emmettDefaultPoolSequential.at(-1)?.toFixed(0)}); ${options.concurrency} callers Chronicle ${r.chronicleConcurrent[run].toFixed(0)} ` +
          `Emmett ${r.emmettConcurrentSerialized[run].toFixed(0)}; ` +
          `read ${options.streamEvents} Chronicle ${r.chronicleRead[run].toFixed(0)} Emmett ${r.emmettRead[run].toFixed(0)} events/s`,
      );
    }
  } finally {
    removeDir(dir);
  }
  if (r.emmettSynchronous.some((s) => s !== 2))
    throw new Error(`Emmett's connection was not at synchronous = FULL: ${r.emmettSynchronous.join(', ')}`);
  const ratio = (a: number[], b: number[]) => stat(a.map((v, i) => v / b[i]));
  const peer = `Emmett SQLite ${EMMETT_VERSION}`;
  const rows: Row[] = [
    {
      item: 'peers',
      metric: '1 sequential caller, FULL, expected revision',
      unit: 'ev/s',
      value: stat(r.chronicleSequential),
      reference: { label: peer, value: stat(r.emmettSequential) },
      ratio: ratio(r.chronicleSequential, r.emmettSequential),
    },
    {
      item: 'peers',
      metric: `${options.concurrency} concurrent callers, FULL, committed before acknowledged`,
      unit: 'ev/s',
      value: stat(r.chronicleConcurrent),
      reference: { label: `${peer}, appends one at a time`, value: stat(r.emmettConcurrentSerialized) },
      ratio: ratio(r.chronicleConcurrent, r.emmettConcurrentSerialized),
      note: unserializedNote(
        r.emmettConcurrentShared,
        r.emmettConcurrentSharedAckedBeforeCommit,
        r.emmettConcurrentSharedFailures,
        options.runs,
      ),
    },
    {
      item: 'peers',
      metric: `read one stream of ${options.streamEvents.toLocaleString('en-US')} events`,
      unit: 'events/s',
      value: stat(r.chronicleRead),
      reference: { label: peer, value: stat(r.emmettRead) },
      ratio: ratio(r.chronicleRead, r.emmettRead),
    },
  ];
  const ok = r.emmettDefaultPoolSequential.length;
  rows.push({
    item: 'peers',
    metric: "1 sequential caller, Emmett's default pool (a connection per call)",
    unit: 'ev/s',
    value: stat(ok ? r.chronicleSequential.slice(0, ok) : r.chronicleSequential),
    reference: ok ? { label: `${peer}, default pool`, value: stat(r.emmettDefaultPoolSequential) } : undefined,
    ratio: ok ? ratio(r.chronicleSequential.slice(0, ok), r.emmettDefaultPoolSequential) : undefined,
    note: r.emmettDefaultPoolFailures.length
      ? `Emmett failed in ${r.emmettDefaultPoolFailures.length} of ${options.runs} runs (left out): ${r.emmettDefaultPoolFailures.join('; ')}`
      : undefined,
  });
  return { rows, details: { ...r, emmettSqliteVersion: EMMETT_VERSION, options } };
}
