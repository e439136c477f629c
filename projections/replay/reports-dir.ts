import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Projection } from '@chronicle/projector';
import type { ReportDefinition } from '../common/report';
import { loadReportFile, ReportFileError } from './report-file';

/** The report files a folder holds: what loaded, and what did not (each by file and line). */
export interface ReportFiles {
  projections: Projection[];
  reports: ReportDefinition[];
  failures: ReportFileError[];
}

const REPORT_FILE = /\.(js|cjs|ts|cts|json)$/;
const loaded = new Map<string, ReportFiles>();

/**
 * Loads every report file of `dir` (REPORTS_DIR), in name order, beside the built-in projections
 * and reports (`taken`). A file that fails to load, or whose names are taken (by a built-in or an
 * earlier file), is left out and reported; the others load. Loaded once per process and folder,
 * so every module of the process serves the same ones.
 */
export function loadReportsDir(
  dir: string | undefined,
  taken: { projections: readonly Projection[]; reports: readonly ReportDefinition[] },
): ReportFiles {
  if (!dir) return { projections: [], reports: [], failures: [] };
  const cached = loaded.get(dir);
  if (cached) return cached;
  const result: ReportFiles = { projections: [], reports: [], failures: [] };
  const projectionNames = new Set(taken.projections.map((p) => p.name));
  const reportNames = new Set(taken.reports.map((r) => r.name));
  for (const name of readdirSync(dir)
    .filter((f) => REPORT_FILE.test(f) && !f.endsWith('.d.ts'))
    .sort()) {
    const file = join(dir, name);
    try {
      const loadedFile = loadReportFile(file);
      const clash =
        loadedFile.projections.find((p) => projectionNames.has(p.name))?.name ??
        (reportNames.has(loadedFile.report.name) ? loadedFile.report.name : undefined);
      if (clash !== undefined) throw new ReportFileError(loadedFile.file, `the name "${clash}" is taken by another projection or report`);
      for (const p of loadedFile.projections) projectionNames.add(p.name);
      reportNames.add(loadedFile.report.name);
      result.projections.push(...loadedFile.projections);
      result.reports.push(loadedFile.report);
    } catch (error) {
      result.failures.push(error instanceof ReportFileError ? error : new ReportFileError(file, (error as Error).message));
    }
  }
  loaded.set(dir, result);
  return result;
}

/** What a process serves: the built-in projections and reports, then those of REPORTS_DIR's files. */
export function servedReports(reportsDir: string | undefined): ReportFiles {
  // Required here, not imported: the package's index re-exports this module.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const builtIn = require('../index') as typeof import('../index');
  const files = loadReportsDir(reportsDir, builtIn);
  return {
    projections: [...builtIn.projections, ...files.projections],
    reports: [...builtIn.reports, ...files.reports],
    failures: files.failures,
  };
}
