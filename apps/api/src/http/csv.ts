import { applyDecorators } from '@nestjs/common';
import { RouteConfig } from '@nestjs/platform-fastify';
import { ApiProduces, ApiQuery } from '@nestjs/swagger';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { toCsv } from '@chronicle/infrastructure';
import { ReportDefinition, ReportParamError, reportTable, tableRow, TableRow } from '@chronicle/projections';

/** Where a route's table is: a list field of its body (a page's `items`, the audit trail's `events`), or the report's named tables. */
type CsvSource = { list: string; file: string } | 'report';

const CSV_CONFIG = 'chronicleCsv';
const CSV_REPLY = Symbol('chronicle:csv');

type CsvRequest = FastifyRequest & { [CSV_REPLY]?: { file: string; rows: (body: unknown) => TableRow[] }; correlationId?: string };

/**
 * A read route that also answers `text/csv` (`?format=csv`, or `Accept: text/csv`): the same
 * figures, masked the same way, one row per item or report table row. Declared per route (Fastify
 * route config), so the hooks below cost other routes a property read.
 */
export const AnswersCsv = (source: CsvSource) =>
  applyDecorators(
    RouteConfig({ [CSV_CONFIG]: source }),
    ApiProduces('application/json', 'text/csv'),
    ApiQuery({
      name: 'format',
      required: false,
      enum: ['json', 'csv'],
      description: 'csv: RFC 4180 text, one header row (docs/http-api.md, "CSV"); default: the Accept header, else json',
    }),
    ...(source === 'report'
      ? [
          ApiQuery({
            name: 'table',
            required: false,
            description: "With CSV: which of the report's tables (GET /reports lists them); default the first",
          }),
        ]
      : []),
  );

/**
 * Whether `Accept` asks for CSV before JSON: `text/csv` with a higher q than `application/json`,
 * or the same q and listed first. Wildcards choose nothing (JSON stays the default).
 */
export function prefersCsv(accept: string | undefined): boolean {
  if (!accept) return false;
  let csv = { q: 0, at: Infinity };
  let json = { q: 0, at: Infinity };
  accept.split(',').forEach((range, at) => {
    const [type, ...parameters] = range.split(';').map((part) => part.trim().toLowerCase());
    const qParameter = parameters.find((p) => p.startsWith('q='));
    const q = qParameter === undefined ? 1 : Number(qParameter.slice(2));
    if (!(q >= 0 && q <= 1)) return;
    if (type === 'text/csv' && q > csv.q) csv = { q, at };
    if (type === 'application/json' && q > json.q) json = { q, at };
  });
  return csv.q > 0 && (csv.q > json.q || (csv.q === json.q && csv.at < json.at));
}

/** One of a report's tables, for CSV: the one `table` names (default the first), and its rows from a result. */
export interface ReportCsvTable {
  name: string;
  /** Whether it is the report's first table (the default). */
  first: boolean;
  rows: (result: unknown) => TableRow[];
}

/** The table `table` names of a report (default the first); a ReportParamError (a 400) names its tables when it has no such table. */
export function reportCsvTable(report: ReportDefinition, table: string | undefined): ReportCsvTable {
  const name = reportTable(report, table);
  return { name, first: name === reportTable(report, undefined), rows: report.tables[name] as (result: unknown) => TableRow[] };
}

/** A CSV reply: its headers (a download named `<file>.csv`) set, its text returned. */
export function csvBody(reply: FastifyReply, file: string, rows: TableRow[]): string {
  reply.header('content-type', 'text/csv; charset=utf-8');
  reply.header('content-disposition', `attachment; filename="${file}.csv"`);
  return toCsv(rows);
}

function refuse(request: CsvRequest, reply: FastifyReply, message: string) {
  return reply.code(400).send({ statusCode: 400, error: 'Bad Request', message, correlationId: request.correlationId });
}

/** A route hook's list (Fastify takes one function or several). */
const hooks = <T>(current: T | T[] | undefined): T[] => (current === undefined ? [] : Array.isArray(current) ? current : [current]);

/**
 * `format` and `table` are the representation's parameters, not the query's: they are taken off
 * the query before validation. The body is turned into CSV after the handler and its interceptors
 * (an analyst's masking included) produced it, and only for a 2xx. The hooks are the CSV routes'
 * own (added as each route is registered), so no other route pays for them; elsewhere `format` is
 * an unknown query parameter like any other.
 */
export function answerCsv(instance: FastifyInstance, reports: readonly ReportDefinition[]): void {
  const byName = new Map(reports.map((r) => [r.name, r]));
  const chooser = (source: CsvSource) =>
    async function chooseRepresentation(request: CsvRequest, reply: FastifyReply) {
      reply.header('vary', 'Accept');
      const query = request.query as Record<string, unknown> | undefined;
      const format = query?.format;
      if (format !== undefined && format !== 'csv' && format !== 'json') return refuse(request, reply, 'format: must be csv or json');
      const table = source === 'report' ? query?.table : undefined;
      if (query) {
        delete query.format;
        if (source === 'report') delete query.table;
      }
      if (table !== undefined && typeof table !== 'string') return refuse(request, reply, 'table: must be given once');
      if (!(format === 'csv' || (format === undefined && prefersCsv(request.headers.accept)))) return;
      if (source !== 'report') {
        const key = source.list;
        request[CSV_REPLY] = {
          file: source.file,
          rows: (body) => ((body as Record<string, object[]>)[key] ?? []).map((item) => tableRow(item)),
        };
        return;
      }
      const report = byName.get((request.params as { name?: string }).name ?? '');
      if (!report) return; // the handler answers the 404
      try {
        const csv = reportCsvTable(report, table);
        request[CSV_REPLY] = { file: csv.first ? report.name : `${report.name}-${csv.name}`, rows: csv.rows };
      } catch (error) {
        if (error instanceof ReportParamError) return refuse(request, reply, error.message);
        throw error;
      }
    };
  async function writeCsv(request: CsvRequest, reply: FastifyReply, payload: unknown) {
    const csv = request[CSV_REPLY];
    if (!csv || reply.statusCode < 200 || reply.statusCode >= 300) return payload;
    // The text is the body as it is: no JSON encoding of it.
    reply.serializer((text: string) => text);
    return csvBody(reply, csv.file, csv.rows(payload));
  }
  instance.addHook('onRoute', (route) => {
    const source = (route.config as unknown as Record<string, CsvSource | undefined> | undefined)?.[CSV_CONFIG];
    if (!source) return;
    route.preValidation = [...hooks(route.preValidation), chooser(source)] as typeof route.preValidation;
    route.preSerialization = [...hooks(route.preSerialization), writeCsv] as typeof route.preSerialization;
  });
}
