/**
 * (d) Logging an interaction on a customer with 100,000 past events vs on a fresh customer.
 *
 * The big customer's stream is written into the app's events.db before the app starts
 * (CustomerRegistered through the port, then 100,000 InteractionLogged rows by raw INSERT). The
 * real app (child process, FULL) then serves sequential POST /customers/:id/interactions, one
 * at a time, alternating big / fresh customer (a new fresh customer each run), and the latency
 * of every command is recorded. A diagnostic compares PATCH /customers/:id (a command that
 * folds the stream) on both, a few times.
 */
import Database from 'better-sqlite3';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { ExpectedRevision, SqliteEventStore } from '@chronicle/event-store';
import {
  API_KEYS,
  BENCH_RATE_LIMIT,
  authHeaders,
  DIST,
  eventMetadata,
  freePort,
  INTERACTION_BODY,
  INTERACTION_SCHEMA_VERSION,
  interactionData,
  log,
  median,
  percentile,
  registerCustomer,
  removeDir,
  Row,
  startChild,
  stat,
  tempDir,
  waitForProjections,
} from './lib';

export interface InteractionOptions {
  runs: number;
  /** Commands per customer per run. */
  commands: number;
  history: number;
  /** PATCH commands per customer for the fold diagnostic (0: skip). */
  foldChecks: number;
}

export async function seedBigCustomer(filename: string, history: number): Promise<{ customerId: string; seconds: number }> {
  const customerId = randomUUID();
  const streamId = `customer-${customerId}`;
  const start = performance.now();
  const store = new SqliteEventStore({ filename });
  await store.append(
    streamId,
    [
      {
        eventId: randomUUID(),
        type: 'CustomerRegistered',
        data: { customerId, name: 'Big History Inc.', source: 'direct', ownerId: 'bench-user' },
        metadata: eventMetadata(),
      },
    ],
    { expectedRevision: ExpectedRevision.NoStream },
  );
  await store.close();
  const db = new Database(filename);
  db.pragma('synchronous = OFF');
  const insert = db.prepare(
    `INSERT INTO events (event_id, stream_id, revision, category, type, schema_version, occurred_at, recorded_at, actor, correlation_id, causation_id, data, metadata)
     VALUES (?, ?, ?, 'customer', 'InteractionLogged', ${INTERACTION_SCHEMA_VERSION}, ?, ?, 'bench-user', ?, ?, ?, NULL)`,
  );
  const t0 = Date.now() - history * 60_000;
  db.transaction(() => {
    for (let i = 1; i <= history; i++) {
      const at = new Date(t0 + i * 60_000).toISOString();
      const correlation = randomUUID();
      insert.run(randomUUID(), streamId, i, at, at, correlation, correlation, JSON.stringify(interactionData(customerId, i)));
    }
  })();
  db.pragma('wal_checkpoint(TRUNCATE)');
  db.close();
  return { customerId, seconds: (performance.now() - start) / 1000 };
}

async function command(url: string, method: string, body: string, expected: number): Promise<number> {
  const start = performance.now();
  const res = await fetch(url, { method, headers: authHeaders, body });
  const text = await res.text();
  const ms = performance.now() - start;
  if (res.status !== expected) throw new Error(`${method} ${url} → ${res.status} ${text}`);
  return ms;
}

