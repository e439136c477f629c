/**
 * What the cluster tier checks once the load and the faults are over, each against the event
 * store (the truth), read the way the apps read it (the app's own factories and configuration):
 *
 * - startRebuild, then compare: every projection's serving generation in the cluster's database equals a
 *   clean rebuild of every projection from the same store into a fresh database, and so does every
 *   report (each grouping) computed from either;
 * - checkKafka: every stored event is on Kafka, the first delivery of each in revision order per
 *   stream, duplicates counted (at least once allows some);
 * - checkReactions: no process-manager reaction appended twice;
 * - waitForQuiescence: the wait before all of them (every role — projections, process managers,
 *   the relay — at the head, projections live, the store's head standing still).
 */
import { join } from 'node:path';
import type { EventStore, RecordedEvent } from '@chronicle/event-store';
import { topicForStream } from '@chronicle/messaging';
import { Projector, ReadModels } from '@chronicle/projector';
import { projections, ReportParams, reports } from '@chronicle/projections';
import { MongoReadStore, ReadStore } from '@chronicle/read-store';
import { createEventStore, createSealedEventStore, loadConfig } from '@chronicle/infrastructure';
import { collect } from '../kafka-test';
import { dropDatabase, freshDatabase, urlFor } from '../mongo-test';
import { dumpReadModels } from '../read-model-dump';
import type { Cluster } from './processes';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The apps' configuration for this cluster (the store, the key store in its Mongo database). */
function clusterConfig(cluster: Cluster) {
  return loadConfig(cluster.env({ DATA_DIR: join(cluster.runDir, 'checks') }));
}

/** The store as stored (personal fields sealed): what the relay publishes, enough for ids, order and metadata. */
export function openSealedStore(cluster: Cluster): EventStore {
  return createSealedEventStore(clusterConfig(cluster));
}

/** Every event of the global feed, in order. */
export async function readAllEvents(store: EventStore): Promise<RecordedEvent[]> {
  const events: RecordedEvent[] = [];
  for (let from = 0; ;) {
    const page = await store.readAll({ fromPosition: from, maxCount: 5000 });
    events.push(...page.events);
    if (page.isEnd || page.checkpoint <= from) return events;
    from = page.checkpoint;
  }
}

// ---------------------------------------------------------------------------------------------
// (d) waits

export interface RoleHolder {
  token: number;
  worker: string;
  pid: number;
  released: boolean;
}

export interface ProjectionsStatus {
  projectorRunning: boolean;
  projections: Array<{ name: string; role: string; status: string; lag: number; checkpoint: number; holder: RoleHolder | null }>;
  processManagers: Array<{ role: string; checkpoint: number; lag: number; holder: RoleHolder | null }>;
}

export interface RelayStatus {
  lease: { role: string; checkpoint: number; lag: number; holder: RoleHolder | null };
}

/**
 * GET <path> on the first running API (audit access: the manager key). The status pages read
 * FerretDB, which a projector's large commit can hold up for seconds: slow answers are logged.
 * A newly started API has been seen answering only after ~30 s (the MongoDB driver's connect
 * timeout, an open issue): such an answer is waited for, and logged.
 */
async function apiGet<T>(cluster: Cluster, path: string): Promise<T> {
  const [api] = cluster.apiUrls();
  if (!api) throw new Error(`no API running to ask GET ${path}`);
  const started = Date.now();
  const response = await fetch(`${api}${path}`, {
    headers: { Authorization: `Bearer ${cluster.keys.manager}` },
    signal: AbortSignal.timeout(90_000),
  });
  if (response.status !== 200) throw new Error(`GET ${path}: ${response.status} ${await response.text()}`);
  const body = (await response.json()) as T;
  if (Date.now() - started > 5000) process.stdout.write(`  (GET ${path} on ${api} took ${((Date.now() - started) / 1000).toFixed(1)} s)\n`);
  return body;
}

/** Every role of the cluster (projections, process managers, the relay) with its holder, checkpoint and lag. */
export async function roles(cluster: Cluster): Promise<Array<{ role: string; holder: RoleHolder | null; lag: number; live: boolean }>> {
  const [p, r] = await Promise.all([projectionsStatus(cluster), apiGet<RelayStatus>(cluster, '/relay')]);
  return [
    ...p.projections.map((x) => ({ role: x.role, holder: x.holder, lag: x.lag, live: x.status === 'live' })),
    ...p.processManagers.map((x) => ({ role: x.role, holder: x.holder, lag: x.lag, live: true })),
    { role: r.lease.role, holder: r.lease.holder, lag: r.lease.lag, live: true },
  ];
}

/** GET /projections on the first running API (audit access: the manager key). */
export function projectionsStatus(cluster: Cluster): Promise<ProjectionsStatus> {
  return apiGet<ProjectionsStatus>(cluster, '/projections');
}

