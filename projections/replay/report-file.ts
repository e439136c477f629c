import Module, { SourceMap, type SourceMapPayload } from 'node:module';
import { readFileSync } from 'node:fs';
import { dirname, extname, resolve } from 'node:path';
import type { Projection, ProjectionContext } from '@chronicle/projector';
import type { RecordedEvent } from '@chronicle/event-store';
import type { ReportDefinition } from '../common/report';
import { declarativeReport, DefinitionError } from './declarative-report';

/** A report of one's own: one file exporting its projection(s) and its report. */
export interface ReportFile {
  file: string;
  projections: Projection[];
  report: ReportDefinition;
}

/** A report file that does not load, or throws: `file:line: message` when the line is known. */
export class ReportFileError extends Error {
  constructor(
    readonly file: string,
    readonly reason: string,
    readonly line?: number,
  ) {
    super(`${file}${line === undefined ? '' : `:${line}`}: ${reason}`);
    this.name = 'ReportFileError';
  }
}

const NODE_MODULE = Module as unknown as {
  _nodeModulePaths(dir: string): string[];
  new (id: string, parent?: unknown): NodeModule & { _compile(code: string, filename: string): void; paths: string[] };
};

/**
 * Loads a report file: a declarative report (`.json`, see declarative-report.ts), or JavaScript
 * (CommonJS) or TypeScript written with the API of
 * `@chronicle/projections` (defineProjection, periods, tableRow, … as `examples/meetings-report`
 * does). TypeScript is transpiled (no type check), and errors are mapped back to the file's own
 * lines. `api` is what its `import … from '@chronicle/projections'` gets (default: this package). Handlers and
 * the query are wrapped so that anything they throw says the file and line.
 */
export function loadReportFile(path: string, api?: object): ReportFile {
  // The package itself, required when first needed: its index re-exports this module.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const projectionsApi = api ?? (require('../index') as object);
  const file = resolve(path);
  let source: string;
  try {
    source = readFileSync(file, 'utf8');
  } catch (error) {
    throw new ReportFileError(file, `cannot be read: ${(error as Error).message}`);
  }
  if (extname(file) === '.json') return loadDeclarative(file, source);
  const { code, map } = /\.[cm]?tsx?$/.test(extname(file)) ? transpile(file, source) : { code: source, map: undefined };
  const lineIn = (error: unknown) => sourceLine(error, file, map);
  const mod = new NODE_MODULE(file, module);
  mod.filename = file;
  mod.paths = NODE_MODULE._nodeModulePaths(dirname(file));
  const ownRequire = mod.require.bind(mod);
  mod.require = Object.assign((id: string): unknown => (id === '@chronicle/projections' ? projectionsApi : ownRequire(id)), ownRequire);
  try {
    mod._compile(code, file);
  } catch (error) {
    throw new ReportFileError(file, messageOf(error), lineIn(error));
  }
  const exported = Object.values(mod.exports as Record<string, unknown>);
  const projections = exported.filter(isProjection);
  const reports = exported.filter(isReport);
  if (reports.length !== 1)
    throw new ReportFileError(
      file,
      `must export one report ({ name, description, projections, run, tables }); it exports ${reports.length}`,
    );
  const [report] = reports;
  if (projections.length === 0) throw new ReportFileError(file, 'must export the projection(s) its report reads (defineProjection(…))');
  for (const name of report.projections)
    if (!projections.some((p) => p.name === name))
      throw new ReportFileError(file, `report ${report.name} reads projection "${name}", which the file does not export`);
  return {
    file,
    projections: projections.map((p) => ({
      ...p,
      apply: (event: RecordedEvent, ctx: ProjectionContext) => {
        try {
          const applied = p.apply(event, ctx);
          return applied instanceof Promise ? applied.catch((error: unknown) => rethrow(error, file, lineIn)) : applied;
        } catch (error) {
          return rethrow(error, file, lineIn);
        }
      },
    })),
    report: { ...report, run: (params, context) => report.run(params, context).catch((error: unknown) => rethrow(error, file, lineIn)) },
  };
}

function loadDeclarative(file: string, source: string): ReportFile {
  let definition: unknown;
  try {
    definition = JSON.parse(source);
  } catch (error) {
    // V8 says where: "… at position N", and since Node 22 "(line L column C)" too.
    const message = (error as Error).message;
    const position = /at position (\d+)/.exec(message);
    const at = position ? source.slice(0, Number(position[1])).split('\n').length : undefined;
    throw new ReportFileError(file, `is not JSON: ${message}`, at);
  }
  try {
    const { projection, report } = declarativeReport(definition);
    return { file, projections: [projection], report };
  } catch (error) {
    if (error instanceof DefinitionError) throw new ReportFileError(file, error.message);
    throw error;
  }
}

function transpile(file: string, source: string): { code: string; map: SourceMap } {
  // Loaded only for TypeScript files: the server and the CLI do not pay for it otherwise.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const ts = require('typescript') as typeof import('typescript');
  const output = ts.transpileModule(source, {
    fileName: file,
    reportDiagnostics: true,
    compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true, sourceMap: true },
  });
  const error = output.diagnostics?.find((d) => d.category === ts.DiagnosticCategory.Error);
  if (error) {
    const line = error.file && error.start !== undefined ? error.file.getLineAndCharacterOfPosition(error.start).line + 1 : undefined;
    throw new ReportFileError(file, ts.flattenDiagnosticMessageText(error.messageText, '\n'), line);
  }
  // The map is kept here rather than inlined: errors are mapped below whatever the process's own source-map handling.
  const code = output.outputText.replace(/\/\/# sourceMappingURL=.*$/m, '');
  return { code, map: new SourceMap(JSON.parse(output.sourceMapText!) as SourceMapPayload) };
}

function isProjection(value: unknown): value is Projection {
  const p = value as Partial<Projection> | null;
  return (
    typeof p === 'object' && p !== null && typeof p.name === 'string' && typeof p.version === 'number' && typeof p.apply === 'function'
  );
}

function isReport(value: unknown): value is ReportDefinition {
  const r = value as Partial<ReportDefinition> | null;
  return typeof r === 'object' && r !== null && typeof r.name === 'string' && typeof r.run === 'function' && Array.isArray(r.projections);
}

/** An error's parts, duck-typed: code compiled from a file may run in another realm (a test's VM) than ours. */
const partsOf = (error: unknown) =>
  typeof error === 'object' && error !== null && 'message' in error
    ? (error as { name?: string; message: string; stack?: string })
    : { name: undefined, message: String(error), stack: undefined };

const messageOf = (error: unknown) => {
  const { name, message } = partsOf(error);
  return `${name === undefined || name === 'Error' ? '' : `${name}: `}${message}`;
};

/** The line of `file` where the error was thrown: the first frame in the file, mapped back to TypeScript. */
function sourceLine(error: unknown, file: string, map: SourceMap | undefined): number | undefined {
  const stack = partsOf(error).stack ?? '';
  const escaped = file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const match = new RegExp(`${escaped}:(\\d+)(?::(\\d+))?`).exec(stack);
  if (!match) return undefined;
  const line = Number(match[1]);
  if (!map) return line;
  const entry = map.findEntry(line - 1, Math.max(0, Number(match[2] ?? 1) - 1)) as { originalLine?: number };
  return entry.originalLine === undefined ? undefined : entry.originalLine + 1;
}

function rethrow(error: unknown, file: string, lineIn: (error: unknown) => number | undefined): never {
  if (error instanceof ReportFileError) throw error;
  throw new ReportFileError(file, messageOf(error), lineIn(error));
}
