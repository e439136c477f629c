/**
 * `npm run bench [-- --only=appends,feed,http,interaction,health,dashboard,reads,peers,import] [options]` — see bench/README.md.
 * Prints a table of medians (with min–max over the runs), each figure beside the reference it is
 * judged against, measured in the same runs, and the verdict against docs/quality.md; writes
 * bench/results/latest.json.
 */
import Database from 'better-sqlite3';
import { execSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { arch, cpus, loadavg, platform, release, totalmem } from 'node:os';
import { join } from 'node:path';
import { benchAppends } from './appends';
import { benchCluster } from './cluster';
import { benchDashboard } from './dashboard';
import { benchFeed } from './feed';
import { benchHealth } from './health';
import { benchHttp } from './http';
import { benchImport } from './import';
import { benchInteraction } from './interaction';
import { benchPeers } from './peers';
import { benchReads } from './reads';
import { benchRelay, ensureLocalKafka } from './relay';
import { benchReplay } from './replay';
import { cleanup, fmt, fmtStat, installCleanupHooks, log, ROOT, Row, stat } from './lib';

const ITEMS = [
  'appends',
  'feed',
  'http',
  'interaction',
  'health',
  'replay',
  'relay',
  'cluster',
  'dashboard',
  'reads',
  'peers',
  'import',
] as const;
type Item = (typeof ITEMS)[number];

function parseArgs(argv: string[]): Map<string, string> {
  const args = new Map<string, string>();
  for (const arg of argv) {
    const m = /^--([a-z-]+)(?:=(.*))?$/.exec(arg);
    if (!m) throw new Error(`unknown argument "${arg}" (see bench/README.md)`);
    args.set(m[1], m[2] ?? 'true');
  }
  return args;
}

function num(args: Map<string, string>, name: string, fallback: number): number {
  const v = args.get(name);
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`--${name} must be a positive number`);
  return n;
}

function machine() {
  const db = new Database(':memory:');
  const sqlite = (db.prepare('SELECT sqlite_version() AS v').get() as { v: string }).v;
  db.close();
  let commit: string | undefined;
  try {
    commit = execSync('git rev-parse --short HEAD', { cwd: ROOT, stdio: ['ignore', 'pipe', 'ignore'] })
      .toString()
      .trim();
    const dirty = execSync('git status --porcelain --untracked-files=no', { cwd: ROOT, stdio: ['ignore', 'pipe', 'ignore'] })
      .toString()
      .trim();
    if (dirty) commit += ' + uncommitted changes';
  } catch {
    /* not a git checkout */
  }
  // The embedded projector runs in the app's process: the projections registered change (c) and (d).
  let projections: string[] | string;
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    projections = (require('../projections').projections as Array<{ name: string }>).map((p) => p.name);
  } catch (error) {
    projections = `unknown (${(error as Error).message})`;
  }
  return {
    cpu: cpus()[0]?.model,
    cores: cpus().length,
    memoryGiB: +(totalmem() / 2 ** 30).toFixed(1),
    platform: `${platform()} ${release()} ${arch()}`,
    node: process.version,
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    betterSqlite3: require('better-sqlite3/package.json').version as string,
    sqlite,
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    autocannon: require('autocannon/package.json').version as string,
    commit,
    projections,
    /** 1-minute load average when the run started (other processes on the machine skew absolute figures). */
    loadAverageAtStart: +loadavg()[0].toFixed(2),
    loadAverageAtEnd: undefined as number | undefined,
  };
}

function printTable(rows: Row[]): string {
  const header = ['item', 'metric', 'median [min–max]', 'reference (same runs)', 'ratio', 'bar', 'verdict'];
  const lines = rows.map((r) => [
    r.item,
    r.metric,
    fmtStat(r.value, r.unit),
    r.reference ? `${r.reference.label}: ${fmtStat(r.reference.value, r.unit)}` : '',
    r.ratio ? `${r.ratio.median.toFixed(2)} [${r.ratio.min.toFixed(2)}–${r.ratio.max.toFixed(2)}]` : '',
    r.bar ?? '',
    r.pass === undefined ? 'info' : r.pass ? 'PASS' : 'MISS',
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i])).join(' | ');
  const out = [line(header), widths.map((w) => '-'.repeat(w)).join('-|-'), ...lines.map(line)];
  const notes = rows.filter((r) => r.note).map((r) => `  ${r.item} / ${r.metric}: ${r.note}`);
  if (notes.length) out.push('', 'notes:', ...notes);
  return out.join('\n');
}

