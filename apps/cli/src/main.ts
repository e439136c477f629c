import 'reflect-metadata';
import { Command, InvalidArgumentError } from 'commander';
import { SingleBar, Presets } from 'cli-progress';
import { createWriteStream } from 'node:fs';
import type { EventFailure } from '@chronicle/cluster';
import { ProjectionFailureEvent, projectionRole, Projector, ReadModels } from '@chronicle/projector';
import {
  loadReportFile,
  ReplayFailedError,
  replayReport,
  ReportFile,
  ReportFileError,
  ReportDefinition,
  ReportParamError,
  ReportParams,
  ReportRequest,
  servedReports,
  reportTable,
  resolveReportParams,
  TableRow,
} from '@chronicle/projections';
import { maskers } from '@chronicle/personal-data';
import {
  ChronicleConfig,
  ConfigError,
  createEventStore,
  createReadStore,
  createStateStore,
  loadConfig,
  toCsv,
} from '@chronicle/infrastructure';
import { generateHistory } from './seed/generator';
import { appendHistory } from './seed/seed';
import { ImportCliOptions, importFile } from './import';

const integer = (name: string) => (value: string) => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError(`${name} must be a non-negative integer`);
  return n;
};

function config(): ChronicleConfig {
  try {
    return loadConfig(process.env);
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(2);
    }
    throw error;
  }
}

/** A rebuild stopped on an event does not end by itself: say where, and how to go on. */
function rebuildStopped(name: string, failure: EventFailure): never {
  process.stderr.write(
    `\nthe rebuild of ${name} is stopped on ${failure.eventType} ${failure.eventId} at position ${failure.position} (attempt ${failure.attempts}): ${failure.error}\n` +
      `fix the projection, or skip the event with POST /projections/${name}/skip { "eventId": "${failure.eventId}", "reason": "…" } while a projector runs\n`,
  );
  process.exit(1);
}

const program = new Command('chronicle')
  .description('Chronicle command line: seed demo data, rebuild projections, export events')
  .showHelpAfterError();

program
  .command('seed')
  .description('append a realistic two-year CRM history to the event store')
  .option('--events <n>', 'approximate number of events', integer('--events'), 10_000)
  .option('--seed <n>', 'random seed (same seed, same history)', integer('--seed'), 42)
  .option('--years <n>', 'years of history, ending now', integer('--years'), 2)
  .action(async (options: { events: number; seed: number; years: number }) => {
    const cfg = config();
    const started = Date.now();
    const history = generateHistory({ events: options.events, seed: options.seed, years: options.years, pipeline: cfg.pipeline });
    const store = createEventStore(cfg);
    const bar = new SingleBar({ format: 'seed |{bar}| {value}/{total} events | {rate} events/s | ETA {eta}s' }, Presets.shades_classic);
    bar.start(history.length, 0, { rate: 0 });
    await appendHistory(store, history, (done) => bar.update(done, { rate: Math.round(done / ((Date.now() - started) / 1000)) }));
    bar.stop();
    await store.close();
    process.stdout.write(
      `appended ${history.length} events in ${((Date.now() - started) / 1000).toFixed(1)} s to ${cfg.eventStore === 'sqlite' ? cfg.dataDir : cfg.eventStoreUrl}\n`,
    );
  });

const projectionsCommand = program.command('projections').description('projection status and rebuilds');

