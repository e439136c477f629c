import { createHash, hash } from 'node:crypto';

/** How an import file is written: CSV with a header row, or one JSON object per line. */
export const ImportFormats = ['csv', 'ndjson'] as const;
export type ImportFormat = (typeof ImportFormats)[number];

/** A problem with one row (1 = the first row after a CSV's header, or an NDJSON file's first non-empty line). */
export interface RowError {
  row: number;
  /** The column (an API field) at fault; absent when it is the row as a whole. */
  column?: string;
  message: string;
}

/** One row of the file: its fields as the API's JSON body would hold them, and its text as read. */
export interface ParsedRow {
  row: number;
  fields: Record<string, unknown>;
  /** The row as written (a CSV record without its line end, or the NDJSON line): what a rejects file holds. */
  text: string;
  /** Problems found reading it (it is not validated further). */
  errors?: RowError[];
}

export interface ParsedFile {
  rows: ParsedRow[];
  /** CSV: the columns its header names. */
  columns?: string[];
  /** Problems of the file itself (row 0: its header, an unclosed quote): then there are no rows. */
  errors: RowError[];
}

/** The format a file's name says (`.ndjson`, `.jsonl`: NDJSON; anything else: CSV). */
export function formatOfFile(name: string): ImportFormat {
  return /\.(nd)?jsonl?$/i.test(name) ? 'ndjson' : 'csv';
}

/**
 * CSV records (RFC 4180: fields separated by commas, optionally quoted with `"`, a quote in a quoted
 * field doubled; records end with CRLF or LF, also inside quotes). Each record with its text as
 * written. A line without quotes is split at once; only a quoted record is read character by character.
 */
function csvRecords(content: string): Array<{ values: string[]; text: string }> {
  const records: Array<{ values: string[]; text: string }> = [];
  let at = content.charCodeAt(0) === 0xfeff ? 1 : 0; // a byte-order mark is not part of the first column's name
  let line = 1;
  while (at < content.length) {
    let eol = content.indexOf('\n', at);
    if (eol < 0) eol = content.length;
    const end = eol > at && content[eol - 1] === '\r' ? eol - 1 : eol;
    const text = content.slice(at, end);
    if (!text.includes('"')) {
      // A blank line is no record.
      if (text !== '') records.push({ values: text.split(','), text });
      at = eol + 1;
      line++;
      continue;
    }
    // Field by field: a quoted one up to its closing quote (line ends inside it are part of it).
    const values: string[] = [];
    const startLine = line;
    let i = at;
    for (;;) {
      let field: string;
      if (content[i] === '"') {
        field = '';
        let from = i + 1;
        for (;;) {
          const quote = content.indexOf('"', from);
          if (quote < 0) throw new SyntaxError(`line ${startLine}: a quoted field is not closed`);
          const piece = content.slice(from, quote);
          for (let n = piece.indexOf('\n'); n >= 0; n = piece.indexOf('\n', n + 1)) line++;
          field += piece;
          if (content[quote + 1] === '"') {
            field += '"';
            from = quote + 2;
          } else {
            i = quote + 1;
            break;
          }
        }
        // Text after the closing quote, up to the separator, is kept as written.
        let stop = i;
        while (stop < content.length && content[stop] !== ',' && content[stop] !== '\n' && content[stop] !== '\r') stop++;
        field += content.slice(i, stop);
        i = stop;
      } else {
        let stop = i;
        while (stop < content.length && content[stop] !== ',' && content[stop] !== '\n' && content[stop] !== '\r') stop++;
        field = content.slice(i, stop);
        i = stop;
      }
      values.push(field);
      if (content[i] === ',') {
        i++;
        continue;
      }
      if (content[i] === '\r' && content[i + 1] !== '\n') {
        // A lone CR inside an unquoted field is text.
        values[values.length - 1] += '\r';
        i++;
        continue;
      }
      break;
    }
    records.push({ values, text: content.slice(at, i) });
    at = content[i] === '\r' ? i + 2 : i + 1;
    line++;
  }
  return records;
}

/** Strings that hold a number (CSV has no types): what a JSON body would send as a number. */
const NUMBER = /^-?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/;

/**
 * The rows of a CSV file, typed as a JSON body would be: an empty cell is an absent field; the
 * columns in `numeric` hold numbers (anything else is left as text, for the validator to refuse);
 * `attributes` holds a JSON object, and `attributes.<key>` columns add one attribute each (text).
 */