async function main(): Promise<void> {
  installCleanupHooks();
  const args = parseArgs(process.argv.slice(2));
  if (args.has('help')) {
    process.stdout.write('see bench/README.md\n');
    return;
  }
  const only = (args.get('only') ?? ITEMS.join(','))
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  for (const item of only) if (!ITEMS.includes(item as Item)) throw new Error(`--only: unknown item "${item}" (${ITEMS.join(', ')})`);
  const quick = args.has('quick');
  const runs = args.has('runs') ? num(args, 'runs', 1) : undefined;

  const started = Date.now();
  const info = machine();
  log(`machine: ${JSON.stringify(info)}`);
  const rows: Row[] = [];
  const details: Record<string, unknown> = {};

  if (only.includes('appends')) {
    const r = await benchAppends({
      runs: runs ?? (quick ? 1 : 5),
      seconds: num(args, 'append-seconds', quick ? 1 : 2),
      concurrency: num(args, 'concurrency', 50),
    });
    rows.push(...r.rows);
    details.appends = r.details;
  }
  if (only.includes('feed')) {
    const r = await benchFeed({
      runs: runs ?? (quick ? 1 : 3),
      events: num(args, 'events', quick ? 200_000 : 1_000_000),
      pageSizes: (args.get('page-sizes') ?? '1000,2000,5000').split(',').map(Number),
      appendSeconds: args.has('big-append-seconds') ? Number(args.get('big-append-seconds')) : quick ? 1 : 2,
    });
    rows.push(...r.rows);
    details.feed = r.details;
  }
  if (only.includes('http')) {
    const r = await benchHttp({
      runs: runs ?? (quick ? 1 : 3),
      seconds: num(args, 'http-seconds', quick ? 5 : 10),
      warmupSeconds: num(args, 'warmup-seconds', quick ? 1 : 3),
      connections: num(args, 'connections', 50),
      customers: num(args, 'customers', 100),
      history: args.has('http-history') ? Number(args.get('http-history')) : 0,
      variants: [
        ...(args.has('http-diag')
          ? [
              { name: 'RUN_PROJECTOR=false', target: 'app' as const, env: { RUN_PROJECTOR: 'false' } },
              { name: 'SQLITE_SYNCHRONOUS=NORMAL', target: 'app' as const, env: { SQLITE_SYNCHRONOUS: 'NORMAL' } },
            ]
          : []),
        // --http-proto="async-fsync;async-fsync,no-preread;bare:cheap-bind": one variant per ";"-item
        ...(args.get('http-proto') ?? '')
          .split(';')
          .map((s) => s.trim())
          .filter(Boolean)
          .map((spec) => {
            const bare = spec.startsWith('bare:');
            // Items with "=" are environment variables for the app (e.g. RUN_PROJECTOR=false).
            const items = (bare ? spec.slice(5) : spec)
              .split(',')
              .map((p) => p.trim())
              .filter(Boolean);
            const patches = items.filter((p) => !p.includes('='));
            const env = Object.fromEntries(items.filter((p) => p.includes('=')).map((p) => p.split('=', 2) as [string, string]));
            return { name: (bare ? 'bare:' : '') + items.join('+'), target: bare ? ('bare' as const) : ('app' as const), patches, env };
          }),
      ],
    });
    rows.push(...r.rows);
    details.http = r.details;
  }
  if (only.includes('interaction')) {
    const r = await benchInteraction({
      runs: runs ?? (quick ? 1 : 5),
      commands: num(args, 'commands', quick ? 300 : 2000),
      history: num(args, 'history', 100_000),
      foldChecks: args.has('fold-checks') ? Number(args.get('fold-checks')) : quick ? 0 : 3,
    });
    rows.push(...r.rows);
    details.interaction = r.details;
  }
  if (only.includes('health')) {
    const r = await benchHealth({
      runs: runs ?? (quick ? 1 : 3),
      seconds: num(args, 'health-seconds', quick ? 3 : 5),
      connections: num(args, 'health-connections', 4),
    });
    rows.push(...r.rows);
    details.health = r.details;
  }
  if (only.includes('replay')) {
    const r = await benchReplay({
      runs: runs ?? (quick ? 1 : 3),
      events: num(args, 'replay-events', quick ? 100_000 : 1_000_000),
      rounds: num(args, 'query-rounds', quick ? 5 : 20),
    });
    rows.push(...r.rows);
    details.replay = r.details;
  }
  if (only.includes('relay')) {
    // KAFKA_BROKERS, else the local test broker (test/support/servers/kafka.sh), started for the item.
    const stopBroker = process.env.KAFKA_BROKERS ? () => undefined : await ensureLocalKafka();
    try {
      const r = await benchRelay({ runs: runs ?? 3, events: num(args, 'relay-events', quick ? 50_000 : 200_000), log });
      const value = stat(r.eventsPerSecond);
      rows.push({
        item: 'relay',
        metric: `store feed → Kafka, ${fmt(r.events)} events, acknowledged`,
        unit: 'events/s',
        value,
        reference: { label: r.reference.label, value: stat(r.reference.eventsPerSecond) },
        ratio: stat(r.ratio.perRun),
        bar: '≥ 20,000 events/s',
        pass: value.median >= 20_000,
      });
      details.relay = r;
    } finally {
      stopBroker();
    }
  }
  if (only.includes('cluster')) {
    const r = await benchCluster({
      runs: runs ?? (quick ? 1 : 2),
      events: num(args, 'cluster-events', quick ? 50_000 : 300_000),
      failoverRuns: args.has('failover-runs') ? Number(args.get('failover-runs')) : quick ? 1 : 5, // 0 skips
    });
    rows.push(...r.rows);
    details.cluster = r.details;
  }
  if (only.includes('dashboard')) {
    const r = await benchDashboard({
      runs: runs ?? (quick ? 1 : 5),
      events: num(args, 'dashboard-events', quick ? 100_000 : 1_000_000),
      slowReport: args.get('dashboard-slow-report') ?? 'sales-cycle',
      slowMs: num(args, 'dashboard-slow-ms', 3000),
    });
    rows.push(...r.rows);
    details.dashboard = r.details;
  }
  if (only.includes('reads')) {
    const r = await benchReads({
      runs: runs ?? (quick ? 1 : 3),
      events: num(args, 'reads-events', quick ? 100_000 : 1_000_000),
      seconds: num(args, 'http-seconds', quick ? 5 : 10),
      warmupSeconds: num(args, 'warmup-seconds', quick ? 1 : 3),
      connections: num(args, 'connections', 50),
      customers: Math.min(200, num(args, 'customers', 100)),
    });
    rows.push(...r.rows);
    details.reads = r.details;
  }
  if (only.includes('peers')) {
    const r = await benchPeers({
      runs: runs ?? (quick ? 1 : 3),
      seconds: num(args, 'peer-seconds', quick ? 1 : 2),
      concurrency: num(args, 'concurrency', 50),
      streamEvents: num(args, 'peer-stream-events', 1000),
      readSeconds: quick ? 0.5 : 1,
    });
    rows.push(...r.rows);
    details.peers = r.details;
  }
  if (only.includes('import')) {
    const r = await benchImport({ runs: runs ?? (quick ? 1 : 3), rows: num(args, 'import-rows', quick ? 20_000 : 100_000) });
    rows.push(...r.rows);
    details.import = r.details;
  }

  const seconds = (Date.now() - started) / 1000;
  info.loadAverageAtEnd = +loadavg()[0].toFixed(2);
  const table = printTable(rows);
  process.stdout.write(
    `\nChronicle benchmark — docs/quality.md bars (${fmt(seconds)} s; ${info.cores} × ${info.cpu}; node ${info.node}; SQLite ${info.sqlite}; load average ${info.loadAverageAtStart} → ${info.loadAverageAtEnd})\n\n${table}\n`,
  );
  const judged = rows.filter((r) => r.pass !== undefined);
  process.stdout.write(`\n${judged.filter((r) => r.pass).length}/${judged.length} bars met\n`);

  const dir = join(ROOT, 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    join(dir, 'latest.json'),
    JSON.stringify(
      { finishedAt: new Date().toISOString(), seconds, machine: info, args: Object.fromEntries(args), rows, details },
      null,
      2,
    ) + '\n',
  );
  log(`wrote bench/results/latest.json`);
}

main()
  .catch((error) => {
    process.stderr.write(`benchmark failed: ${(error as Error).stack ?? error}\n`);
    process.exitCode = 1;
  })
  .finally(() => {
    cleanup();
    // autocannon / fetch keep-alive sockets must not hold the process open.
    setTimeout(() => process.exit(process.exitCode ?? 0), 100).unref();
  });