projectionsCommand
  .command('status')
  .description(
    "each projection's checkpoint, lag, status and holder (the process working its role); the process managers' and the relay's; the event each failed one is stopped on",
  )
  .action(async () => {
    const cfg = config();
    const { projections } = servedReports(cfg.reportsDir);
    const events = createEventStore(cfg);
    const reads = await createReadStore(cfg);
    const state = await createStateStore(cfg);
    const models = new ReadModels(
      reads,
      events,
      projections.map((p) => p.name),
    );
    const [info, leases, checkpoints, head] = await Promise.all([
      models.info(),
      state.leases(),
      state.checkpoints(),
      events.headPosition(),
    ]);
    const holders = new Map(leases.map((l) => [l.role, l.released ? 'released' : `${l.holder.host}:${l.holder.pid} (token ${l.token})`]));
    console.table(
      info.map((p) => ({
        name: p.name,
        version: p.version,
        generation: p.generation,
        checkpoint: p.checkpoint,
        lag: p.lag,
        status: p.status,
        holder: holders.get(projectionRole(p.name)) ?? '-',
      })),
    );
    const consumers = checkpoints.filter((c) => !c.name.startsWith('projection:'));
    if (consumers.length) {
      console.table(
        consumers.map((c) => ({
          role: c.name,
          checkpoint: c.position,
          lag: Math.max(0, head - c.position),
          status: c.failure ? 'failed' : 'live',
          holder: holders.get(c.name) ?? '-',
        })),
      );
    }
    // Roles stopped on an event: what, since when, how often tried, and how to go on.
    const failures = [
      ...info.flatMap((p) => [
        ...(p.failure ? [{ role: projectionRole(p.name), generation: p.generation, ...p.failure }] : []),
        ...(p.rebuild?.failure ? [{ role: projectionRole(p.name), generation: p.rebuild.generation, ...p.rebuild.failure }] : []),
      ]),
      ...consumers.flatMap((c) => (c.failure ? [{ role: c.name, generation: undefined, ...c.failure }] : [])),
    ];
    if (failures.length) {
      process.stdout.write(
        `\n${failures.length} stopped on an event (POST /projections/<name>/retry, or /skip with { "eventId", "reason" }):\n`,
      );
      console.table(
        failures.map((f) => ({
          role: f.role,
          ...(f.generation !== undefined && { generation: f.generation }),
          event: `${f.eventType} ${f.eventId}`,
          position: f.position,
          attempts: f.attempts,
          since: f.firstFailedAt,
          'next attempt': f.nextRetryAt,
          error: f.error,
        })),
      );
    }
    process.stdout.write(`projector running: ${await models.projectorAlive()}\n`);
    await events.close();
    await reads.close();
    await state.close();
  });