/**
 * Until every projection is live with lag 0 and the store's head has not moved for `quietMs`
 * (the process managers' reactions land after the events that trigger them, and are projected in
 * turn). Returns the head it settled at.
 */
export async function waitForQuiescence(
  cluster: Cluster,
  options: { timeoutMs?: number; quietMs?: number; progress?: (message: string) => void } = {},
): Promise<{ head: number; waitedMs: number }> {
  const timeoutMs = options.timeoutMs ?? 120_000;
  const quietMs = options.quietMs ?? 3000;
  const started = Date.now();
  let reported = started;
  const store = openSealedStore(cluster);
  try {
    let head = -1;
    let since = Date.now();
    let last = '';
    for (;;) {
      const now = await store.headPosition();
      if (now !== head) {
        head = now;
        since = Date.now();
      }
      // Every role: projections live, and projections, process managers and the relay at the head.
      const status = await roles(cluster).catch((error: Error) => ({ error: error.message }) as const);
      const behind =
        'error' in status
          ? [status.error]
          : status.filter((r) => !r.live || r.lag !== 0).map((r) => `${r.role} ${r.live ? '' : 'building '}lag ${r.lag}`);
      if (behind.length === 0 && Date.now() - since >= quietMs) return { head, waitedMs: Date.now() - started };
      last = behind.length ? behind.join(', ') : `head ${head} moved ${Date.now() - since} ms ago`;
      if (Date.now() - started > timeoutMs) throw new Error(`not quiet within ${timeoutMs} ms: ${last}`);
      if (options.progress && Date.now() - reported >= 15_000) {
        reported = Date.now();
        options.progress(`  waiting for quiescence (${Math.round((reported - started) / 1000)} s): ${last}`);
      }
      await sleep(250);
    }
  } finally {
    await store.close();
  }
}

// ---------------------------------------------------------------------------------------------
// (a) read models vs a clean rebuild

export interface CollectionDiff {
  /** Documents in the cluster's serving generation / in the rebuild. */
  cluster: number;
  rebuild: number;
  /** Documents missing on one side or different. */
  differing: number;
  examples: Array<{ _id: unknown; cluster?: string; rebuild?: string }>;
}

export interface ReadModelReport {
  /** By `<projection>.<collection>`. */
  collections: Record<string, CollectionDiff>;
  /** By projection: differing documents over its collections. */
  projections: Record<string, number>;
  differing: number;
  documents: number;
  head: number;
  rebuildMs: number;
  /** Every report with each of its groupings, from the cluster's read models and the rebuild's. */
  reports: { compared: number; differing: Array<{ report: string; cluster: string; rebuild: string }> };
}

/**
 * Runs every report (ungrouped and by each grouping) over two read stores, with the same
 * parameters: monthly over the last two years, as of now, the apps' pipeline and scoring.
 */
export async function compareReports(
  cluster: ReadStore,
  rebuild: ReadStore,
  events: EventStore,
  config: ReturnType<typeof clusterConfig>,
): Promise<ReadModelReport['reports']> {
  const names = projections.map((p) => p.name);
  const sides = [cluster, rebuild].map((store) => ({
    readModels: new ReadModels(store, events, names, undefined, 0),
    pipeline: config.pipeline,
    scoring: config.scoring,
  }));
  const now = new Date();
  const to = new Date(now.getTime() + 86_400_000);
  const from = new Date(Date.UTC(now.getUTCFullYear() - 2, now.getUTCMonth(), 1));
  const result: ReadModelReport['reports'] = { compared: 0, differing: [] };
  for (const report of reports) {
    for (const groupBy of [undefined, ...(report.groupBy ?? [])]) {
      // Some reports show the current state only: asOf is now (the same instant for both sides).
      const params: ReportParams = {
        from: from.toISOString(),
        to: to.toISOString(),
        interval: 'month',
        asOf: now.toISOString(),
        limit: 10,
        ...(groupBy && { groupBy }),
      };
      // `asOf` in a current-state report is the instant it ran, not a figure.
      const figures = (result: unknown) => canonical({ ...(result as object), asOf: undefined });
      const [a, b] = await Promise.all(sides.map((context) => report.run(params, context).then(figures)));
      result.compared++;
      if (a !== b)
        result.differing.push({
          report: groupBy ? `${report.name} by ${groupBy}` : report.name,
          cluster: a.slice(0, 600),
          rebuild: b.slice(0, 600),
        });
    }
  }
  return result;
}

/** JSON with sorted keys: the incremental path and a rebuild may write a document's fields in another order. */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v) && !(v instanceof Date)
      ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : v,
  );
}

