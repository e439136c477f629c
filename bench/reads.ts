/**
 * Issue 18, item 3: reads over HTTP on a big store. The store of the dashboard item (a realistic
 * history of N events, `chronicle seed`'s generator through the app's own event store factory,
 * bench/big-store.ts); the real app (dist/apps/api/src/main.js, FULL, LOG_LEVEL=warn,
 * AUTOMATION=off) as a child process on it, loaded once its projections are live at the head, by
 * autocannon from this process with 50 connections: GET /customers/:id over 100 existing customers,
 * one filtered page of GET /customers, GET /reports/pipeline. The reference, in the same runs and
 * one server at a time: the bare Nest + Fastify route (bench/bare-app.ts with BARE_READS_FILE)
 * answering each path with the bytes the app answered for it, from memory — what the read costs
 * beyond HTTP, routing and sending those bytes.
 */
import autocannon from 'autocannon';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BareReads } from './bare-app';
import { seedBigStore, startBigApp, waitCaughtUp } from './big-store';
import { authHeaders, Child, DIST, fmt, freePort, log, removeDir, Row, startChild, stat, tempDir } from './lib';

export interface ReadsOptions {
  runs: number;
  events: number;
  seconds: number;
  warmupSeconds: number;
  connections: number;
  /** Customer ids the one-document read rotates over (GET /customers?limit=N; at most 200). */
  customers: number;
}

/** A realistic filtered page: the active customers of one region, largest revenue first (indexed filters and sort). */
const LIST_QUERY = 'status=active&region=emea&sort=-revenue&limit=50';

interface Read {
  key: 'customer' | 'list' | 'pipeline';
  /** The metric's label. */
  label: string;
  /** The paths loaded, in turn (one for a fixed URL). */
  paths: string[];
}

interface ReadResult {
  rps: number;
  p50: number;
  p99: number;
  requests: number;
  non2xx: number;
  errors: number;
  timeouts: number;
  /** Mean bytes per answer (body and headers, as autocannon counts them). */
  bytesPerAnswer: number;
}

type PhaseResult = Record<Read['key'], ReadResult>;

const BARE = join(DIST, 'bench', 'bare-app.js');

async function load(baseUrl: string, paths: string[], connections: number, seconds: number): Promise<ReadResult> {
  let i = 0;
  const result = await autocannon({
    url: baseUrl,
    connections,
    duration: seconds,
    method: 'GET',
    headers: { authorization: authHeaders.authorization },
    requests: [{ method: 'GET', setupRequest: (request) => ({ ...request, path: paths[i++ % paths.length] }) }],
  });
  return {
    rps: result['2xx'] / result.duration,
    p50: result.latency.p50,
    p99: result.latency.p99,
    requests: result.requests.total,
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
    bytesPerAnswer: result.requests.total ? result.throughput.total / result.requests.total : 0,
  };
}

/** Each read warmed up, then timed, one after another, on the server at `url`. */
async function loadAll(url: string, reads: Read[], options: ReadsOptions): Promise<PhaseResult> {
  const out = {} as PhaseResult;
  for (const read of reads) {
    await load(url, read.paths, options.connections, options.warmupSeconds);
    out[read.key] = await load(url, read.paths, options.connections, options.seconds);
  }
  return out;
}

async function get(baseUrl: string, path: string): Promise<{ contentType: string; body: Buffer }> {
  const res = await fetch(baseUrl + path, { headers: { authorization: authHeaders.authorization } });
  const body = Buffer.from(await res.arrayBuffer());
  if (res.status !== 200) throw new Error(`GET ${path} → ${res.status} ${body.toString().slice(0, 500)}`);
  return { contentType: res.headers.get('content-type') ?? 'application/octet-stream', body };
}