projectionsCommand
  .command('rebuild <name>')
  .description('rebuild a projection from the whole history into a fresh generation, then swap it in')
  .action(async (name: string) => {
    const cfg = config();
    const { projections } = servedReports(cfg.reportsDir);
    if (!projections.some((p) => p.name === name)) {
      process.stderr.write(`no projection "${name}"; projections: ${projections.map((p) => p.name).join(', ')}\n`);
      process.exit(2);
    }
    const events = createEventStore(cfg);
    const reads = await createReadStore(cfg);
    const models = new ReadModels(
      reads,
      events,
      projections.map((p) => p.name),
    );
    const bar = new SingleBar({ format: `${name} |{bar}| {value}/{total} | {eps} events/s | ETA {eta}s` }, Presets.shades_classic);
    let projector: Projector | undefined;
    /** Asks the running projector and follows its progress: false when it is gone before starting (the request is withdrawn then). */
    const askRunningProjector = async (): Promise<boolean> => {
      const before = (await models.info()).find((p) => p.name === name)!.generation;
      await models.requestRebuild(name, 'cli');
      process.stdout.write('rebuild requested from the running projector\n');
      bar.start(await events.headPosition(), 0, { eps: 0 });
      const requestedAt = Date.now();
      for (;;) {
        await new Promise((r) => setTimeout(r, 500));
        const info = (await models.info()).find((p) => p.name === name)!;
        if (info.generation > before && !info.rebuild) return true; // swapped in
        if (info.rebuild?.failure) {
          bar.stop();
          rebuildStopped(name, info.rebuild.failure);
        }
        if (info.rebuild) {
          bar.setTotal(info.rebuild.checkpoint + info.rebuild.lag);
          bar.update(info.rebuild.checkpoint, { eps: info.rebuild.eventsPerSecond ?? 0 });
          continue;
        }
        // Not started: a request left behind would run at some later start, unasked; take it back.
        const gone = !(await models.projectorAlive());
        if (gone || Date.now() - requestedAt > 30_000) {
          await models.withdrawRebuildRequest(name);
          bar.stop();
          if (gone) {
            process.stdout.write('the projector stopped before starting the rebuild: rebuilding here\n');
            return false;
          }
          process.stderr.write('the running projector has not started the rebuild within 30 s; the request is withdrawn\n');
          process.exit(1);
        }
      }
    };
    const rebuildHere = async (): Promise<void> => {
      // A request an earlier CLI left for a projector would run again at its next start: this rebuild answers it.
      await models.withdrawRebuildRequest(name);
      projector = new Projector(events, reads, projections);
      projector.on('rebuild', (p: { projection: string; checkpoint: number; head: number; eventsPerSecond: number }) => {
        if (p.projection !== name) return;
        bar.setTotal(p.head);
        bar.update(p.checkpoint, { eps: p.eventsPerSecond });
      });
      let stoppedOn: EventFailure | undefined;
      projector.on('failed', (f: ProjectionFailureEvent) => {
        if (f.projection !== name || f.role !== 'rebuild') return;
        stoppedOn = f.failure;
        // Stopping ends the rebuild after its page, with the failure committed in its status (a projector started later shows it).
        void projector!.stop();
      });
      await projector.start();
      bar.start(await events.headPosition(), 0, { eps: 0 });
      await projector.rebuild(name, 'cli');
      if (stoppedOn) {
        bar.stop();
        await projector.stop();
        rebuildStopped(name, stoppedOn);
      }
    };
    let alive = await models.projectorAlive();
    // A projector that stopped cleanly a moment ago may have had a peer, whose next beat (every 2 s) shows it.
    const stoppedAt = alive ? undefined : await models.projectorStoppedAt();
    if (stoppedAt !== undefined && Date.now() - stoppedAt < 3000) {
      await new Promise((r) => setTimeout(r, 3000 - (Date.now() - stoppedAt)));
      alive = await models.projectorAlive();
    }
    // A projector runs elsewhere (npm start or apps/projector): ask it; none (or it went away): rebuild here.
    if (!alive || !(await askRunningProjector())) await rebuildHere();
    bar.stop();
    const info = (await models.info()).find((p) => p.name === name)!;
    process.stdout.write(`${name}: generation ${info.generation} live at position ${info.checkpoint}\n`);
    await projector?.stop();
    await events.close();
    await reads.close();
  });

/** The global feed as NDJSON, from a position and optionally one category. */
async function exportFeed(cfg: ChronicleConfig, options: { from?: string; category?: string }, out: NodeJS.WritableStream): Promise<void> {
  const store = createEventStore(cfg);
  let from = options.from === undefined ? 0 : integer('--from')(options.from);
  for (;;) {
    const page = await store.readAll({
      fromPosition: from,
      maxCount: 5000,
      filter: options.category ? { categories: [options.category] } : undefined,
    });
    for (const event of page.events) out.write(`${JSON.stringify(event)}\n`);
    from = page.checkpoint;
    if (page.isEnd) break;
  }
  await store.close();
}

interface ReportExportOptions extends ReportRequest {
  report: string;
  table?: string;
  format: string;
  masked?: boolean;
}

/**
 * A report computed from the read models as `GET /reports/<name>` computes it (same parameters,
 * defaults and checks), written as JSON or as one of its tables in CSV.
 */
async function exportReport(cfg: ChronicleConfig, options: ReportExportOptions, out: NodeJS.WritableStream): Promise<void> {
  const { projections, reports } = servedReports(cfg.reportsDir);
  const report = reports.find((r) => r.name === options.report);
  if (!report) throw new UsageError(`no report "${options.report}"; reports: ${reports.map((r) => r.name).join(', ')}`);
  if (options.format !== 'csv' && options.format !== 'json') throw new UsageError('--format: must be csv or json');
  const { params, table } = reportOptions(report, options);
  const events = createEventStore(cfg);
  const reads = await createReadStore(cfg);
  try {
    const readModels = new ReadModels(
      reads,
      events,
      projections.map((p) => p.name),
    );
    const behind = (await readModels.info()).filter((p) => report.projections.includes(p.name) && p.lag > 0);
    for (const p of behind) process.stderr.write(`note: projection ${p.name} is ${p.lag} events behind the store's head\n`);
    let body = await report.run(params, { readModels, pipeline: cfg.pipeline, scoring: cfg.scoring });
    if (options.masked) body = maskers.report(body);
    writeReport(out, report, options.format, table, body);
  } finally {
    await events.close();
    await reads.close();
  }
}

