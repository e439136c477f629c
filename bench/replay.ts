/**
 * (e) Projection replay and (f) report query latency (docs/quality.md): a realistic two-year history of
 * N events (default 1,000,000, `chronicle seed`'s generator, appended through the store's port)
 * is replayed into every built-in projection on the embedded read store, in a child process per
 * run (bench/replay-run.ts) whose peak RSS is the replay's; then every report and entity query is
 * timed on the result. Reference (same runs): the port's `readAll` over the same file, which is
 * what the replay reads.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { SqliteEventStore } from '@chronicle/event-store';
import { PersonalDataEventStore, SqliteKeyStore } from '@chronicle/personal-data';
import { generateHistory } from '../apps/cli/src/seed/generator';
import { storeRead } from './feed';
import { appendHistory } from '../apps/cli/src/seed/seed';
import { DIST, fmt, log, percentile, removeDir, Row, stat, tempDir } from './lib';

export interface ReplayOptions {
  runs: number;
  events: number;
  /** Timed rounds of every query per run. */
  rounds: number;
}

interface RunResult {
  head: number;
  replaySeconds: number;
  eventsPerSecond: number;
  replayRss: number;
  peakRss: number;
  latencies: Record<string, number[]>;
  fileReplaySeconds: number;
  fileEventsPerSecond: number;
  declarativeEventsPerSecond: number;
}

/** With the V8 flag `npm start` and the image use (package.json, docker/Dockerfile). */
function runChild(eventsFile: string, keysFile: string, readsFile: string, rounds: number): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ['--max-semi-space-size=32', join(DIST, 'bench', 'replay-run.js'), eventsFile, keysFile, readsFile, String(rounds)],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    let err = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (err = (err + c.toString()).slice(-20_000)));
    child.on('exit', (code) =>
      code === 0
        ? resolve(JSON.parse(out.trim().split('\n').pop()!) as RunResult)
        : reject(new Error(`replay-run exited with ${code}:\n${err}`)),
    );
  });
}

export async function benchReplay(options: ReplayOptions): Promise<{ rows: Row[]; details: Record<string, unknown> }> {
  const dir = tempDir('chronicle-bench-replay-');
  try {
    const eventsFile = join(dir, 'events.db');
    const keysFile = join(dir, 'keys.db');
    const t0 = performance.now();
    const history = generateHistory({ events: options.events, seed: 42, years: 2 });
    // As the app stores it: personal fields sealed per person (keys beside the events file).
    const store = new PersonalDataEventStore(
      new SqliteEventStore({ filename: eventsFile, synchronous: 'NORMAL' }),
      new SqliteKeyStore(keysFile),
    );
    await appendHistory(store, history);
    await store.close();
    log(`replay: seeded ${history.length} events in ${fmt((performance.now() - t0) / 1000)} s`);
    history.length = 0;

    const runs: RunResult[] = [];
    const reference: number[] = [];
    for (let run = 0; run < options.runs; run++) {
      reference.push((await storeRead(eventsFile, 5000)).rate); // the projector's page size
      const result = await runChild(eventsFile, keysFile, join(dir, `reads-${run}.db`), options.rounds);
      removeDir(join(dir, `reads-${run}.db`));
      runs.push(result);
      log(
        `replay run ${run + 1}/${options.runs}: ${fmt(result.eventsPerSecond)} events/s, ${fmt(result.replaySeconds)} s, peak RSS ${fmt(result.replayRss / 2 ** 20)} MiB; report file ${fmt(result.fileEventsPerSecond)} events/s, declarative ${fmt(result.declarativeEventsPerSecond)} events/s`,
      );
    }
    const head = runs[0].head;
    const rates = stat(runs.map((r) => r.eventsPerSecond));
    const seconds = stat(runs.map((r) => r.replaySeconds));
    const rss = stat(runs.map((r) => r.replayRss / 2 ** 20));
    const readRef = stat(reference);
    const rows: Row[] = [
      {
        item: 'replay',
        metric: `all projections from 0, ${fmt(head)} events`,
        unit: 'events/s',
        value: rates,
        reference: { label: 'readAll of the same file', value: readRef },
        ratio: stat(runs.map((r, i) => r.eventsPerSecond / reference[i])),
        bar: '≥ 30,000 events/s',
        pass: rates.median >= 30_000,
      },
      {
        item: 'replay',
        metric: `time for ${fmt(head)} events`,
        unit: 's',
        value: seconds,
        bar: head >= 1_000_000 ? '< 35 s' : '< 35 s (at 1,000,000)',
        pass: head >= 1_000_000 ? seconds.median < 35 : undefined,
      },
      { item: 'replay', metric: 'peak RSS of the replay process', unit: 'MiB', value: rss, bar: '< 1,024 MiB', pass: rss.max < 1024 },
    ];
    const fileRates = stat(runs.map((r) => r.fileEventsPerSecond));
    rows.push({
      item: 'replay',
      metric: `chronicle replay of examples/meetings-report (its projection from 0, then its query), ${fmt(head)} events`,
      unit: 'events/s',
      value: fileRates,
      reference: { label: 'readAll of the same file', value: readRef },
      ratio: stat(runs.map((r, i) => r.fileEventsPerSecond / reference[i])),
      bar: '≥ 30,000 events/s',
      pass: fileRates.median >= 30_000,
    });
    const declarativeRates = stat(runs.map((r) => r.declarativeEventsPerSecond));
    rows.push({
      item: 'replay',
      metric: `chronicle replay of examples/declarative-reports/calls-before-won.json (a lookup), ${fmt(head)} events`,
      unit: 'events/s',
      value: declarativeRates,
      reference: { label: 'readAll of the same file', value: readRef },
      ratio: stat(runs.map((r, i) => r.declarativeEventsPerSecond / reference[i])),
      bar: '≥ 30,000 events/s',
      pass: declarativeRates.median >= 30_000,
    });
    // Latency per query over every run's rounds together.
    const names = Object.keys(runs[0].latencies);
    const p95s: number[] = [];
    const perQuery: Record<string, { p50: number; p95: number; max: number; samples: number }> = {};
    for (const name of names) {
      const all = runs.flatMap((r) => r.latencies[name]);
      perQuery[name] = { p50: percentile(all, 50), p95: percentile(all, 95), max: Math.max(...all), samples: all.length };
      p95s.push(perQuery[name].p95);
    }
    const worst = names[p95s.indexOf(Math.max(...p95s))];
    rows.push({
      item: 'queries',
      metric: `p95, worst of ${names.length} reports/queries (${worst})`,
      unit: 'ms',
      value: stat(runs.map((r) => percentile(r.latencies[worst], 95))),
      bar: '< 50 ms',
      pass: Math.max(...p95s) < 50,
      note: names.map((n) => `${n}: p50 ${fmt(perQuery[n].p50)} / p95 ${fmt(perQuery[n].p95)} ms`).join('; '),
    });
    const allLatencies = runs.flatMap((r) => Object.values(r.latencies).flat());
    rows.push({ item: 'queries', metric: 'p50 over all reports/queries', unit: 'ms', value: stat([percentile(allLatencies, 50)]) });
    return { rows, details: { head, runs: runs.map(({ latencies: _, ...r }) => r), readAllRates: reference, perQuery } };
  } finally {
    removeDir(dir);
  }
}
