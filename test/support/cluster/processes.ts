/**
 * The cluster test tier's processes: the EventStoreDB protocol double and any number of API,
 * projector and relay processes, each a real `node dist/apps/<app>/src/main.js` with its own
 * DATA_DIR, against the shared servers (FerretDB / MongoDB, Kafka). Faults are one call away on
 * each process: kill() (SIGKILL), terminate() (SIGTERM, then SIGKILL), pause()/resume()
 * (SIGSTOP/SIGCONT).
 *
 * Runs from the compiled tree (`npm run build`, done by test/cluster/run.sh): the apps are started
 * exactly as they are deployed, and no process pays a TypeScript transpiler at start-up.
 *
 * No process is ever left behind: stopAll() ends them (call it in afterAll), a process 'exit'
 * handler SIGKILLs whatever is still running, and a small detached reaper kills the children if
 * the test runner itself dies without running either (SIGKILL, or a timeout's SIGTERM).
 */
import { ChildProcess, spawn } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync, WriteStream } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Role } from '@chronicle/infrastructure';
import { brokersFromEnv, deleteTopics, uniquePrefix } from '../kafka-test';
import { dropDatabase, freshDatabase, urlFor } from '../mongo-test';
import { makeKeys } from '../test-app';

export const ROOT = resolve(__dirname, '..', '..', '..');

export type AppKind = 'api' | 'projector' | 'relay';
type ProcessKind = AppKind | 'eventstoredb';

const SCRIPTS: Record<ProcessKind, string> = {
  api: 'dist/apps/api/src/main.js',
  projector: 'dist/apps/projector/src/main.js',
  relay: 'dist/apps/relay/src/main.js',
  eventstoredb: 'dist/test/support/eventstoredb-test-server/main.js',
};

/** The line each process prints once it serves (see apps/<app>/src/main.ts). */
const READY: Record<ProcessKind, RegExp> = {
  api: /^Chronicle is listening on (http:\/\/\S+)/,
  projector: /^Chronicle projector running/,
  relay: /^Chronicle relay running/,
  eventstoredb: /^eventstoredb-test-server listening on (esdb:\/\/\S+)$/,
};

export interface OutputLine {
  /** Date.now() when the line was read. */
  at: number;
  stream: 'out' | 'err' | 'harness';
  text: string;
}

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** Lines kept in memory per process (the log file keeps everything). */
const MAX_LINES = 50_000;

/** One child process: its output, signals, and exit. */
export class ManagedProcess {
  readonly lines: OutputLine[] = [];
  readonly exited: Promise<Exit>;
  /** Set once the process has exited. */
  exit?: Exit;
  /** True when the harness ended it on purpose (kill/terminate/stopAll): any other exit is a crash. */
  endedByHarness = false;
  paused = false;
  /** An API's base URL (http://127.0.0.1:<port>), once it is ready. */
  url?: string;
  private readonly child: ChildProcess;
  private readonly log: WriteStream;
  private readonly listeners = new Set<() => void>();
  /** Lines dropped from the front of `lines` (memory bound): line n is lines[n - dropped]. */
  private dropped = 0;

