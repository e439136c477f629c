import { stringify } from 'csv-stringify/sync';

/**
 * Text a spreadsheet would run as a formula (`=HYPERLINK(…)` typed into a customer's name): such a
 * cell gets a leading `'`, as OWASP advises for CSV exports. Numbers are never touched, so a
 * negative amount stays a number.
 */
const FORMULA_START = /^[=+\-@\t\r]/;

/**
 * Rows as RFC 4180 CSV: one header row (the columns in the order they first appear), CRLF line
 * ends, fields quoted when they hold a comma, quote or line break. Numbers are written as the JSON
 * has them (no thousands separators, `.` decimal), booleans as `true`/`false`, null and missing
 * cells as empty fields. No rows: an empty body (there is no header to derive).
 */
export function toCsv(rows: ReadonlyArray<Record<string, string | number | boolean | null>>): string {
  const columns: string[] = [];
  const seen = new Set<string>();
  for (const row of rows)
    for (const column of Object.keys(row))
      if (!seen.has(column)) {
        seen.add(column);
        columns.push(column);
      }
  if (rows.length === 0) return '';
  return stringify(rows as Array<Record<string, unknown>>, {
    header: true,
    columns: columns.map((column) => ({ key: column, header: column })),
    record_delimiter: '\r\n',
    cast: {
      boolean: (value) => String(value),
      string: (value) => (FORMULA_START.test(value) ? `'${value}` : value),
    },
  });
}