const kebab = (name: string) => name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);

/** A report's parameters and CSV table from the command line, checked as the API checks them (a mistake names its option). */
function reportOptions(report: ReportDefinition, options: ReportRequest & { table?: string }): { params: ReportParams; table: string } {
  try {
    return { params: resolveReportParams(report, options), table: reportTable(report, options.table) };
  } catch (error) {
    if (error instanceof ReportParamError) throw new UsageError(error.message.replace(/^(\w+)/, (name) => `--${kebab(name)}`));
    throw error;
  }
}

/** A report's answer as JSON, or one of its tables as CSV. */
function writeReport(out: NodeJS.WritableStream, report: ReportDefinition, format: string, table: string, body: unknown): void {
  out.write(format === 'json' ? `${JSON.stringify(body, null, 2)}\n` : toCsv((report.tables[table] as (r: unknown) => TableRow[])(body)));
}

/** A mistake in the command line (exit code 2), or a report file that fails (1): said on standard error. */
class UsageError extends Error {
  constructor(
    message: string,
    readonly exitCode = 2,
  ) {
    super(message);
  }
}

program
  .command('export')
  .description('write the global feed as NDJSON (one event with its metadata per line), or with --report a report as JSON or CSV')
  .option('--report <name>', 'a report of GET /reports (pipeline, churn, …) instead of the feed')
  .option('--from <value>', 'feed: start after this position (default 0); report: start of the range (ISO 8601)')
  .option('--to <date>', 'report: end of the range, exclusive (ISO 8601; default now)')
  .option('--interval <interval>', 'report: day, week, month, quarter or year (default month)')
  .option('--group-by <key>', "report: one of the report's groupings")
  .option('--as-of <date>', 'report: the instant (pipeline, goals; default now)')
  .option('--limit <n>', 'report: top N (customer-value; default 10)', integer('--limit'))
  .option('--table <name>', "report, CSV: which of the report's tables (default its first)")
  .option('--format <format>', 'report: json or csv', 'json')
  .option('--masked', 'report: personal fields masked as an analyst sees them')
  .option('--category <category>', 'feed: only streams of this category (customer, deal, …)')
  .option('--out <file>', 'file to write (default: standard output)')
  .action(async (options: Omit<ReportExportOptions, 'report'> & { report?: string; category?: string; out?: string }) => {
    const cfg = config();
    const out = options.out ? createWriteStream(options.out) : process.stdout;
    try {
      if (options.report === undefined) await exportFeed(cfg, options, out);
      else await exportReport(cfg, { ...options, report: options.report }, out);
    } catch (error) {
      if (!(error instanceof UsageError)) throw error;
      process.stderr.write(`chronicle export: ${error.message}\n`);
      process.exit(error.exitCode);
    }
    if (options.out) await new Promise<void>((resolve) => (out as NodeJS.WritableStream).end(() => resolve()));
  });

interface ReplayOptions extends ReportRequest {
  table?: string;
  format: string;
  knownAt?: string;
  out?: string;
}

/**
 * A report of one's own, from one file, over the whole history: its projection replayed into a
 * temporary read store (the live one untouched), then its query; JSON or one of its tables as CSV.
 */
