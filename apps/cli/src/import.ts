import { Presets, SingleBar } from 'cli-progress';
import { readFileSync, writeFileSync } from 'node:fs';
import type { ChronicleConfig } from '@chronicle/infrastructure';
import { createEventStore } from '@chronicle/infrastructure';
import { formatOfFile, ImportFormat, ImportFormats } from '../../api/src/imports/import-format';
import { autoAssignsCustomers, runImport } from '../../api/src/imports/importer';
import { ImportType, ImportTypes } from '../../api/src/imports/import-validation';

export interface ImportCliOptions {
  type: string;
  format?: string;
  key?: string;
  skipInvalid?: boolean;
  rejects?: string;
  automation: boolean;
  actor: string;
}

/** Errors listed on standard error before "… and N more". */
const LISTED_ERRORS = 50;

/**
 * `chronicle import <file>`: the file's rows validated and decided as the API would, then appended
 * (all or nothing, or with --skip-invalid the valid ones); a progress bar with rows/s on standard
 * error. Returns the exit code: 0 imported, 2 invalid rows (nothing appended) or a usage mistake,
 * 1 when the store refused some appends (a re-run appends them).
 */
export async function importFile(cfg: ChronicleConfig, path: string, options: ImportCliOptions): Promise<number> {
  const fail = (message: string) => {
    process.stderr.write(`chronicle import: ${message}\n`);
    return 2;
  };
  if (!ImportTypes.includes(options.type as ImportType)) return fail(`--type: must be one of ${ImportTypes.join(', ')}`);
  const format = (options.format ?? formatOfFile(path)) as ImportFormat;
  if (!ImportFormats.includes(format)) return fail(`--format: must be one of ${ImportFormats.join(', ')}`);
  if (options.rejects !== undefined && !options.skipInvalid) return fail('--rejects: only with --skip-invalid');
  let content: string;
  try {
    content = readFileSync(path, 'utf8');
  } catch (error) {
    return fail(`cannot read ${path}: ${(error as Error).message}`);
  }
  const store = createEventStore(cfg);
  const bar = new SingleBar(
    { format: '{phase} |{bar}| {value}/{total} rows | {rate} rows/s | ETA {eta}s', stream: process.stderr },
    Presets.shades_classic,
  );
  const started = Date.now();
  let phase: string | undefined;
  let phaseStarted = started;
  try {
    const result = await runImport({ store, pipeline: cfg.pipeline, autoAssignCustomers: autoAssignsCustomers(cfg) }, content, {
      type: options.type as ImportType,
      format,
      key: options.key,
      skipInvalid: options.skipInvalid,
      automation: options.automation,
      actor: options.actor,
      onProgress: (p) => {
        if (p.phase !== phase) {
          if (phase !== undefined) bar.stop();
          phase = p.phase;
          phaseStarted = Date.now();
          bar.start(p.total, 0, { phase: p.phase.padEnd(8), rate: 0 });
        }
        const seconds = (Date.now() - phaseStarted) / 1000;
        bar.update(p.done, { rate: seconds > 0 ? Math.round(p.done / seconds) : 0 });
      },
    });
    if (phase !== undefined) bar.stop();
    for (const e of result.rejected.slice(0, LISTED_ERRORS)) {
      process.stderr.write(`row ${e.row}${e.column === undefined ? '' : `, ${e.column}`}: ${e.message}\n`);
    }
    if (result.rejected.length > LISTED_ERRORS) process.stderr.write(`… and ${result.rejected.length - LISTED_ERRORS} more\n`);
    const fileProblem = result.rejected.some((e) => e.row === 0);
    if (result.refused) {
      const rows = new Set(result.rejected.map((e) => e.row)).size;
      process.stderr.write(
        `${fileProblem ? 'the file cannot be imported' : `${rows} of ${result.rows} rows are invalid`}: nothing was appended\n`,
      );
      return 2;
    }
    if (options.rejects !== undefined) {
      const lines = [
        ...(format === 'csv' && result.rejectedRows.length > 0 ? [content.split(/\r?\n/, 1)[0]] : []),
        ...result.rejectedRows.map((r) => r.text),
      ];
      writeFileSync(options.rejects, lines.length > 0 ? `${lines.join('\n')}\n` : '');
    }
    const seconds = (Date.now() - started) / 1000;
    const rejectedRows = new Set(result.rejected.map((e) => e.row)).size;
    process.stdout.write(
      `imported ${path} (${options.type}): ${result.appended} rows appended (${result.events} events), ${result.skipped} already imported, ` +
        `${rejectedRows} rejected${options.rejects !== undefined && rejectedRows > 0 ? ` (written to ${options.rejects})` : ''}` +
        ` in ${seconds.toFixed(1)} s (${Math.round(result.rows / Math.max(seconds, 0.001))} rows/s); import ${result.importId}\n`,
    );
    // Appends refused by the store (another writer changed a stream meanwhile): a re-run finishes the job.
    const failed = new Set(result.rejected.filter((e) => e.message.startsWith('not appended:')).map((e) => e.row)).size;
    if (failed > 0) {
      process.stderr.write(`${failed} rows were not appended: run the same import again to append them\n`);
      return 1;
    }
    return 0;
  } finally {
    await store.close();
  }
}