  constructor(
    readonly name: string,
    readonly kind: ProcessKind,
    readonly dataDir: string | undefined,
    readonly logFile: string,
    command: string[],
    env: NodeJS.ProcessEnv,
    private readonly onExit: (p: ManagedProcess) => void,
  ) {
    this.log = createWriteStream(logFile, { flags: 'a' });
    this.child = spawn(command[0], command.slice(1), { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    this.exited = new Promise<Exit>((done) => {
      // 'close', not 'exit': the output is read to its end first.
      this.child.once('close', (code, signal) => {
        this.exit = { code, signal };
        this.note(`exited (code ${code}, signal ${signal})${this.endedByHarness ? '' : ' — not ended by the harness'}`);
        this.log.end();
        this.onExit(this);
        done(this.exit);
      });
    });
    this.child.once('error', (error) => this.note(`spawn error: ${error.message}`));
    this.read(this.child.stdout!, 'out');
    this.read(this.child.stderr!, 'err');
    this.note(`started: pid ${this.child.pid}, ${command.slice(1).join(' ')}${dataDir ? `, DATA_DIR ${dataDir}` : ''}`);
  }

  get pid(): number {
    return this.child.pid!;
  }

  get running(): boolean {
    return this.exit === undefined;
  }

  /**
   * Resolves with the first line matching `pattern` (from the start of the output, or among the
   * lines read at or after `since`, a Date.now() value); rejects on timeout or exit.
   */
  waitForOutput(pattern: RegExp, timeoutMs: number, since = 0): Promise<RegExpExecArray> {
    return new Promise((resolve, reject) => {
      let scanned = 0;
      const finish = (error?: Error, match?: RegExpExecArray) => {
        clearTimeout(timer);
        this.listeners.delete(check);
        if (error) reject(error);
        else resolve(match!);
      };
      const check = () => {
        for (scanned = Math.max(scanned, this.dropped); scanned < this.dropped + this.lines.length; scanned++) {
          const line = this.lines[scanned - this.dropped];
          if (line.stream === 'harness' || line.at < since) continue;
          const match = pattern.exec(line.text);
          if (match) return finish(undefined, match);
        }
        if (this.exit)
          finish(
            new Error(
              `${this.name} exited (code ${this.exit.code}, signal ${this.exit.signal}) before printing ${pattern}:\n${this.tail(40)}`,
            ),
          );
      };
      const timer = setTimeout(
        () => finish(new Error(`${this.name} did not print ${pattern} within ${timeoutMs} ms:\n${this.tail(40)}`)),
        timeoutMs,
      );
      this.listeners.add(check);
      check();
    });
  }

  /** SIGKILL: a crash, or a container killed by its orchestrator. Resolves once it has exited. */
  async kill(): Promise<Exit> {
    this.endedByHarness = true;
    this.signal('SIGKILL');
    return this.exited;
  }

  /** SIGTERM (a graceful stop), then SIGKILL if it has not exited within `timeoutMs`. */
  async terminate(timeoutMs = 10_000): Promise<Exit> {
    this.endedByHarness = true;
    this.signal('SIGTERM');
    if (this.paused) this.resume(); // a stopped process only acts on SIGTERM once continued
    const timer = setTimeout(() => {
      this.note(`did not exit within ${timeoutMs} ms of SIGTERM: SIGKILL`);
      this.signal('SIGKILL');
    }, timeoutMs);
    try {
      return await this.exited;
    } finally {
      clearTimeout(timer);
    }
  }

  /** SIGSTOP: the process freezes (a long GC pause, a stalled VM) and keeps its connections open. */
  pause(): void {
    this.signal('SIGSTOP');
    this.paused = true;
  }

  /** SIGCONT after pause(). */
  resume(): void {
    this.signal('SIGCONT');
    this.paused = false;
  }

  /** The last `count` lines, timestamped, for failure messages. */
  tail(count = 60): string {
    return this.lines
      .slice(-count)
      .map((l) => format(this.name, l))
      .join('\n');
  }

  /** A line of the harness's own (signals, exit) in the output, so the log reads as a timeline. */
  note(text: string): void {
    this.push({ at: Date.now(), stream: 'harness', text });
  }

  /** Sends any signal (noted in the output); nothing when it has exited. */
  signal(signal: NodeJS.Signals): void {
    if (!this.running) return;
    this.note(`${signal} sent`);
    try {
      this.child.kill(signal);
    } catch {
      // already gone
    }
  }

  private read(stream: NodeJS.ReadableStream, name: 'out' | 'err'): void {
    let buffered = '';
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => {
      buffered += chunk;
      const parts = buffered.split('\n');
      buffered = parts.pop()!;
      for (const text of parts) this.push({ at: Date.now(), stream: name, text });
    });
    stream.on('end', () => buffered && this.push({ at: Date.now(), stream: name, text: buffered }));
  }

  private push(line: OutputLine): void {
    this.lines.push(line);
    if (this.lines.length > MAX_LINES) this.dropped += this.lines.splice(0, this.lines.length - MAX_LINES).length;
    if (this.log.writable) this.log.write(`${format(this.name, line)}\n`);
    for (const listener of [...this.listeners]) listener();
  }
}

function format(name: string, line: OutputLine): string {
  return `${new Date(line.at).toISOString()} ${name} ${line.stream === 'out' ? '|' : line.stream === 'err' ? '!' : '#'} ${line.text}`;
}

/** An app process: api, projector or relay. */
export type AppProcess = ManagedProcess & { kind: AppKind };

export interface ClusterOptions {
  /** In topic prefixes, database and run-dir names. */
  label?: string;
  /** Extra env for every app process (e.g. LEASE_TIMEOUT_MS). */
  env?: NodeJS.ProcessEnv;
  /** How long a process may take to print its ready line. */
  readyTimeoutMs?: number;
  /** Keep the Mongo database, the topics and the run dir after stopAll (debugging). Also CLUSTER_KEEP=1. */
  keep?: boolean;
}

export interface StartOptions {
  /** Extra env for this process only (wins over the cluster's). */
  env?: NodeJS.ProcessEnv;
  /** Reuse a DATA_DIR (a restart on the same volume); default a fresh one (a rescheduled container). */
  dataDir?: string;
  /** Wait for the ready line (default true). */
  waitReady?: boolean;
}

/**
 * A Chronicle cluster on the shared servers: the ESDB double (its own process), a fresh Mongo
 * database, a fresh Kafka topic prefix, one API key per role, and the app processes started on it.
 */
export class Cluster {
  readonly processes: ManagedProcess[] = [];
  readonly brokers = brokersFromEnv();
  readonly keys: Record<Role, string>;
  readonly actors: Record<Role, string>;
  esdb!: ManagedProcess;
  esdbUrl!: string;
  private readonly counters = new Map<string, number>();
  private readonly apiKeysEnv: string;
  private readonly pidFile: string;
  private readonly marker: string;
  private reaper?: ChildProcess;
  private stopped = false;
  private readonly exitHandler = () => this.killAllNow();

