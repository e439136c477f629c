/**
 * A big store for the items that read the real app on a realistic history (dashboard, reads): a
 * two-year history of N events from `chronicle seed`'s generator, appended through the app's own
 * event store factory (personal fields sealed, keys.db) into a DATA_DIR; the real app
 * (dist/apps/api/src/main.js) started on it as a child process; and the wait until every
 * projection is live at the head.
 */
import { join } from 'node:path';
import { createEventStore, loadConfig } from '@chronicle/infrastructure';
import { generateHistory } from '../apps/cli/src/seed/generator';
import { appendHistory } from '../apps/cli/src/seed/seed';
import { API_KEY, authHeaders, BENCH_RATE_LIMIT, Child, DIST, fmt, freePort, log, sleep, startChild } from './lib';

const APP = join(DIST, 'apps', 'api', 'src', 'main.js');

/**
 * Seeds `events` generated events into `dataDir` as `chronicle seed` does (seed 42, two years);
 * NORMAL while seeding only: the app opens the file at its default, FULL. Returns the head position.
 */
export async function seedBigStore(dataDir: string, events: number, item: string): Promise<{ head: number; seedSeconds: number }> {
  const t0 = performance.now();
  const config = loadConfig({ DATA_DIR: dataDir, SQLITE_SYNCHRONOUS: 'NORMAL' });
  const history = generateHistory({ events, seed: 42, years: 2, pipeline: config.pipeline });
  const store = createEventStore(config);
  let nextLog = 0;
  try {
    await appendHistory(store, history, (done) => {
      if (done >= nextLog) {
        log(`${item}: seeding ${fmt(done)}/${fmt(history.length)} events`);
        nextLog += 100_000;
      }
    });
    const head = await store.headPosition();
    const seedSeconds = (performance.now() - t0) / 1000;
    log(`${item}: seeded ${fmt(head)} events in ${fmt(seedSeconds)} s`);
    return { head, seedSeconds };
  } finally {
    await store.close();
  }
}

/**
 * The real app on `dataDir` (FULL, LOG_LEVEL=warn), the bench key an admin's. AUTOMATION=off: the
 * seeded history is the past; automation reacting to two years of it at start would only add its
 * own commands to the load (the acquisition manager still runs).
 */
export async function startBigApp(dataDir: string): Promise<Child> {
  return startChild(
    APP,
    {
      DATA_DIR: dataDir,
      API_KEYS: `${API_KEY}:bench-admin:admin`,
      LOG_LEVEL: 'warn',
      RATE_LIMIT_PER_MINUTE: BENCH_RATE_LIMIT,
      AUTOMATION: 'off',
    },
    await freePort(),
    '/health',
    120_000,
  );
}

/** Polls GET /projections until every projection is live at the head and the process managers have caught up; logs progress. */
export async function waitCaughtUp(baseUrl: string, head: number, timeoutMs: number, item: string): Promise<number> {
  const started = Date.now();
  let lastLog = 0;
  for (;;) {
    const res = await fetch(`${baseUrl}/projections`, { headers: authHeaders });
    const body = (await res.json()) as {
      projections?: Array<{ lag: number; status: string }>;
      processManagers?: Array<{ role: string; lag: number; failure?: unknown }>;
    };
    const projections = body.projections ?? [];
    const managers = body.processManagers ?? [];
    const lag = Math.max(0, ...projections.map((p) => p.lag));
    const managersLag = Math.max(0, ...managers.filter((m) => !m.failure).map((m) => m.lag));
    if (res.ok && projections.length > 0 && lag === 0 && managersLag === 0 && projections.every((p) => p.status === 'live'))
      return Date.now() - started;
    if (Date.now() - lastLog > 10_000) {
      lastLog = Date.now();
      log(
        `${item}: waiting for the projections: greatest lag ${fmt(lag)} of ${fmt(head)} events (a building projection reports its lag at its last commit), ${projections.filter((p) => p.status !== 'live').length} not live; process managers' lag ${fmt(managersLag)}; ${fmt((Date.now() - started) / 1000)} s`,
      );
    }
    if (Date.now() - started > timeoutMs) throw new Error(`projections still lag by ${lag} after ${timeoutMs / 1000} s`);
    await sleep(500);
  }
}
