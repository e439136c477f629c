/**
 * One projector worker "process" of the `cluster` bench item (bench/cluster.ts), wired as
 * libs/projector/src/projector-cluster.unit.spec.ts wires one: its own connections to the shared
 * files — the embedded read store (`read-models.db`), the SQLite lease store (`state.db`), the
 * SQLite event store opened through PersonalDataEventStore with the keys file (as the app and
 * replay-run.ts open it) — a Projector over every built-in projection, and a RoleCoordinator with
 * one role per projection (`projection:<name>`, group `projector`).
 *
 *   node dist/bench/cluster-run.js --events=<events.db> --keys=<keys.db> --reads=<read-models.db>
 *     --state=<state.db> [--name=w1] [--timeout-ms=10000] [--pinned=none|role,role…]
 *     [--reap=true|false] [--profile] [--max-seconds=900]
 *
 * `--timeout-ms` (else LEASE_TIMEOUT_MS, as in the app, else 10,000) is the lease timeout, the poll
 * interval is the coordinator's default; `--pinned` names the roles this process may take (none:
 * any, sharing them with the others); `--reap` is `reapDeadLocalHolders` (default true).
 *
 * Prints JSON lines on stdout, each with `ev` and `at` (Date.now(), the host's wall clock, which
 * the parent shares): `starting` (stores open, before the projector and the coordinator start),
 * `ready` (once `coordinator.start()` resolved), `acquired` / `lost` / `released` (role, token),
 * `commit` (the first committed status document of a projection under each token: projection,
 * token, checkpoint — `at` is taken once the commit is confirmed), `commitFailed` (a commit the
 * read store refused: error, projections), `rebuild` (a projection built
 * through a separate rebuild rather than joining the live consumer), and on SIGTERM `stats` (CPU
 * time, and with --profile the time spent in each projection's `apply`, the document changes it
 * committed and their bytes, sampled, and the time commits took). Logs go to stderr. Runs until SIGTERM (stops the coordinator, the projector,
 * closes the stores, exits 0) or SIGKILL; exits on its own when its parent goes (stdin closes) or
 * after --max-seconds.
 */
import { performance } from 'node:perf_hooks';
import { RoleCoordinator, SqliteStateStore } from '@chronicle/cluster';
import { SqliteEventStore } from '@chronicle/event-store';
import { PersonalDataEventStore, SqliteKeyStore } from '@chronicle/personal-data';
import { Projection, projectionRole, Projector, STATUS_COLLECTION } from '@chronicle/projector';
import { projections as builtIn } from '@chronicle/projections';
import { DocumentChange, EmbeddedReadStore } from '@chronicle/read-store';

function parseArgs(argv: string[]): Map<string, string> {
  const args = new Map<string, string>();
  for (const arg of argv) {
    const m = /^--([a-z-]+)(?:=(.*))?$/.exec(arg);
    if (!m) throw new Error(`unknown argument "${arg}"`);
    args.set(m[1], m[2] ?? 'true');
  }
  return args;
}