  private constructor(
    readonly runDir: string,
    readonly database: string,
    readonly topicPrefix: string,
    private readonly options: ClusterOptions,
  ) {
    const made = makeKeys();
    this.keys = made.keys;
    this.actors = made.actors;
    this.apiKeysEnv = made.env;
    this.pidFile = join(runDir, 'pids');
    // On every child's command line, so the reaper only ever kills processes of this run.
    this.marker = `--chronicle-cluster-run=${runDir}`;
  }

  /** Starts the ESDB double; app processes are started with start(). */
  static async start(options: ClusterOptions = {}): Promise<Cluster> {
    const label = options.label ?? 'cluster';
    for (const script of Object.values(SCRIPTS)) {
      if (!existsSync(join(ROOT, script))) throw new Error(`${script} is missing: run npm run build first (test/cluster/run.sh does)`);
    }
    const runDir = mkdtempSync(join(process.env.CLUSTER_RUN_DIR ?? tmpdir(), `chronicle-${label}-`));
    const cluster = new Cluster(runDir, freshDatabase(`chronicle_${label.replace(/\W/g, '_')}`), uniquePrefix(label), options);
    writeFileSync(
      join(runDir, 'assignment.json'),
      JSON.stringify({ strategy: 'round-robin', reps: [{ id: 'rep-a' }, { id: 'rep-b' }, { id: 'rep-c' }] }),
    );
    process.on('exit', cluster.exitHandler);
    cluster.startReaper();
    cluster.esdb = cluster.spawn('eventstoredb', 'eventstoredb', undefined, [SCRIPTS.eventstoredb, '0'], {});
    try {
      cluster.esdbUrl = (await cluster.esdb.waitForOutput(READY.eventstoredb, options.readyTimeoutMs ?? 30_000))[1];
    } catch (error) {
      await cluster.stopAll({ keepLogs: true });
      throw error;
    }
    return cluster;
  }

  /** MONGO_URL of the cluster's database (read models, personal-data keys). */
  get mongoUrl(): string {
    return urlFor(this.database);
  }

  /**
   * What every app process gets (and what the checks give loadConfig to read the store the same
   * way): the ESDB double, the cluster's Mongo database, Kafka, the API keys, automation on with
   * round-robin assignment, and the caller's extra env.
   */
  env(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
    return {
      EVENT_STORE: 'eventstoredb',
      EVENTSTORE_URL: this.esdbUrl,
      READ_STORE: 'mongodb',
      MONGO_URL: this.mongoUrl,
      KAFKA_BROKERS: this.brokers.join(','),
      KAFKA_TOPIC_PREFIX: this.topicPrefix,
      API_KEYS: this.apiKeysEnv,
      ASSIGNMENT_FILE: join(this.runDir, 'assignment.json'),
      RUN_PROJECTOR: 'false',
      HOST: '127.0.0.1',
      LOG_LEVEL: 'info',
      ...this.options.env,
      ...extra,
    };
  }

  /**
   * Starts `api-<n>`, `projector-<n>` or `relay-<n>` and resolves once it printed its ready line.
   * APIs listen on a free port (PORT=0); their URL is in `url`.
   */
  async start(kind: AppKind, options: StartOptions = {}): Promise<AppProcess> {
    if (this.stopped) throw new Error('the cluster was stopped');
    const n = (this.counters.get(kind) ?? 0) + 1;
    this.counters.set(kind, n);
    const name = `${kind}-${n}`;
    const dataDir = options.dataDir ?? join(this.runDir, name, 'data');
    mkdirSync(dataDir, { recursive: true });
    const env = this.env({ DATA_DIR: dataDir, PORT: '0', ...options.env });
    const app = this.spawn(name, kind, dataDir, [SCRIPTS[kind]], env) as AppProcess;
    if (options.waitReady !== false) {
      const match = await app.waitForOutput(READY[kind], this.options.readyTimeoutMs ?? 60_000);
      if (kind === 'api') app.url = match[1].replace('localhost', '127.0.0.1');
    }
    return app;
  }

