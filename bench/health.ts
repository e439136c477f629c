/**
 * (h) Does a large body stall the server? The real app (dist/apps/api/src/main.js, child process,
 * own DATA_DIR) first gets 20 POST /customers with the issue's body and 20 with a maximal legal
 * body, one at a time (latency of each). Then it is probed with sequential GET /health requests
 * (one at a time, a few ms apart, over one kept-alive connection), and the probe's p99 is measured
 * in three phases of each run:
 *   - alone: nothing else arrives (the reference);
 *   - while maximal legal bodies arrive: `--health-connections` connections send POST /customers
 *     with every field at its longest and `attributes` at every bound (~107 KB each, accepted);
 *   - while the issue's body arrives: the same connections send 942 KB bodies whose `attributes`
 *     has 110,000 keys (refused with 400 before class-transformer sees them; each took 7 s).
 * The order of the phases alternates between runs. Before the fix, one such body held the event
 * loop, /health included, for 7 s.
 */
import autocannon from 'autocannon';
import { Agent, request } from 'node:http';
import { join } from 'node:path';
import {
  API_KEYS,
  authHeaders,
  BENCH_RATE_LIMIT,
  DIST,
  fmt,
  freePort,
  log,
  percentile,
  removeDir,
  Row,
  sleep,
  startChild,
  stat,
  tempDir,
} from './lib';

export interface HealthOptions {
  runs: number;
  /** Seconds per phase. */
  seconds: number;
  /** Connections sending bodies in the loaded phases. */
  connections: number;
}

/** A POST /customers body with every field at its longest and `attributes` at every bound (apps/api/src/http/body-shape.ts). */
export const MAXIMAL_CUSTOMER_BODY = JSON.stringify({
  name: 'N'.repeat(200),
  email: `${'e'.repeat(60)}@example.com`,
  phone: '1'.repeat(50),
  company: 'C'.repeat(200),
  industry: 'i'.repeat(100),
  region: 'r'.repeat(100),
  source: 's'.repeat(64),
  ownerId: 'o'.repeat(200),
  attributes: Object.fromEntries(Array.from({ length: 100 }, (_, i) => [String(i).padStart(64, 'k'), 'v'.repeat(1000)])),
});

/** The issue's body: 942 KB, `attributes` with 110,000 keys. */
export const ISSUE_BODY = JSON.stringify({
  name: 'Ada',
  attributes: Object.fromEntries(Array.from({ length: 110_000 }, (_, i) => [i.toString(36), i % 10])),
});

interface Probe {
  p50: number;
  p99: number;
  max: number;
  samples: number;
}

/** Sequential GET /health for `seconds`, `gapMs` apart, on one kept-alive connection; latencies in ms. */
async function probe(url: string, seconds: number, gapMs = 5): Promise<Probe> {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const { hostname, port } = new URL(url);
  const latencies: number[] = [];
  const until = performance.now() + seconds * 1000;
  try {
    while (performance.now() < until) {
      const started = performance.now();
      const status = await new Promise<number>((resolve, reject) => {
        const req = request({ host: hostname, port, path: '/health', agent }, (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode!));
        });
        req.on('error', reject);
        req.end();
      });
      if (status !== 200) throw new Error(`/health answered ${status}`);
      latencies.push(performance.now() - started);
      await sleep(gapMs);
    }
  } finally {
    agent.destroy();
  }
  return { p50: percentile(latencies, 50), p99: percentile(latencies, 99), max: Math.max(...latencies), samples: latencies.length };
}

/** `count` POST /customers with `body`, one at a time: the median and max latency (ms) and the statuses. */
async function oneAtATime(url: string, body: string, count = 20): Promise<{ median: number; max: number; statuses: number[] }> {
  const latencies: number[] = [];
  const statuses: number[] = [];
  for (let i = 0; i < count; i++) {
    const started = performance.now();
    const res = await fetch(`${url}/customers`, { method: 'POST', headers: authHeaders, body });
    await res.arrayBuffer();
    latencies.push(performance.now() - started);
    statuses.push(res.status);
  }
  return { median: percentile(latencies, 50), max: Math.max(...latencies), statuses: [...new Set(statuses)] };
}

interface Load {
  requests: number;
  byStatus: Record<string, number>;
  /** Requests that got no answer (autocannon's errors and timeouts; those cut off when the load stops count too), by code. */
  errors: number;
  errorCodes: Record<string, number>;
}

/** `probe` while `connections` connections send `body` to POST /customers as fast as they are answered. */
async function probeUnderLoad(url: string, body: string, options: HealthOptions): Promise<Probe & { load: Load }> {
  const byStatus: Record<string, number> = {};
  let instance: autocannon.Instance;
  const done = new Promise<autocannon.Result>((resolve, reject) => {
    instance = autocannon(
      {
        url: `${url}/customers`,
        method: 'POST',
        headers: authHeaders,
        body,
        connections: options.connections,
        duration: options.seconds + 1,
      },
      (error, result) => (error ? reject(error) : resolve(result)),
    );
  });
  instance!.on('response', (_client, statusCode) => {
    byStatus[statusCode] = (byStatus[statusCode] ?? 0) + 1;
  });
  const errorCodes: Record<string, number> = {};
  instance!.on('reqError', (error: Error & { code?: string }) => {
    const code = error.code ?? error.message;
    errorCodes[code] = (errorCodes[code] ?? 0) + 1;
  });
  await sleep(500); // the load is under way before the probe starts
  const result = await probe(url, options.seconds);
  const finished = await done;
  return {
    ...result,
    load: { requests: finished.requests.total, byStatus, errors: finished.errors + finished.timeouts, errorCodes },
  };
}