export async function benchReads(options: ReadsOptions): Promise<{ rows: Row[]; details: Record<string, unknown> }> {
  const dataDir = tempDir('reads');
  const bodiesDir = tempDir('reads-bodies');
  try {
    const { head, seedSeconds } = await seedBigStore(dataDir, options.events, 'reads');

    // First start: the projections built from 0; then the answers the bare route will give, taken from the app.
    let app: Child = await startBigApp(dataDir);
    let catchUpMs: number;
    const captured: BareReads = {};
    let reads: Read[];
    try {
      catchUpMs = await waitCaughtUp(app.url, head, 15 * 60_000, 'reads');
      log(`reads: the app's projections caught up with ${fmt(head)} events in ${fmt(catchUpMs / 1000)} s (after start-up)`);
      const page = JSON.parse((await get(app.url, `/customers?limit=${options.customers}`)).body.toString()) as {
        items: Array<{ id: string }>;
      };
      const ids = page.items.map((c) => c.id);
      if (ids.length === 0) throw new Error('reads: GET /customers answered no customer');
      reads = [
        { key: 'customer', label: `GET /customers/:id (${ids.length} ids in turn)`, paths: ids.map((id) => `/customers/${id}`) },
        { key: 'list', label: `GET /customers?${LIST_QUERY}`, paths: [`/customers?${LIST_QUERY}`] },
        { key: 'pipeline', label: 'GET /reports/pipeline', paths: ['/reports/pipeline'] },
      ];
      for (const read of reads)
        for (const path of read.paths) {
          const { contentType, body } = await get(app.url, path);
          // The bare route ignores the query string: one answer per path.
          captured[path.split('?')[0]] = { contentType, body: body.toString('base64') };
        }
    } catch (error) {
      process.stderr.write(app.output());
      throw error;
    } finally {
      await app.stop();
    }
    const readsFile = join(bodiesDir, 'reads.json');
    writeFileSync(readsFile, JSON.stringify(captured));
    const bytes = (path: string) => Buffer.from(captured[path.split('?')[0]].body, 'base64').length;
    const sizes = {
      customer: stat(reads[0].paths.map(bytes)),
      list: bytes(reads[1].paths[0]),
      pipeline: bytes(reads[2].paths[0]),
    };
    log(
      `reads: answers captured: a customer ${fmt(sizes.customer.median)} B [${fmt(sizes.customer.min)}–${fmt(sizes.customer.max)}], the page ${fmt(sizes.list)} B, the pipeline report ${fmt(sizes.pipeline)} B`,
    );

    const apps: PhaseResult[] = [];
    const bares: PhaseResult[] = [];
    const restartMs: number[] = [];
    /**
     * Per run: whether the app, restarted, answered each read's first path with as many bytes as
     * captured (the pipeline report's `asOf` is the time of the request: same length, other bytes).
     */
    const sameSize: Array<Record<string, boolean>> = [];
    for (let run = 0; run < options.runs; run++) {
      const steps: Array<() => Promise<void>> = [
        async () => {
          // Restarted on the caught-up store: one server at a time.
          app = await startBigApp(dataDir);
          try {
            restartMs.push(await waitCaughtUp(app.url, head, 15 * 60_000, 'reads'));
            const same: Record<string, boolean> = {};
            for (const path of [reads[0].paths[0], reads[1].paths[0], reads[2].paths[0]])
              same[path] = (await get(app.url, path)).body.length === bytes(path);
            sameSize.push(same);
            apps.push(await loadAll(app.url, reads, options));
          } catch (error) {
            process.stderr.write(app.output());
            throw error;
          } finally {
            await app.stop();
          }
        },
        async () => {
          const bare = await startChild(BARE, { BARE_READS_FILE: readsFile }, await freePort());
          try {
            bares.push(await loadAll(bare.url, reads, options));
          } finally {
            await bare.stop();
          }
        },
      ];
      if (run % 2 === 1) steps.reverse();
      for (const step of steps) await step();
      log(
        `reads run ${run + 1}/${options.runs}: ` +
          reads
            .map((r) => {
              const a = apps[run][r.key];
              const b = bares[run][r.key];
              return `${r.key} app ${fmt(a.rps)} req/s p99 ${a.p99} ms non-2xx ${a.non2xx + a.errors}, bare ${fmt(b.rps)} req/s p99 ${b.p99} ms`;
            })
            .join('; ') +
          ` (app restarted and live in ${fmt(restartMs[run])} ms)`,
      );
    }

    const size = `${fmt(head)} events, ${options.connections} conns`;
    const answerBytes = { customer: `${fmt(sizes.customer.median)} B`, list: `${fmt(sizes.list)} B`, pipeline: `${fmt(sizes.pipeline)} B` };
    const rows: Row[] = [];
    for (const read of reads) {
      const a = apps.map((p) => p[read.key]);
      const b = bares.map((p) => p[read.key]);
      const rps = stat(a.map((r) => r.rps));
      const ratio = stat(a.map((r, i) => r.rps / b[i].rps));
      const p99 = stat(a.map((r) => r.p99));
      const non2xx = a.reduce((s, r) => s + r.non2xx + r.errors, 0);
      const bareNon2xx = b.reduce((s, r) => s + r.non2xx + r.errors, 0);
      const barred = read.key === 'customer';
      const changed = sameSize.filter((s) => s[read.paths[0]] === false).length;
      rows.push(
        {
          item: 'reads',
          metric: `${read.label}, ${size}`,
          unit: 'req/s',
          value: rps,
          reference: { label: 'bare route, same bytes', value: stat(b.map((r) => r.rps)) },
          ratio,
          bar: barred ? '≥ 0.6 × bare' : undefined,
          pass: barred ? ratio.median >= 0.6 && non2xx === 0 : undefined,
          note:
            `non-2xx+errors: app ${a.map((r) => r.non2xx + r.errors).join('/')}, bare ${b.map((r) => r.non2xx + r.errors).join('/')}` +
            (bareNon2xx > 0 ? ' (bare route had non-2xx: the reference is invalid)' : '') +
            `; answer ${answerBytes[read.key]}` +
            (changed ? `; the restarted app's answer differed in size from the captured one in ${changed} of ${options.runs} runs` : ''),
        },
        {
          item: 'reads',
          metric: 'p99 latency of the above',
          unit: 'ms',
          value: p99,
          reference: { label: 'bare route p99', value: stat(b.map((r) => r.p99)) },
          ratio: stat(a.map((r, i) => r.p99 / b[i].p99)),
          bar: '< 50 ms, non-2xx 0',
          pass: p99.median < 50 && non2xx === 0,
          note: `p50 app ${stat(a.map((r) => r.p50)).median} ms, bare ${stat(b.map((r) => r.p50)).median} ms`,
        },
      );
    }
    return {
      rows,
      details: {
        head,
        seedSeconds,
        catchUpMs,
        restartMs,
        listQuery: LIST_QUERY,
        answerBytes: sizes,
        sameSize,
        app: apps,
        bare: bares,
        options,
      },
    };
  } finally {
    removeDir(bodiesDir);
    removeDir(dataDir);
  }
}