function diff(clusterDocs: unknown[], rebuildDocs: unknown[], examples: number): CollectionDiff {
  const byId = (docs: unknown[]) => new Map(docs.map((d) => [canonical((d as { _id: unknown })._id), canonical(d)]));
  const a = byId(clusterDocs);
  const b = byId(rebuildDocs);
  const result: CollectionDiff = { cluster: a.size, rebuild: b.size, differing: 0, examples: [] };
  for (const id of new Set([...a.keys(), ...b.keys()])) {
    if (a.get(id) === b.get(id)) continue;
    result.differing++;
    if (result.examples.length < examples)
      result.examples.push({ _id: JSON.parse(id), cluster: a.get(id)?.slice(0, 600), rebuild: b.get(id)?.slice(0, 600) });
  }
  return result;
}

export interface Rebuild {
  /**
   * Waits until the rebuild reached the store's head, dumps both sides and compares them. The
   * store must stand still meanwhile (call waitForQuiescence first): a head that moves is an
   * error, not a difference. Drops the rebuild's database.
   */
  compare(options?: { timeoutMs?: number; examples?: number }): Promise<ReadModelReport>;
  /** Stops it and drops its database without comparing (after a failure). */
  discard(): Promise<void>;
}

/**
 * Starts a clean rebuild of every projection from the cluster's store into a fresh database,
 * with the library Projector and the events opened with the cluster's personal-data keys, as the
 * projector process reads them. It follows the feed live, so it can start while the cluster is
 * still settling (FerretDB makes a rebuild take a while); compare() once it is quiet.
 */
export async function startRebuild(cluster: Cluster): Promise<Rebuild> {
  const events = createEventStore(clusterConfig(cluster));
  const database = freshDatabase('chronicle_rebuild');
  const reads = await MongoReadStore.connect(urlFor(database));
  const started = Date.now();
  const projector = new Projector(events, reads, projections);
  await projector.start();
  let finished = false;
  const finish = async () => {
    if (finished) return;
    finished = true;
    await projector.stop().catch(() => undefined);
    await reads.close().catch(() => undefined);
    await events.close().catch(() => undefined);
    await dropDatabase(database).catch(() => undefined);
  };
  return {
    discard: finish,
    async compare(options = {}) {
      const timeoutMs = options.timeoutMs ?? 180_000;
      const clusterReads = await MongoReadStore.connect(cluster.mongoUrl);
      try {
        const head = await events.headPosition();
        const deadline = Date.now() + timeoutMs;
        while (!Object.values(projector.checkpoints()).every((c) => c >= head)) {
          if (Date.now() > deadline)
            throw new Error(`rebuild not at the head ${head} within ${timeoutMs} ms: ${JSON.stringify(projector.checkpoints())}`);
          await sleep(100);
        }
        const rebuildMs = Date.now() - started;
        const actual = await dumpReadModels(clusterReads, events, projections);
        const expected = await dumpReadModels(reads, events, projections);
        if ((await events.headPosition()) !== head)
          throw new Error('the event store moved during the read-model check: wait for quiescence first');
        const report: ReadModelReport = {
          collections: {},
          projections: {},
          differing: 0,
          documents: 0,
          head,
          rebuildMs,
          reports: await compareReports(clusterReads, reads, events, clusterConfig(cluster)),
        };
        for (const name of Object.keys(expected)) {
          const d = diff(actual[name] ?? [], expected[name], options.examples ?? 3);
          report.collections[name] = d;
          const projection = name.slice(0, name.lastIndexOf('.'));
          report.projections[projection] = (report.projections[projection] ?? 0) + d.differing;
          report.differing += d.differing;
          report.documents += d.rebuild;
        }
        return report;
      } finally {
        await clusterReads.close();
        await finish();
      }
    },
  };
}

// ---------------------------------------------------------------------------------------------
// (b) Kafka

export interface KafkaReport {
  eventsInStore: number;
  records: number;
  uniqueEventIds: number;
  /** Stored events never received: `<stream>@<revision> (<eventId>)`. */
  missing: string[];
  /** Records of an event received before. */
  duplicates: number;
  duplicateExamples: string[];
  /** First deliveries of a stream's events not in revision order 0, 1, 2, … */
  orderViolations: string[];
  /** Records that are no stored event (or name a stored event's id at another stream or revision). */
  unexpected: string[];
  waitedMs: number;
}

/**
 * Consumes every topic of the cluster's prefix from the beginning with a fresh consumer group
 * until every stored event has arrived (or `timeoutMs`), then compares. Events are identified by
 * stream and revision (with the event id checked), so that two stored events with one id — a
 * reaction appended twice — are two events here too.
 */