export async function benchHealth(options: HealthOptions): Promise<{ rows: Row[]; details: Record<string, unknown> }> {
  const alone: Probe[] = [];
  const legal: Array<Probe & { load: Load }> = [];
  const issue: Array<Probe & { load: Load }> = [];
  const single: Array<{ legal: Awaited<ReturnType<typeof oneAtATime>>; issue: Awaited<ReturnType<typeof oneAtATime>> }> = [];
  for (let run = 0; run < options.runs; run++) {
    const dataDir = tempDir('health');
    const child = await startChild(
      join(DIST, 'apps', 'api', 'src', 'main.js'),
      { DATA_DIR: dataDir, API_KEYS, LOG_LEVEL: 'warn', RATE_LIMIT_PER_MINUTE: BENCH_RATE_LIMIT },
      await freePort(),
    );
    try {
      await probe(child.url, 1); // warm-up
      await oneAtATime(child.url, MAXIMAL_CUSTOMER_BODY, 5);
      single.push({ legal: await oneAtATime(child.url, MAXIMAL_CUSTOMER_BODY), issue: await oneAtATime(child.url, ISSUE_BODY) });
      const steps = [
        async () => void alone.push(await probe(child.url, options.seconds)),
        async () => void legal.push(await probeUnderLoad(child.url, MAXIMAL_CUSTOMER_BODY, options)),
        async () => void issue.push(await probeUnderLoad(child.url, ISSUE_BODY, options)),
      ];
      if (run % 2 === 1) steps.reverse();
      for (const step of steps) await step();
    } catch (error) {
      process.stderr.write(child.output());
      throw error;
    } finally {
      await child.stop();
      removeDir(dataDir);
    }
    const [a, l, i] = [alone[run], legal[run], issue[run]];
    log(
      `health run ${run + 1}/${options.runs}: /health p99 alone ${fmt(a.p99)} ms; with maximal legal bodies ${fmt(l.p99)} ms ` +
        `(${l.load.requests} bodies, ${JSON.stringify(l.load.byStatus)}); with 110,000-key bodies ${fmt(i.p99)} ms (${i.load.requests} bodies, ${JSON.stringify(i.load.byStatus)})`,
    );
  }
  const reference = { label: '/health p99 alone', value: stat(alone.map((a) => a.p99)) };
  const note = (loads: Array<Probe & { load: Load }>) =>
    `p50 ${fmt(stat(loads.map((l) => l.p50)).median)} ms (alone ${fmt(stat(alone.map((a) => a.p50)).median)} ms), max ${fmt(stat(loads.map((l) => l.max)).median)} ms; ` +
    `bodies per run ${loads.map((l) => `${l.load.requests} ${JSON.stringify(l.load.byStatus)}${l.load.errors ? ` errors ${l.load.errors} ${JSON.stringify(l.load.errorCodes)}` : ''}`).join(' / ')}`;
  const rows: Row[] = [
    {
      item: 'h health',
      metric: 'POST /customers with a 110,000-key body (942 KB), one at a time: median latency',
      unit: 'ms',
      value: stat(single.map((r) => r.issue.median)),
      reference: { label: 'a maximal legal body (accepted)', value: stat(single.map((r) => r.legal.median)) },
      ratio: stat(single.map((r) => r.issue.median / r.legal.median)),
      bar: '< 100 ms (was 7 s)',
      pass:
        stat(single.map((r) => r.issue.median)).median < 100 &&
        single.every((r) => r.issue.statuses.join() === '400' && r.legal.statuses.join() === '201'),
      note: `20 requests per run; max ${fmt(stat(single.map((r) => r.issue.max)).median)} ms (maximal legal body: ${fmt(stat(single.map((r) => r.legal.max)).median)} ms); statuses ${single.map((r) => `${r.issue.statuses}/${r.legal.statuses}`).join(', ')}`,
    },
    {
      item: 'h health',
      metric: `/health p99 alone (sequential probe, ${options.seconds} s)`,
      unit: 'ms',
      value: reference.value,
      note: `p50 ${fmt(stat(alone.map((a) => a.p50)).median)} ms, samples ${alone.map((a) => a.samples).join('/')}`,
    },
    {
      item: 'h health',
      metric: `/health p99 while maximal legal POST /customers bodies (~${Math.round(MAXIMAL_CUSTOMER_BODY.length / 1024)} KiB) arrive on ${options.connections} conns`,
      unit: 'ms',
      value: stat(legal.map((l) => l.p99)),
      reference,
      ratio: stat(legal.map((l, i) => l.p99 / alone[i].p99)),
      bar: '< 100 ms (was 7 s)',
      pass: stat(legal.map((l) => l.p99)).median < 100 && legal.every((l) => Object.keys(l.load.byStatus).every((s) => s === '201')),
      note: note(legal),
    },
    {
      item: 'h health',
      metric: `/health p99 while 110,000-key bodies (${Math.round(ISSUE_BODY.length / 1000)} KB, refused) arrive on ${options.connections} conns`,
      unit: 'ms',
      value: stat(issue.map((l) => l.p99)),
      reference,
      ratio: stat(issue.map((l, i) => l.p99 / alone[i].p99)),
      bar: '< 100 ms (was 7 s)',
      pass: stat(issue.map((l) => l.p99)).median < 100 && issue.every((l) => Object.keys(l.load.byStatus).every((s) => s === '400')),
      note: note(issue),
    },
  ];
  return { rows, details: { single, alone, legal, issue, options } };
}
