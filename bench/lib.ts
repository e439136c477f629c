import { ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { schemaVersions } from '@chronicle/domain';

/** Repository root (this file runs from dist/bench/). */
export const ROOT = resolve(__dirname, '..', '..');
export const DIST = join(ROOT, 'dist');

// ---------------------------------------------------------------------------------------------
// Statistics

export interface Stat {
  median: number;
  min: number;
  max: number;
  runs: number[];
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

export function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[index];
}

export function stat(runs: number[]): Stat {
  return { median: median(runs), min: Math.min(...runs), max: Math.max(...runs), runs };
}

/** One line of the results table. */
export interface Row {
  item: string;
  metric: string;
  unit: string;
  value: Stat;
  /** The figure it is compared with, measured in the same runs. */
  reference?: { label: string; value: Stat };
  /** Per-run ratio value/reference (the median of the per-run ratios is what is judged). */
  ratio?: Stat;
  bar?: string;
  pass?: boolean;
  note?: string;
}

export function fmt(n: number, unit = ''): string {
  if (!Number.isFinite(n)) return String(n);
  const abs = Math.abs(n);
  const text = abs >= 1000 ? Math.round(n).toLocaleString('en-US') : abs >= 100 ? n.toFixed(0) : abs >= 10 ? n.toFixed(1) : n.toFixed(2);
  return unit ? `${text} ${unit}` : text;
}

export function fmtStat(s: Stat, unit = ''): string {
  return `${fmt(s.median, unit)} [${fmt(s.min)}–${fmt(s.max)}]`;
}

export function log(message: string): void {
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${message}\n`);
}

// ---------------------------------------------------------------------------------------------
// Temp dirs and child processes, cleaned up on exit

const tempDirs = new Set<string>();
const children = new Set<ChildProcess>();

export function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), `chronicle-bench-${prefix}-`));
  tempDirs.add(dir);
  return dir;
}

export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
  tempDirs.delete(dir);
}

export function dirSize(dir: string): number {
  let total = 0;
  for (const name of readdirSync(dir)) {
    const s = statSync(join(dir, name));
    total += s.isDirectory() ? dirSize(join(dir, name)) : s.size;
  }
  return total;
}

export function cleanup(): void {
  for (const child of children) {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
  children.clear();
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
  tempDirs.clear();
}

let hooked = false;
export function installCleanupHooks(): void {
  if (hooked) return;
  hooked = true;
  process.on('exit', cleanup);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.on(signal, () => {
      log(`${signal}: cleaning up`);
      cleanup();
      process.exit(130);
    });
  }
}

export function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolvePort(port));
    });
  });
}

export interface Child {
  process: ChildProcess;
  url: string;
  stop(): Promise<void>;
  output(): string;
}

/**
 * Starts `node <script>` with `env` and waits until GET `readyPath` answers (any status < 500).
 * stdout/stderr are kept (last 20 kB) for error reports.
 */
export async function startChild(
  script: string,
  env: Record<string, string>,
  port: number,
  readyPath = '/health',
  timeoutMs = 60_000,
): Promise<Child> {
  const child = spawn(process.execPath, [script], {
    env: { ...process.env, ...env, PORT: String(port), HOST: '127.0.0.1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(child);
  let out = '';
  const keep = (chunk: Buffer) => {
    out = (out + chunk.toString()).slice(-20_000);
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  const url = `http://127.0.0.1:${port}`;
  const started = Date.now();
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${script} exited with ${child.exitCode}:\n${out}`);
    try {
      const res = await fetch(url + readyPath);
      await res.arrayBuffer();
      if (res.status < 500) break;
    } catch {
      /* not listening yet */
    }
    if (Date.now() - started > timeoutMs) {
      child.kill('SIGKILL');
      throw new Error(`${script} did not become ready in ${timeoutMs} ms:\n${out}`);
    }
    await sleep(100);
  }
  return {
    process: child,
    url,
    output: () => out,
    stop: () =>
      new Promise<void>((done) => {
        if (child.exitCode !== null || child.signalCode !== null) {
          children.delete(child);
          return done();
        }
        const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
        child.once('exit', () => {
          clearTimeout(timer);
          children.delete(child);
          done();
        });
        child.kill('SIGTERM');
      }),
  };
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// ---------------------------------------------------------------------------------------------
// Realistic event payloads (an InteractionLogged as the command path stores it)

export const API_KEY = 'bench-key-0123456789abcdef';
export const API_KEYS = `${API_KEY}:bench-user:admin`;
/** The rate-limit guard runs (its cost is measured) but the one bench key never reaches the limit. */
export const BENCH_RATE_LIMIT = '10000000';

export function interactionData(customerId: string, i: number): Record<string, unknown> {
  return {
    customerId,
    interactionId: randomUUID(),
    type: 'call',
    direction: i % 2 ? 'inbound' : 'outbound',
    subject: `Follow-up call #${i}`,
    outcome: 'interested, send a proposal',
    durationMinutes: 15,
    channel: { medium: 'voice', live: true },
  };
}

/** The schema version the command path stores InteractionLogged with (stored at it, nothing is upcast on read). */
export const INTERACTION_SCHEMA_VERSION = schemaVersions.InteractionLogged;

export function eventMetadata(): { occurredAt: string; actor: string; correlationId: string; causationId: string } {
  const id = randomUUID();
  return { occurredAt: new Date().toISOString(), actor: 'bench-user', correlationId: id, causationId: id };
}

/** A valid POST /customers/:id/interactions body. */
export const INTERACTION_BODY = JSON.stringify({
  type: 'call',
  direction: 'outbound',
  subject: 'Discovery call',
  outcome: 'interested, send a proposal',
  durationMinutes: 15,
});

export const authHeaders = {
  'content-type': 'application/json',
  authorization: `Bearer ${API_KEY}`,
};

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the answer's JSON, read by the caller
export async function postJson(url: string, body: unknown): Promise<{ status: number; json: any }> {
  const res = await fetch(url, { method: 'POST', headers: authHeaders, body: typeof body === 'string' ? body : JSON.stringify(body) });
  const text = await res.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = text;
  }
  return { status: res.status, json };
}

/** Waits until every projection of the app has caught up with the event store's head. */
export async function waitForProjections(baseUrl: string, timeoutMs = 300_000): Promise<number> {
  const started = Date.now();
  for (;;) {
    const res = await fetch(`${baseUrl}/projections`, { headers: authHeaders });
    const body = (await res.json()) as { projections?: Array<{ lag: number; status: string }> };
    const lag = Math.max(0, ...(body.projections ?? []).map((p) => p.lag));
    if (res.ok && lag === 0 && (body.projections ?? []).every((p) => p.status === 'live')) return Date.now() - started;
    if (Date.now() - started > timeoutMs) throw new Error(`projections still lag by ${lag} after ${timeoutMs} ms`);
    await sleep(200);
  }
}

export async function registerCustomer(baseUrl: string, name: string): Promise<string> {
  const res = await postJson(`${baseUrl}/customers`, { name });
  if (res.status !== 201) throw new Error(`POST /customers → ${res.status} ${JSON.stringify(res.json)}`);
  return res.json.id as string;
}