function parseCsv(content: string, numeric: ReadonlySet<string>): ParsedFile {
  const errors: RowError[] = [];
  let records: ReturnType<typeof csvRecords>;
  try {
    records = csvRecords(content);
  } catch (error) {
    return { rows: [], errors: [{ row: 0, message: (error as Error).message }] };
  }
  const [head, ...body] = records;
  if (!head)
    return { rows: [], errors: [{ row: 0, message: 'the file is empty: a CSV file starts with a header row naming its columns' }] };
  const columns = head.values.map((c) => c.trim());
  const seen = new Set<string>();
  for (const column of columns) {
    if (column === '') errors.push({ row: 0, message: 'the header names a column with an empty name' });
    else if (seen.has(column)) errors.push({ row: 0, column, message: `the header names column ${column} twice` });
    seen.add(column);
  }
  if (errors.length > 0) return { rows: [], columns, errors };
  const rows: ParsedRow[] = [];
  body.forEach((record, index) => {
    const row = index + 1;
    if (record.values.length !== columns.length) {
      rows.push({
        row,
        fields: {},
        text: record.text,
        errors: [{ row, message: `has ${record.values.length} fields, the header ${columns.length}` }],
      });
      return;
    }
    const fields: Record<string, unknown> = {};
    const problems: RowError[] = [];
    record.values.forEach((value, c) => {
      const column = columns[c];
      if (value === '') return;
      if (column.startsWith('attributes.')) {
        const attributes = (fields.attributes ??= {}) as Record<string, unknown>;
        if (typeof attributes === 'object') attributes[column.slice('attributes.'.length)] = value;
        return;
      }
      if (column === 'attributes') {
        try {
          fields.attributes = { ...(JSON.parse(value) as object), ...(fields.attributes as object | undefined) };
        } catch {
          problems.push({ row, column, message: 'attributes must be a JSON object (or use attributes.<key> columns)' });
        }
        return;
      }
      fields[column] = numeric.has(column) && NUMBER.test(value.trim()) ? Number(value) : value;
    });
    rows.push({ row, fields, text: record.text, ...(problems.length > 0 && { errors: problems }) });
  });
  return { rows, columns, errors };
}

/** The rows of an NDJSON file: each non-empty line a JSON object whose fields are the API's. */
function parseNdjson(content: string): ParsedFile {
  const rows: ParsedRow[] = [];
  let row = 0;
  for (const line of content.split(/\r?\n/)) {
    if (line.trim() === '') continue;
    row++;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (error) {
      rows.push({ row, fields: {}, text: line, errors: [{ row, message: `not JSON: ${(error as Error).message}` }] });
      continue;
    }
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      rows.push({ row, fields: {}, text: line, errors: [{ row, message: 'must be a JSON object' }] });
      continue;
    }
    rows.push({ row, fields: value as Record<string, unknown>, text: line });
  }
  return { rows, errors: [] };
}

export function parseImport(content: string, format: ImportFormat, numeric: ReadonlySet<string> = new Set()): ParsedFile {
  return format === 'csv' ? parseCsv(content, numeric) : parseNdjson(content);
}

/** JSON with the keys of every object sorted: the same fields give the same text, whatever their order. */
function canonical(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  const object = value as Record<string, unknown>;
  let text = '';
  for (const key of Object.keys(object).sort()) {
    if (object[key] === undefined) continue;
    text += `${text === '' ? '' : ','}${JSON.stringify(key)}:${canonical(object[key])}`;
  }
  return `{${text}}`;
}

/**
 * A row's key: the value of the key column, or else a hash of the row's fields (their order, a
 * CSV's or a JSON line's spelling aside). Event and record ids derive from it, so importing the
 * same rows again appends nothing twice.
 */
export function rowKey(fields: Record<string, unknown>, keyColumn?: string): string | undefined {
  if (keyColumn === undefined) return `sha256:${hash('sha256', canonical(fields))}`;
  const value = fields[keyColumn];
  if (typeof value !== 'string' && typeof value !== 'number' && typeof value !== 'boolean') return undefined;
  return value === '' ? undefined : `${keyColumn}:${String(value)}`;
}

/**
 * A record id derived from a row's key: a UUID with the version-4 layout the API generates, so an
 * imported record reads like any other, and the same row always names the same record.
 */
export function derivedRecordId(seed: string): string {
  const h = createHash('sha256').update(seed).digest('hex');
  const variant = ((parseInt(h[16], 16) & 0x3) | 0x8).toString(16);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-${variant}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}