  /**
   * Cuts every open connection to the event store (the double cannot be killed: its log is in
   * memory); clients reconnect to the same store. Resolves once the double has done it.
   */
  async dropEventStoreConnections(timeoutMs = 10_000): Promise<void> {
    const since = Date.now();
    this.esdb.signal('SIGUSR1');
    await this.esdb.waitForOutput(/^dropped connections/, timeoutMs, since);
  }

  /** Running app processes, optionally of one kind. */
  running(kind?: AppKind): AppProcess[] {
    return this.processes.filter((p): p is AppProcess => p.kind !== 'eventstoredb' && p.running && (!kind || p.kind === kind));
  }

  /** Base URLs of the running (not paused) APIs: what a load balancer would route to. */
  apiUrls(): string[] {
    return this.running('api')
      .filter((p) => !p.paused && p.url)
      .map((p) => p.url!);
  }

  /** Processes that exited without the harness ending them (crashes). */
  unexpectedExits(): ManagedProcess[] {
    return this.processes.filter((p) => p.exit && !p.endedByHarness);
  }

  /** The last lines of every process, in one timeline (for a failing test). */
  output(linesPerProcess = 40): string {
    return this.processes.map((p) => `--- ${p.name} (pid ${p.pid}, log ${p.logFile})\n${p.tail(linesPerProcess)}`).join('\n');
  }

  /**
   * Ends every app process, then the ESDB double (SIGTERM, SIGKILL after `timeoutMs`), drops the
   * database and the topics, and removes the run dir — unless `keepLogs` (a failed test: the
   * process logs stay in runDir) or CLUSTER_KEEP=1 / `keep` (everything stays).
   */
  async stopAll(options: { timeoutMs?: number; keepLogs?: boolean } = {}): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    const timeoutMs = options.timeoutMs ?? 10_000;
    try {
      await Promise.all(this.processes.filter((p) => p.running && p !== this.esdb).map((p) => p.terminate(timeoutMs)));
      await this.esdb?.terminate(timeoutMs);
    } finally {
      this.killAllNow();
      process.removeListener('exit', this.exitHandler);
      if (this.reaper?.pid && this.reaper.exitCode === null) this.reaper.kill('SIGKILL');
    }
    const keep = this.options.keep || process.env.CLUSTER_KEEP === '1';
    if (!keep) {
      await dropDatabase(this.database).catch(() => undefined);
      await deleteTopics(this.brokers, this.topicPrefix);
    }
    if (!keep && !options.keepLogs) rmSync(this.runDir, { recursive: true, force: true });
  }

  /** Synchronous last resort (process 'exit'): SIGKILL whatever still runs. */
  private killAllNow(): void {
    for (const p of this.processes) {
      if (!p.running) continue;
      try {
        process.kill(p.pid, 'SIGKILL');
      } catch {
        // gone
      }
    }
  }

  private spawn(name: string, kind: ProcessKind, dataDir: string | undefined, args: string[], env: NodeJS.ProcessEnv): ManagedProcess {
    // Only what the apps need from the runner's environment: NODE_ENV, JEST_* and the runner's own
    // MONGO_URL/KAFKA_BROKERS must not leak into them.
    const base = {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      TMPDIR: process.env.TMPDIR,
      LANG: process.env.LANG,
      TZ: process.env.TZ,
      NO_COLOR: '1',
    };
    const full = Object.fromEntries(Object.entries({ ...base, ...env }).filter(([, v]) => v !== undefined));
    const p = new ManagedProcess(
      name,
      kind,
      dataDir,
      join(this.runDir, `${name}.log`),
      [process.execPath, ...args, this.marker],
      full,
      () => this.writePids(),
    );
    this.processes.push(p);
    this.writePids();
    return p;
  }

  private writePids(): void {
    if (existsSync(this.runDir))
      writeFileSync(
        this.pidFile,
        this.running()
          .map((p) => p.pid)
          .concat(this.esdb?.running ? [this.esdb.pid] : [])
          .join('\n') + '\n',
      );
  }

  /**
   * A detached shell that outlives the test runner: once the runner's pid is gone, it SIGKILLs
   * the pids in the pid file whose command line carries this run's marker (never a recycled pid).
   */
  private startReaper(): void {
    const script = [
      'while kill -0 "$1" 2>/dev/null; do sleep 1; done',
      '[ -f "$2" ] || exit 0',
      'while read -r pid; do',
      '  [ -n "$pid" ] || continue',
      '  if tr "\\0" " " <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "$3"; then kill -9 "$pid" 2>/dev/null; fi',
      'done <"$2"',
    ].join('\n');
    this.reaper = spawn('bash', ['-c', script, 'chronicle-cluster-reaper', String(process.pid), this.pidFile, this.marker], {
      detached: true,
      stdio: 'ignore',
    });
    this.reaper.unref();
  }
}