const emit = (ev: string, fields: Record<string, unknown> = {}) =>
  process.stdout.write(JSON.stringify({ ev, at: Date.now(), ...fields }) + '\n');

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const need = (name: string) =>
    args.get(name) ??
    (() => {
      throw new Error(`--${name}=… is required`);
    })();
  const name = args.get('name') ?? `w${process.pid}`;
  const timeoutMs = Number(args.get('timeout-ms') ?? process.env.LEASE_TIMEOUT_MS ?? 10_000);
  const pinnedArg = args.get('pinned') ?? 'none';
  const pinned =
    pinnedArg === 'none' || pinnedArg === ''
      ? undefined
      : pinnedArg
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean);
  const reap = (args.get('reap') ?? 'true') !== 'false';
  const profile = args.has('profile');
  const maxSeconds = Number(args.get('max-seconds') ?? 900);

  // Bounded: never outlive the bench (its end of the stdin pipe closes when it dies) or the limit.
  process.stdin.on('end', () => process.exit(3));
  process.stdin.on('error', () => process.exit(3));
  process.stdin.resume();
  setTimeout(() => {
    process.stderr.write(`${name}: --max-seconds=${maxSeconds} reached\n`);
    process.exit(4);
  }, maxSeconds * 1000).unref();

  const log = (level: string, message: string) => {
    if (level !== 'debug') process.stderr.write(`${new Date().toISOString().slice(11, 23)} ${name} ${level} ${message}\n`);
    if (message.startsWith('rebuilding ')) emit('rebuild', { projection: message.split(' ')[1] });
  };

  // With --profile: wall time in each projection's apply (its lookups included), per projection.
  const applyMs = new Map<string, number>();
  const projections: Projection[] = profile
    ? builtIn.map((p) => ({
        ...p,
        apply(event, context) {
          const t0 = performance.now();
          const result = p.apply(event, context);
          if (!result) {
            applyMs.set(p.name, (applyMs.get(p.name) ?? 0) + performance.now() - t0);
            return;
          }
          return result.then(() => void applyMs.set(p.name, (applyMs.get(p.name) ?? 0) + performance.now() - t0));
        },
      }))
    : builtIn;

  const events = new PersonalDataEventStore(
    new SqliteEventStore({ filename: need('events'), synchronous: 'NORMAL' }),
    new SqliteKeyStore(need('keys')),
  );
  const reads = new EmbeddedReadStore(need('reads'));
  const state = new SqliteStateStore(need('state'));

  // The first status document each projection commits under each token (and, with --profile, the
  // document changes committed per projection), observed at the read store's port.
  const reported = new Map<string, number>();
  const changes = new Map<string, number>();
  const bytes = new Map<string, number>();
  let commitMs = 0;
  const commit = reads.commit.bind(reads);
  reads.commit = async (batch: DocumentChange[]) => {
    const t0 = performance.now();
    try {
      await commit(batch);
    } catch (error) {
      // Reported here: the projector only sees a page's failed commit when it applies the next page.
      const projections = [...new Set(batch.map((c) => c.collection.split('.')[0]))].filter((c) => c !== STATUS_COLLECTION);
      emit('commitFailed', { error: (error as Error).message, changes: batch.length, projections });
      throw error;
    }
    if (profile) {
      commitMs += performance.now() - t0;
      for (const change of batch) {
        const projection = change.collection.slice(0, change.collection.indexOf('.'));
        if (!projection) continue;
        const n = (changes.get(projection) ?? 0) + 1;
        changes.set(projection, n);
        // Bytes written, sampled (every 16th change): what a commit costs grows with them.
        if (n % 16 === 0) bytes.set(projection, (bytes.get(projection) ?? 0) + 16 * (change.doc ? JSON.stringify(change.doc).length : 16));
      }
    }
    for (const change of batch) {
      const doc = change.doc as { role?: string; token?: number; checkpoint?: number; projection?: string } | null;
      if (change.collection !== STATUS_COLLECTION || !doc || doc.role !== 'live' || doc.token === undefined) continue;
      if (reported.get(doc.projection!) === doc.token) continue;
      reported.set(doc.projection!, doc.token);
      emit('commit', { projection: doc.projection, token: doc.token, checkpoint: doc.checkpoint });
    }
  };

  const projector = new Projector(events, reads, projections, { log });
  const coordinator = new RoleCoordinator(state, { timeoutMs, pinned, reapDeadLocalHolders: reap, log });
  for (const p of projections) coordinator.register(projectionRole(p.name), 'projector', projector.runner(p.name));
  coordinator.on('acquired', (role: string, token: number) => emit('acquired', { role, token }));
  coordinator.on('lost', (role: string, token: number, reason: string) => emit('lost', { role, token, reason }));
  coordinator.on('released', (role: string, token: number, reason: string) => emit('released', { role, token, reason }));

  let stopping = false;
  process.on('SIGTERM', () => {
    if (stopping) return;
    stopping = true;
    const force = setTimeout(() => {
      process.stderr.write(`${name}: shutdown took over 20 s\n`);
      process.exit(5);
    }, 20_000);
    void (async () => {
      await coordinator.stop();
      await projector.stop();
      const cpu = process.cpuUsage();
      emit('stats', {
        cpuSeconds: (cpu.user + cpu.system) / 1e6,
        maxRssMiB: process.resourceUsage().maxRSS / 1024,
        ...(profile && {
          applyMs: Object.fromEntries(applyMs),
          changes: Object.fromEntries(changes),
          bytes: Object.fromEntries(bytes),
          commitMs,
        }),
      });
      await Promise.allSettled([reads.close(), state.close(), events.close()]);
      clearTimeout(force);
      process.exit(0);
    })().catch((error) => {
      process.stderr.write(`${name}: shutdown failed: ${(error as Error).stack ?? error}\n`);
      process.exit(1);
    });
  });

  emit('starting', { pid: process.pid, name, pinned: pinned ?? null, reap, timeoutMs });
  await projector.startCoordinated((role, reason) => coordinator.lost(role, reason));
  await coordinator.start();
  emit('ready', { pid: process.pid, worker: coordinator.worker.id, held: [...coordinator.held().keys()] });
}

main().catch((error) => {
  process.stderr.write(`${(error as Error).stack ?? error}\n`);
  process.exit(1);
});