async function replayFile(cfg: ChronicleConfig, path: string, options: ReplayOptions, out: NodeJS.WritableStream): Promise<void> {
  if (options.format !== 'csv' && options.format !== 'json') throw new UsageError('--format: must be csv or json');
  let file: ReportFile;
  try {
    file = loadReportFile(path);
  } catch (error) {
    if (error instanceof ReportFileError) throw new UsageError(error.message);
    throw error;
  }
  const { report } = file;
  const { params, table } = reportOptions(report, options);
  let knownAt: string | undefined;
  if (options.knownAt !== undefined) {
    const ms = Date.parse(options.knownAt);
    if (Number.isNaN(ms)) throw new UsageError('--known-at: must be an ISO 8601 date-time');
    knownAt = new Date(ms).toISOString();
  }
  const events = createEventStore(cfg);
  const bar = new SingleBar(
    { format: `${report.name} |{bar}| {value}/{total} | {eps} events/s | ETA {eta}s`, stream: process.stderr },
    Presets.shades_classic,
  );
  let started = false;
  try {
    const replayed = await replayReport({
      events,
      projections: file.projections,
      report,
      params,
      pipeline: cfg.pipeline,
      scoring: cfg.scoring,
      knownAt,
      tmpDir: cfg.dataDir,
      onProgress: ({ position, head, eventsPerSecond }) => {
        if (!started) bar.start(head, 0, { eps: 0 });
        started = true;
        bar.update(Math.min(position, head), { eps: eventsPerSecond });
      },
    });
    bar.stop();
    process.stderr.write(
      `${report.name}: replayed to position ${replayed.position} (known at ${replayed.knownAt}) in ${replayed.seconds.toFixed(1)} s\n`,
    );
    writeReport(out, report, options.format, table, replayed.result);
  } catch (error) {
    bar.stop();
    if (error instanceof ReplayFailedError || error instanceof ReportFileError) throw new UsageError(error.message, 1);
    throw error;
  } finally {
    await events.close();
  }
}

program
  .command('replay <file>')
  .description(
    'run a report of your own (one .js or .ts file: its projection and its query; or a declarative .json report) over the whole history; the live read models are not touched',
  )
  .option('--from <date>', 'start of the range (ISO 8601)')
  .option('--to <date>', 'end of the range, exclusive (ISO 8601; default now)')
  .option('--interval <interval>', 'day, week, month, quarter or year (default month)')
  .option('--group-by <key>', "one of the report's groupings")
  .option('--as-of <date>', 'the instant, for reports that take one (default now)')
  .option('--limit <n>', 'top N, for reports that take one', integer('--limit'))
  .option(
    '--known-at <date>',
    'only the events recorded up to this instant (default now): the same figures later, whatever is appended since',
  )
  .option('--table <name>', "CSV: which of the report's tables (default its first)")
  .option('--format <format>', 'json or csv', 'json')
  .option('--out <file>', 'file to write (default: standard output)')
  .action(async (path: string, options: ReplayOptions) => {
    const cfg = config();
    const out = options.out ? createWriteStream(options.out) : process.stdout;
    try {
      await replayFile(cfg, path, options, out);
    } catch (error) {
      if (!(error instanceof UsageError)) throw error;
      process.stderr.write(`chronicle replay: ${error.message}\n`);
      process.exit(error.exitCode);
    }
    if (options.out) await new Promise<void>((resolve) => (out as NodeJS.WritableStream).end(() => resolve()));
  });

program
  .command('import <file>')
  .description(
    "import customers, leads, deals or interactions from a CSV or NDJSON file (columns: the API's fields; occurredAt: business time): all rows validated first, nothing appended while any is invalid; re-running appends nothing twice",
  )
  .requiredOption('--type <type>', 'customers, leads, deals or interactions')
  .option('--format <format>', 'csv or ndjson (default: from the file name; .ndjson/.jsonl are NDJSON)')
  .option('--key <column>', "the column whose value is each row's key (default: a hash of the row)")
  .option('--skip-invalid', 'append the valid rows even when some are invalid')
  .option('--rejects <file>', 'with --skip-invalid: write the rejected rows there, as in the file')
  .option('--no-automation', 'history: the automation (scoring, assignment, rules, stall checks) does not act on these events')
  .option('--actor <id>', "who imports: each event's actor, and the default owner (as the API's caller)", 'cli')
  .action(async (path: string, options: ImportCliOptions) => {
    process.exitCode = await importFile(config(), path, options);
  });

program.parseAsync(process.argv).catch((error) => {
  process.stderr.write(`chronicle: ${(error as Error).message}\n`);
  process.exit(1);
});
