/**
 * (k) Bulk import: `chronicle import customers.csv --type customers` of N customers (every field,
 * personal ones sealed on append, each with its own business time over five years) into a fresh
 * embedded store, as the CLI runs it: parse, validate as the API does, decide, append. Rows/s
 * from the file's text to the last event appended (the first run of each measurement: nothing
 * to skip). A second import of the same file (every row skipped) is timed too, for information.
 */
import { createEventStore, loadConfig } from '@chronicle/infrastructure';
import { runImport } from '../apps/api/src/imports/importer';
import { fmt, log, removeDir, Row, stat, tempDir } from './lib';

export interface ImportBenchOptions {
  runs: number;
  rows: number;
}

const INDUSTRIES = ['software', 'retail', 'finance', 'health', 'logistics'];
const REGIONS = ['emea', 'na', 'apac', 'latam'];
const SOURCES = ['web', 'referral', 'webinar', 'partner', 'direct'];

/** N customers as CSV, business times spread over the five years before 2026-01-01. */
export function customersCsv(rows: number): string {
  const start = Date.parse('2021-01-01T00:00:00Z');
  const span = Date.parse('2026-01-01T00:00:00Z') - start;
  const lines = ['name,email,phone,company,industry,region,source,attributes.tier,occurredAt'];
  for (let i = 0; i < rows; i++) {
    const at = new Date(start + Math.floor((span * i) / rows)).toISOString();
    lines.push(
      `Customer ${i},customer${i}@example.com,+44 20 7946 ${String(i % 10000).padStart(4, '0')},"Company ${i % 5000}, Ltd",` +
        `${INDUSTRIES[i % 5]},${REGIONS[i % 4]},${SOURCES[i % 5]},${i % 3 === 0 ? 'gold' : 'silver'},${at}`,
    );
  }
  return `${lines.join('\n')}\n`;
}

export async function benchImport(options: ImportBenchOptions): Promise<{ rows: Row[]; details: Record<string, unknown> }> {
  const csv = customersCsv(options.rows);
  const firstRuns: number[] = [];
  const againRuns: number[] = [];
  /** Rows per second of this process's CPU time: what a busy machine does not take away. */
  const cpuRuns: number[] = [];
  for (let run = 0; run < options.runs; run++) {
    const dir = tempDir('import');
    const config = loadConfig({ DATA_DIR: dir, LOG_LEVEL: 'silent' });
    const store = createEventStore(config);
    const env = { store, pipeline: config.pipeline, autoAssignCustomers: false };
    try {
      let started = performance.now();
      const cpu = process.cpuUsage();
      const first = await runImport(env, csv, { type: 'customers', format: 'csv', actor: 'bench', automation: false });
      const firstRate = (first.appended * 1000) / (performance.now() - started);
      const used = process.cpuUsage(cpu);
      cpuRuns.push((first.appended * 1e6) / (used.user + used.system));
      if (first.appended !== options.rows || first.rejected.length > 0)
        throw new Error(`import: ${first.appended} of ${options.rows} rows appended; ${JSON.stringify(first.rejected.slice(0, 3))}`);
      started = performance.now();
      const again = await runImport(env, csv, { type: 'customers', format: 'csv', actor: 'bench', automation: false });
      const againRate = (again.skipped * 1000) / (performance.now() - started);
      if (again.appended !== 0 || again.skipped !== options.rows) throw new Error(`re-import appended ${again.appended}`);
      firstRuns.push(firstRate);
      againRuns.push(againRate);
      log(
        `import run ${run + 1}: ${fmt(firstRate)} rows/s (${fmt(cpuRuns[run])} per CPU second); again (all skipped) ${fmt(againRate)} rows/s`,
      );
    } finally {
      await store.close();
      removeDir(dir);
    }
  }
  const value = stat(firstRuns);
  return {
    rows: [
      {
        item: 'import',
        metric: `CSV of ${fmt(options.rows)} customers → fresh embedded store (validated, sealed)`,
        unit: 'rows/s',
        value,
        bar: '≥ 10,000 rows/s',
        pass: value.median >= 10_000,
      },
      { item: 'import', metric: 'the same, per second of CPU time (user + system)', unit: 'rows/s', value: stat(cpuRuns) },
      { item: 'import', metric: 'the same file again (every row skipped)', unit: 'rows/s', value: stat(againRuns) },
    ],
    details: { rows: options.rows, firstRowsPerSecond: firstRuns, rowsPerCpuSecond: cpuRuns, againRowsPerSecond: againRuns },
  };
}