export async function checkKafka(
  cluster: Cluster,
  events: RecordedEvent[],
  options: { timeoutMs?: number; settleMs?: number } = {},
): Promise<KafkaReport> {
  const timeoutMs = options.timeoutMs ?? 90_000;
  const started = Date.now();
  const key = (streamId: string, revision: number) => `${streamId}@${revision}`;
  const stored = new Map(events.map((e) => [key(e.streamId, e.streamRevision), e]));
  const topics = [...new Set(events.map((e) => topicForStream(e.streamId, cluster.topicPrefix)))];
  const collector = await collect(cluster.brokers, topics, `${cluster.topicPrefix}-check-${Date.now()}`);
  const received = new Set<string>();
  let scanned = 0;
  try {
    while (received.size < stored.size && Date.now() - started < timeoutMs) {
      for (; scanned < collector.records.length; scanned++) {
        const e = collector.records[scanned].envelope;
        received.add(key(e.streamId, e.streamRevision));
      }
      if (received.size < stored.size) await sleep(200);
    }
    await sleep(options.settleMs ?? 1000); // late duplicates of the last page, if any
  } finally {
    await collector.stop();
  }
  const report: KafkaReport = {
    eventsInStore: events.length,
    records: collector.records.length,
    uniqueEventIds: 0,
    missing: [],
    duplicates: 0,
    duplicateExamples: [],
    orderViolations: [],
    unexpected: [],
    waitedMs: Date.now() - started,
  };
  const seen = new Set<string>();
  const ids = new Set<string>();
  const next = new Map<string, number>();
  for (const r of collector.records) {
    const e = r.envelope;
    const k = key(e.streamId, e.streamRevision);
    const event = stored.get(k);
    if (!event || event.eventId !== e.eventId) {
      report.unexpected.push(`${k} (${e.eventId}) on ${r.topic}/${r.partition}@${r.offset}`);
      continue;
    }
    ids.add(e.eventId);
    if (seen.has(k)) {
      report.duplicates++;
      if (report.duplicateExamples.length < 10) report.duplicateExamples.push(`${k} ${e.type} (${r.topic}/${r.partition}@${r.offset})`);
      continue;
    }
    seen.add(k);
    const expected = next.get(e.streamId) ?? 0;
    if (e.streamRevision !== expected)
      report.orderViolations.push(`${e.streamId}: revision ${e.streamRevision} first arrived when ${expected} was expected`);
    next.set(e.streamId, Math.max(expected, e.streamRevision + 1));
  }
  report.uniqueEventIds = ids.size;
  report.missing = events
    .filter((e) => !seen.has(key(e.streamId, e.streamRevision)))
    .map((e) => `${key(e.streamId, e.streamRevision)} (${e.eventId})`);
  return report;
}

// ---------------------------------------------------------------------------------------------
// (c) process-manager reactions

export const PROCESS_MANAGER = 'system:process-manager';

export interface ReactionReport {
  /** Events appended by the process managers. */
  reactions: number;
  byType: Record<string, number>;
  /** Causes with more than one reaction of one type (a reaction appended twice). */
  duplicated: number;
  /** Reactions beyond the first per cause and type. */
  extraEvents: number;
  examples: string[];
  /** Event ids stored more than once (a deterministic reaction id appended again). */
  repeatedEventIds: number;
}

/**
 * A reaction is caused by one event (its causationId) and its event ids derive from that cause
 * (reaction-context.ts), so one cause has at most one reaction of each type on each stream: two
 * are a reaction appended twice. (Two process managers may react to one event on different
 * streams: the rules' follow-up task and the stall task of one DealOpened.)
 */
export function checkReactions(events: RecordedEvent[], examples = 10): ReactionReport {
  const groups = new Map<string, RecordedEvent[]>();
  const byType: Record<string, number> = {};
  for (const e of events) {
    if (e.actor !== PROCESS_MANAGER) continue;
    byType[e.type] = (byType[e.type] ?? 0) + 1;
    const k = `${e.causationId} ${e.type} ${e.streamId}`;
    const group = groups.get(k) ?? [];
    group.push(e);
    groups.set(k, group);
  }
  const report: ReactionReport = { reactions: 0, byType, duplicated: 0, extraEvents: 0, examples: [], repeatedEventIds: 0 };
  for (const group of groups.values()) {
    report.reactions += group.length;
    if (group.length < 2) continue;
    report.duplicated++;
    report.extraEvents += group.length - 1;
    if (report.examples.length < examples) {
      report.examples.push(
        `${group[0].type} caused by ${group[0].causationId}: ${group.map((e) => `${e.streamId}@${e.streamRevision} (${e.eventId}, recorded ${e.recordedAt})`).join(', ')}`,
      );
    }
  }
  const ids = new Set<string>();
  for (const e of events) {
    if (ids.has(e.eventId)) report.repeatedEventIds++;
    ids.add(e.eventId);
  }
  return report;
}
