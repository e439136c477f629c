/** A cell of a report's table: what a CSV field or an HTML table cell shows. */
export type Cell = string | number | boolean | null;
/** One row of a table: column → cell. */
export type TableRow = Record<string, Cell>;

const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  value !== null && typeof value === 'object' && !Array.isArray(value);

function flattenInto(row: TableRow, value: Record<string, unknown>, prefix: string): void {
  for (const [key, cell] of Object.entries(value)) {
    const column = prefix + key;
    if (cell === undefined) continue;
    if (isPlainObject(cell)) flattenInto(row, cell, `${column}.`);
    // A list inside a row (a record's tags) stays one cell; reports give their lists tables of their own.
    else if (Array.isArray(cell)) row[column] = JSON.stringify(cell);
    else row[column] = cell as Cell;
  }
}

/**
 * The parts merged into one flat row, left to right: nested objects become dotted columns
 * (`interactionsByType.call`, `baseline.value`), so every figure has a column of its own.
 */
export function tableRow(...parts: ReadonlyArray<object | null | undefined>): TableRow {
  const row: TableRow = {};
  for (const part of parts) if (part) flattenInto(row, part as Record<string, unknown>, '');
  return row;
}

/** A report's tables by name, the first being the default (`GET /reports/<name>?format=csv&table=`). */
export type ReportTables<R> = Record<string, (report: R) => TableRow[]>;