export async function benchInteraction(options: InteractionOptions): Promise<{ rows: Row[]; details: Record<string, unknown> }> {
  const dataDir = tempDir('interaction');
  try {
    log(`interaction: seeding a customer with ${options.history.toLocaleString('en-US')} events…`);
    const seeded = await seedBigCustomer(join(dataDir, 'events.db'), options.history);
    const big = seeded.customerId;
    const child = await startChild(
      join(DIST, 'apps', 'api', 'src', 'main.js'),
      { DATA_DIR: dataDir, API_KEYS, LOG_LEVEL: 'warn', RATE_LIMIT_PER_MINUTE: BENCH_RATE_LIMIT },
      await freePort(),
    );
    try {
      const catchUpMs = await waitForProjections(child.url);
      log(`interaction: seeded in ${seeded.seconds.toFixed(1)} s; projections caught up ${catchUpMs} ms after the app answered`);
      const interactions = (id: string) => `${child.url}/customers/${id}/interactions`;
      // Warm-up (JIT, statement caches) on both.
      const warm = await registerCustomer(child.url, 'Warm-up');
      for (let i = 0; i < 200; i++) {
        await command(interactions(big), 'POST', INTERACTION_BODY, 201);
        await command(interactions(warm), 'POST', INTERACTION_BODY, 201);
      }
      await waitForProjections(child.url);

      const runs: Array<{ bigMedian: number; freshMedian: number; bigP95: number; freshP95: number; bigRate: number; freshRate: number }> =
        [];
      let failures = 0;
      for (let run = 0; run < options.runs; run++) {
        const fresh = await registerCustomer(child.url, `Fresh ${run}`);
        await waitForProjections(child.url);
        const bigMs: number[] = [];
        const freshMs: number[] = [];
        for (let i = 0; i < options.commands; i++) {
          // Alternate which goes first so neither always follows the other.
          const order = i % 2 ? [fresh, big] : [big, fresh];
          for (const id of order) {
            try {
              (id === big ? bigMs : freshMs).push(await command(interactions(id), 'POST', INTERACTION_BODY, 201));
            } catch (error) {
              failures++;
              if (failures === 1) log(`interaction: ${(error as Error).message}`);
            }
          }
        }
        const sum = (a: number[]) => a.reduce((s, v) => s + v, 0);
        runs.push({
          bigMedian: median(bigMs),
          freshMedian: median(freshMs),
          bigP95: percentile(bigMs, 95),
          freshP95: percentile(freshMs, 95),
          bigRate: (bigMs.length * 1000) / sum(bigMs),
          freshRate: (freshMs.length * 1000) / sum(freshMs),
        });
        const r = runs[run];
        log(
          `interaction run ${run + 1}/${options.runs}: median ${r.bigMedian.toFixed(3)} ms (100k history) vs ${r.freshMedian.toFixed(3)} ms (fresh); ` +
            `p95 ${r.bigP95.toFixed(2)} vs ${r.freshP95.toFixed(2)} ms; ${r.bigRate.toFixed(0)} vs ${r.freshRate.toFixed(0)} commands/s`,
        );
        await waitForProjections(child.url);
      }

      // Diagnostic: a command that folds the whole stream (PATCH /customers/:id).
      let fold: { big: number; fresh: number } | undefined;
      if (options.foldChecks > 0) {
        const fresh = await registerCustomer(child.url, 'Fresh fold');
        const bigMs: number[] = [];
        const freshMs: number[] = [];
        for (let i = 0; i < options.foldChecks; i++) {
          bigMs.push(await command(`${child.url}/customers/${big}`, 'PATCH', JSON.stringify({ region: `r${i}` }), 200));
          freshMs.push(await command(`${child.url}/customers/${fresh}`, 'PATCH', JSON.stringify({ region: `r${i}` }), 200));
        }
        fold = { big: median(bigMs), fresh: median(freshMs) };
        log(`interaction: PATCH /customers/:id median ${fold.big.toFixed(1)} ms (100k history) vs ${fold.fresh.toFixed(1)} ms (fresh)`);
      }

      const latency = stat(runs.map((r) => r.bigMedian / r.freshMedian));
      const rate = stat(runs.map((r) => r.bigRate / r.freshRate));
      const rows: Row[] = [
        {
          item: 'd interaction',
          metric: `log interaction, ${options.history / 1000}k-event customer: median latency`,
          unit: 'ms',
          value: stat(runs.map((r) => r.bigMedian)),
          reference: { label: 'fresh customer', value: stat(runs.map((r) => r.freshMedian)) },
          ratio: latency,
          bar: '≤ 1.2 × fresh',
          pass: latency.median <= 1.2 && failures === 0,
          note: `${options.commands} sequential commands each per run; failures ${failures}; p95 ${stat(runs.map((r) => r.bigP95)).median.toFixed(2)} vs ${stat(runs.map((r) => r.freshP95)).median.toFixed(2)} ms`,
        },
        {
          item: 'd interaction',
          metric: 'the same: sequential throughput',
          unit: 'cmd/s',
          value: stat(runs.map((r) => r.bigRate)),
          reference: { label: 'fresh customer', value: stat(runs.map((r) => r.freshRate)) },
          ratio: rate,
          bar: '≥ 0.8 × fresh',
          pass: rate.median >= 0.8 && failures === 0,
        },
      ];
      if (fold) {
        rows.push({
          item: 'd interaction',
          metric: `PATCH /customers/:id (folds the stream), ${options.foldChecks}× (diagnosis)`,
          unit: 'ms',
          value: stat([fold.big]),
          reference: { label: 'fresh customer', value: stat([fold.fresh]) },
          ratio: stat([fold.big / fold.fresh]),
          note: 'not a docs/quality.md bar: commands other than LogInteraction load and fold the whole stream',
        });
      }
      return {
        rows,
        details: { history: options.history, seedSeconds: seeded.seconds, projectionCatchUpMs: catchUpMs, runs, fold, failures },
      };
    } catch (error) {
      process.stderr.write(child.output());
      throw error;
    } finally {
      await child.stop();
    }
  } finally {
    removeDir(dataDir);
  }
}
