/**
 * (c) Commands over HTTP on the embedded default: the real app (dist/apps/api/src/main.js, its own
 * DATA_DIR, SQLite FULL, projector in-process) as a child process, loaded by autocannon from this
 * process over 127.0.0.1 with 50 connections: POST /customers/:id/interactions with valid bodies
 * spread over 100 customers. Beside it, in the same run, the bare route (bench/bare-app.ts) under
 * the same load. Only one server runs at a time; each is warmed up first, and the app's projector
 * has caught up before the timed load starts.
 */
import autocannon from 'autocannon';
import { randomUUID } from 'node:crypto';
import { copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { seedFeed } from './feed';
import {
  API_KEYS,
  BENCH_RATE_LIMIT,
  authHeaders,
  DIST,
  freePort,
  INTERACTION_BODY,
  log,
  registerCustomer,
  removeDir,
  Row,
  startChild,
  stat,
  tempDir,
  waitForProjections,
} from './lib';

export interface HttpOptions {
  runs: number;
  seconds: number;
  warmupSeconds: number;
  connections: number;
  customers: number;
  /** Events already in the store when the app starts (0: an empty store). */
  history: number;
  /**
   * Extra variants run beside the default in every run (diagnosis): the app with other settings
   * (e.g. RUN_PROJECTOR=false), or the app or the bare route with bench-only prototypes applied
   * (bench/prototypes/patches.ts).
   */
  variants: Variant[];
}

export interface Variant {
  name: string;
  target: 'app' | 'bare';
  env?: Record<string, string>;
  patches?: string[];
}

export interface LoadResult {
  rps: number;
  p50: number;
  p99: number;
  requests: number;
  non2xx: number;
  errors: number;
  timeouts: number;
}

export async function load(baseUrl: string, customerIds: string[], connections: number, seconds: number): Promise<LoadResult> {
  let i = 0;
  const result = await autocannon({
    url: baseUrl,
    connections,
    duration: seconds,
    method: 'POST',
    headers: authHeaders,
    body: INTERACTION_BODY,
    requests: [
      {
        method: 'POST',
        setupRequest: (request) => ({ ...request, path: `/customers/${customerIds[i++ % customerIds.length]}/interactions` }),
      },
    ],
  });
  const ok = result['2xx'];
  return {
    rps: ok / result.duration,
    p50: result.latency.p50,
    p99: result.latency.p99,
    requests: result.requests.total,
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
  };
}

const PATCHED_MAIN = join(DIST, 'bench', 'prototypes', 'patched-main.js');
const BARE = join(DIST, 'bench', 'bare-app.js');
const APP = join(DIST, 'apps', 'api', 'src', 'main.js');

/** The script to run and its extra env, with bench-only prototypes applied when asked. */
function entry(target: string, patches: string[] = []): { script: string; env: Record<string, string> } {
  if (patches.length === 0) return { script: target, env: {} };
  return { script: PATCHED_MAIN, env: { BENCH_TARGET: target, BENCH_PATCHES: patches.join(',') } };
}

async function bare(options: HttpOptions, patches: string[] = []): Promise<LoadResult> {
  const { script, env } = entry(BARE, patches);
  const child = await startChild(script, env, await freePort());
  try {
    const ids = Array.from({ length: options.customers }, () => randomUUID());
    await load(child.url, ids, options.connections, options.warmupSeconds);
    return await load(child.url, ids, options.connections, options.seconds);
  } finally {
    await child.stop();
  }
}

let historyTemplate: string | undefined;

async function app(
  options: HttpOptions,
  env: Record<string, string> = {},
  patches: string[] = [],
): Promise<LoadResult & { projectionLagAfterMs: number }> {
  const dataDir = tempDir('http');
  if (historyTemplate) copyFileSync(historyTemplate, join(dataDir, 'events.db'));
  const run = entry(APP, patches);
  const child = await startChild(
    run.script,
    { DATA_DIR: dataDir, API_KEYS, LOG_LEVEL: 'warn', RATE_LIMIT_PER_MINUTE: BENCH_RATE_LIMIT, ...env, ...run.env },
    await freePort(),
  );
  try {
    const ids: string[] = [];
    for (let i = 0; i < options.customers; i += 10) {
      ids.push(
        ...(await Promise.all(
          Array.from({ length: Math.min(10, options.customers - i) }, (_, k) => registerCustomer(child.url, `Bench Customer ${i + k}`)),
        )),
      );
    }
    await load(child.url, ids, options.connections, options.warmupSeconds);
    if (env.RUN_PROJECTOR !== 'false') await waitForProjections(child.url);
    const result = await load(child.url, ids, options.connections, options.seconds);
    // How long the in-process projector needs after the load to catch up (diagnostic).
    const projectionLagAfterMs = env.RUN_PROJECTOR !== 'false' ? await waitForProjections(child.url) : 0;
    return { ...result, projectionLagAfterMs };
  } catch (error) {
    process.stderr.write(child.output());
    throw error;
  } finally {
    await child.stop();
    removeDir(dataDir);
  }
}

export async function benchHttp(options: HttpOptions): Promise<{ rows: Row[]; details: Record<string, unknown> }> {
  if (options.history > 0) {
    historyTemplate = join(tempDir('http-history'), 'events.db');
    log(`http: seeding a ${options.history.toLocaleString('en-US')}-event store, copied into every app's DATA_DIR…`);
    await seedFeed(historyTemplate, options.history);
  }
  const bares: LoadResult[] = [];
  const apps: Array<LoadResult & { projectionLagAfterMs: number }> = [];
  const variants = new Map<string, LoadResult[]>(options.variants.map((v) => [v.name, []]));
  for (let run = 0; run < options.runs; run++) {
    const steps: Array<() => Promise<void>> = [
      async () => void bares.push(await bare(options)),
      async () => void apps.push(await app(options)),
    ];
    for (const v of options.variants) {
      steps.push(
        async () =>
          void variants.get(v.name)!.push(v.target === 'bare' ? await bare(options, v.patches) : await app(options, v.env, v.patches)),
      );
    }
    if (run % 2 === 1) steps.reverse();
    for (const step of steps) await step();
    const a = apps[run];
    const b = bares[run];
    log(
      `http run ${run + 1}/${options.runs}: app ${a.rps.toFixed(0)} req/s p50 ${a.p50} ms p99 ${a.p99} ms non-2xx ${a.non2xx} errors ${a.errors} ` +
        `(projector caught up ${a.projectionLagAfterMs} ms after the load); bare ${b.rps.toFixed(0)} req/s p99 ${b.p99} ms non-2xx ${b.non2xx}` +
        options.variants
          .map((v) => `; ${v.name} ${variants.get(v.name)![run].rps.toFixed(0)} req/s p99 ${variants.get(v.name)![run].p99} ms`)
          .join(''),
    );
  }
  const ratio = stat(apps.map((a, i) => a.rps / bares[i].rps));
  const rps = stat(apps.map((a) => a.rps));
  const p99 = stat(apps.map((a) => a.p99));
  const non2xx = apps.reduce((s, a) => s + a.non2xx + a.errors, 0);
  const bareNon2xx = bares.reduce((s, a) => s + a.non2xx + a.errors, 0);
  const rows: Row[] = [
    {
      item: 'c http',
      metric: `POST /customers/:id/interactions, ${options.connections} conns${options.history ? `, ${options.history.toLocaleString('en-US')} events in store` : ''}`,
      unit: 'req/s',
      value: rps,
      reference: { label: 'bare Nest+Fastify route', value: stat(bares.map((b) => b.rps)) },
      ratio,
      bar: '≥ 3,000/s and ≥ 0.6 × bare',
      pass: rps.median >= 3000 && ratio.median >= 0.6 && non2xx === 0,
      note: `non-2xx+errors: app ${apps.map((a) => a.non2xx + a.errors).join('/')}, bare ${bares.map((b) => b.non2xx + b.errors).join('/')}`,
    },
    {
      item: 'c http',
      metric: 'p99 latency of the above',
      unit: 'ms',
      value: p99,
      reference: { label: 'bare route p99', value: stat(bares.map((b) => b.p99)) },
      ratio: stat(apps.map((a, i) => a.p99 / bares[i].p99)),
      bar: '< 50 ms',
      pass: p99.median < 50,
      note: `p50 app ${stat(apps.map((a) => a.p50)).median} ms, bare ${stat(bares.map((b) => b.p50)).median} ms`,
    },
  ];
  for (const v of options.variants) {
    const results = variants.get(v.name)!;
    // An app variant with cheap-bind is compared with a bare variant with cheap-bind, if one ran.
    const cheap = v.patches?.includes('cheap-bind');
    const bareTwin =
      v.target === 'app' && cheap ? options.variants.find((o) => o.target === 'bare' && o.patches?.includes('cheap-bind')) : undefined;
    const reference = bareTwin ? variants.get(bareTwin.name)! : bares;
    rows.push({
      item: 'c http',
      metric: `${v.target} with ${v.name} (diagnosis)`,
      unit: 'req/s',
      value: stat(results.map((r) => r.rps)),
      reference: { label: bareTwin ? `bare with ${bareTwin.name}` : 'bare Nest+Fastify route', value: stat(reference.map((b) => b.rps)) },
      ratio: stat(results.map((r, i) => r.rps / reference[i].rps)),
      note: `p99 ${stat(results.map((r) => r.p99)).median} ms, non-2xx ${results.map((r) => r.non2xx + r.errors).join('/')}`,
    });
  }
  if (bareNon2xx > 0) rows[0].note += ' (bare route had non-2xx: the reference is invalid)';
  return { rows, details: { app: apps, bare: bares, variants: Object.fromEntries(variants), options } };
}
