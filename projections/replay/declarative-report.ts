import { PersonalFields } from '@chronicle/domain';
import type { RecordedEvent } from '@chronicle/event-store';
import type { Projection, ProjectionContext } from '@chronicle/projector';
import type { Document } from '@chronicle/read-store';
import { isEventType } from '../common/define-projection';
import { money, ratio, median } from '../common/numbers';
import { dayOf, periodIndex, periods } from '../common/periods';
import type { ReportDefinition, ReportParams } from '../common/report';
import type { TableRow } from '../common/table';

/**
 * A report described in JSON instead of code (docs/reports.md, "Declarative reports"): which
 * events count, filters on their fields, a grouping by period of `occurredAt` and by up to two
 * fields, and measures (count, distinct, sum, average, median). Lookups carry a value from other
 * events (a deal's source, the calls logged on a deal so far) to the events counted, and computed
 * fields combine numbers. It becomes an ordinary projection and report, so `chronicle replay`,
 * REPORTS_DIR, report runs and CSV treat it as they treat a report file in code.
 */

type Scalar = string | number | boolean | null;
type Condition =
  Scalar | { equals?: Scalar; in?: Scalar[]; not?: Scalar; gt?: number; gte?: number; lt?: number; lte?: number; exists?: boolean };
type Where = Record<string, Condition>;
type Operand = string | number | Expression;
type Expression =
  { add: [Operand, Operand] } | { subtract: [Operand, Operand] } | { multiply: [Operand, Operand] } | { divide: [Operand, Operand] };
const OPERATORS = ['add', 'subtract', 'multiply', 'divide'] as const;
const CONDITIONS = ['equals', 'in', 'not', 'gt', 'gte', 'lt', 'lte', 'exists'] as const;
const MEASURES = ['count', 'distinct', 'sum', 'average', 'median'] as const;
type MeasureOp = (typeof MEASURES)[number];

interface Lookup {
  /** The event type(s) that feed it. */
  event: string | string[];
  /** Where those events keep the key (e.g. `data.dealId`). */
  key: string;
  /** Where the counted event keeps the key (default: the same path as `key`). */
  on?: string;
  where?: Where;
  /** Exactly one: the latest value of a field, how many such events so far, or the sum of a field so far. */
  value?: string;
  count?: true;
  sum?: string;
}

interface Measure {
  name: string;
  op: MeasureOp;
  field?: string;
}

interface GroupField {
  field: string;
  as?: string;
}

export interface DeclarativeReport {
  name: string;
  description?: string;
  /** Raise it when the definition changes: the projection is rebuilt from the whole history. */
  version?: number;
  events: string[];
  where?: Where;
  lookups?: Record<string, Lookup>;
  fields?: Record<string, Expression>;
  groupBy?: Array<string | GroupField>;
  measures: Measure[];
}

interface CheckedReport extends Required<Omit<DeclarativeReport, 'where' | 'groupBy'>> {
  where?: Where;
  groupBy: GroupField[];
}

/** A definition that is not valid: where (a path in the JSON) and why. */
export class DefinitionError extends Error {}

const NAME = /^[a-z][a-z0-9-]{0,62}$/;
const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;
const TOP_LEVEL = ['name', 'description', 'version', 'events', 'where', 'lookups', 'fields', 'groupBy', 'measures'];
/** Fields of the recorded event that `metadata.<name>` reads, beside the free metadata. */
const RECORDED = new Set(['occurredAt', 'recordedAt', 'actor', 'correlationId', 'causationId']);
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isScalar = (v: unknown): v is Scalar => v === null || ['string', 'number', 'boolean'].includes(typeof v);
function fail(at: string, why: string): never {
  throw new DefinitionError(`${at}: ${why}`);
}

function onlyKeys(value: Record<string, unknown>, allowed: readonly string[], at: string): void {
  for (const key of Object.keys(value)) if (!allowed.includes(key)) fail(at, `unknown key "${key}" (allowed: ${allowed.join(', ')})`);
}

function eventTypes(value: unknown, at: string): string[] {
  const list = typeof value === 'string' ? [value] : value;
  if (!Array.isArray(list) || list.length === 0) fail(at, 'must name one or more event types');
  for (const [i, type] of (list as unknown[]).entries())
    if (typeof type !== 'string' || !isEventType(type)) fail(`${at}[${i}]`, `${JSON.stringify(type)} is not an event type`);
  return list as string[];
}

/**
 * Checks a path to a field of the event: `data.…`, `metadata.…` (occurredAt, actor, … or free
 * metadata), `streamId`, `type`, or one of `names` (lookups and computed fields). Personal fields
 * are refused: a declarative report's figures are served to analysts and kept in a read model
 * that erasure does not reach.
 */
function checkPath(path: unknown, at: string, names: ReadonlySet<string> = new Set()): string {
  if (typeof path !== 'string' || path === '') return fail(at, 'must be a field path such as "data.amount" or "metadata.actor"');
  if (names.has(path) || path === 'streamId' || path === 'type') return path;
  const [root, first, ...rest] = path.split('.');
  if ((root !== 'data' && root !== 'metadata') || !first || rest.some((p) => p === ''))
    fail(
      at,
      `"${path}" is not a field: use data.<field>, metadata.<field>, streamId, type${names.size ? `, or one of ${[...names].join(', ')}` : ''}`,
    );
  if (root === 'data' && (PersonalFields as readonly string[]).includes(first))
    fail(at, `"${path}" is personal data, which a declarative report may not read (its figures are shown to analysts)`);
  return path;
}

function checkWhere(value: unknown, at: string, names?: ReadonlySet<string>): Where | undefined {
  if (value === undefined) return undefined;
  if (!isObject(value)) return fail(at, 'must be an object of field path → value or condition');
  for (const [path, condition] of Object.entries(value)) {
    checkPath(path, at, names);
    if (isScalar(condition)) continue;
    if (!isObject(condition)) fail(`${at}.${path}`, 'must be a value or a condition such as { "gte": 100 }');
    const c = condition;
    onlyKeys(c, CONDITIONS, `${at}.${path}`);
    if (Object.keys(c).length === 0) fail(`${at}.${path}`, `must have one of ${CONDITIONS.join(', ')}`);
    for (const op of ['gt', 'gte', 'lt', 'lte'] as const)
      if (c[op] !== undefined && typeof c[op] !== 'number') fail(`${at}.${path}.${op}`, 'must be a number');
    if (c.in !== undefined && (!Array.isArray(c.in) || !c.in.every(isScalar))) fail(`${at}.${path}.in`, 'must be a list of values');
    for (const op of ['equals', 'not'] as const)
      if (c[op] !== undefined && !isScalar(c[op])) fail(`${at}.${path}.${op}`, 'must be a value');
    if (c.exists !== undefined && typeof c.exists !== 'boolean') fail(`${at}.${path}.exists`, 'must be true or false');
  }
  return value as Where;
}

function checkExpression(value: unknown, at: string, names: ReadonlySet<string>): void {
  if (typeof value === 'number') return;
  if (typeof value === 'string') return void checkPath(value, at, names);
  if (!isObject(value) || Object.keys(value).length !== 1 || !OPERATORS.includes(Object.keys(value)[0] as (typeof OPERATORS)[number]))
    return fail(at, `must be a number, a field path, or one of { ${OPERATORS.map((o) => `"${o}": [a, b]`).join(' | ')} }`);
  const [op, operands] = Object.entries(value)[0];
  if (!Array.isArray(operands) || operands.length !== 2) return fail(`${at}.${op}`, 'must be a list of two operands');
  operands.forEach((operand, i) => checkExpression(operand, `${at}.${op}[${i}]`, names));
}

/** The definition, checked whole: every error names its place in the JSON. */
export function checkDefinition(value: unknown): CheckedReport {
  if (!isObject(value)) return fail('(top)', 'must be a JSON object');
  onlyKeys(value, TOP_LEVEL, '(top)');
  const d = value as Partial<DeclarativeReport>;
  if (typeof d.name !== 'string' || !NAME.test(d.name))
    fail('name', 'must be lower-case letters, digits and dashes, starting with a letter');
  if (d.description !== undefined && typeof d.description !== 'string') fail('description', 'must be text');
  if (d.version !== undefined && (!Number.isInteger(d.version) || d.version < 1)) fail('version', 'must be a whole number ≥ 1');
  const events = eventTypes(d.events, 'events');
  const names = new Set<string>();
  const claim = (name: string, at: string) => {
    if (!IDENTIFIER.test(name)) fail(at, `"${name}" must be letters, digits and _, starting with a letter`);
    if (names.has(name) || name === 'start' || name === 'end' || name === 'streamId' || name === 'type')
      fail(at, `the name "${name}" is taken`);
    names.add(name);
  };
  const lookups: Record<string, unknown> = d.lookups ?? {};
  if (!isObject(lookups)) fail('lookups', 'must be an object of name → lookup');
  for (const [name, lookup] of Object.entries(lookups)) {
    const at = `lookups.${name}`;
    claim(name, at);
    if (!isObject(lookup)) fail(at, 'must be an object');
    onlyKeys(lookup, ['event', 'key', 'on', 'where', 'value', 'count', 'sum'], at);
    eventTypes(lookup.event, `${at}.event`);
    checkPath(lookup.key, `${at}.key`);
    if (lookup.on !== undefined) checkPath(lookup.on, `${at}.on`);
    checkWhere(lookup.where, `${at}.where`);
    const kinds = (['value', 'count', 'sum'] as const).filter((k) => lookup[k] !== undefined);
    if (kinds.length !== 1) fail(at, 'must have exactly one of "value": <path>, "count": true, "sum": <path>');
    if (lookup.count !== undefined && lookup.count !== true) fail(`${at}.count`, 'must be true');
    if (lookup.value !== undefined) checkPath(lookup.value, `${at}.value`);
    if (lookup.sum !== undefined) checkPath(lookup.sum, `${at}.sum`);
  }
  const fields = d.fields ?? {};
  if (!isObject(fields)) fail('fields', 'must be an object of name → expression');
  for (const [name, expression] of Object.entries(fields)) {
    // A computed field may use the lookups and the fields defined before it.
    checkExpression(expression, `fields.${name}`, new Set(names));
    claim(name, `fields.${name}`);
  }
  const where = checkWhere(d.where, 'where', names);
  if (d.groupBy !== undefined && !Array.isArray(d.groupBy)) fail('groupBy', 'must be a list of at most two fields');
  const groupBy = (d.groupBy ?? []).map((g, i): GroupField => {
    const at = `groupBy[${i}]`;
    const group = typeof g === 'string' ? { field: g } : g;
    if (!isObject(group)) return fail(at, 'must be a field path or { "field": <path>, "as": <column> }');
    onlyKeys(group, ['field', 'as'], at);
    checkPath(group.field, `${at}.field`, names);
    if (group.as !== undefined && (typeof group.as !== 'string' || !IDENTIFIER.test(group.as)))
      fail(`${at}.as`, 'must be letters, digits and _, starting with a letter');
    return group;
  });
  if (groupBy.length > 2) fail('groupBy', `groups by at most two fields besides the period; it has ${groupBy.length}`);
  if (!Array.isArray(d.measures) || d.measures.length === 0) fail('measures', 'must list one or more measures');
  const columns = new Set(['start', 'end']);
  const column = (name: string, at: string) => {
    if (columns.has(name)) fail(at, `the column "${name}" appears twice`);
    columns.add(name);
  };
  groupBy.forEach((g, i) => column(g.as ?? g.field, `groupBy[${i}]`));
  for (const [i, m] of (d.measures as unknown[]).entries()) {
    const at = `measures[${i}]`;
    if (!isObject(m)) fail(at, 'must be { "name", "op", "field" }');
    const measure = m as Partial<Measure>;
    onlyKeys(measure, ['name', 'op', 'field'], at);
    if (typeof measure.name !== 'string' || !IDENTIFIER.test(measure.name))
      fail(`${at}.name`, 'must be letters, digits and _, starting with a letter');
    column(measure.name, `${at}.name`);
    if (!MEASURES.includes(measure.op as MeasureOp)) fail(`${at}.op`, `must be one of ${MEASURES.join(', ')}`);
    if (measure.op === 'count') {
      if (measure.field !== undefined) fail(`${at}.field`, 'count counts events: it takes no field');
    } else checkPath(measure.field, `${at}.field`, names);
  }
  return {
    name: d.name,
    description: d.description ?? `${d.name} (declarative report)`,
    version: d.version ?? 1,
    events,
    where,
    lookups: lookups as Record<string, Lookup>,
    fields: fields,
    groupBy,
    measures: d.measures,
  };
}

// ---------------------------------------------------------------------------------------------
// Evaluation

type Values = Map<string, unknown>;

function read(event: RecordedEvent, path: string, values?: Values): unknown {
  if (values?.has(path)) return values.get(path);
  if (path === 'streamId' || path === 'type') return event[path];
  const [root, first, ...rest] = path.split('.');
  let value: unknown =
    root === 'data'
      ? (event.data as Record<string, unknown> | null)?.[first]
      : RECORDED.has(first)
        ? event[first as keyof RecordedEvent]
        : event.metadata[first];
  for (const part of rest) value = isObject(value) ? value[part] : undefined;
  return value;
}

const numeric = (value: unknown): value is number => typeof value === 'number' && Number.isFinite(value);

const COMPARE = {
  gt: (a: number, b: number) => a > b,
  gte: (a: number, b: number) => a >= b,
  lt: (a: number, b: number) => a < b,
  lte: (a: number, b: number) => a <= b,
};

function matches(where: Where | undefined, event: RecordedEvent, values?: Values): boolean {
  if (!where) return true;
  for (const [path, condition] of Object.entries(where)) {
    const value = read(event, path, values);
    if (isScalar(condition)) {
      if (value !== condition) return false;
      continue;
    }
    const c = condition;
    if (c.exists !== undefined && (value !== undefined && value !== null) !== c.exists) return false;
    if (c.equals !== undefined && value !== c.equals) return false;
    if (c.not !== undefined && value === c.not) return false;
    if (c.in !== undefined && !c.in.includes(value as Scalar)) return false;
    for (const op of ['gt', 'gte', 'lt', 'lte'] as const) {
      const bound = c[op];
      if (bound !== undefined && (typeof value !== 'number' || !COMPARE[op](value, bound))) return false;
    }
  }
  return true;
}

/** A computed field: arithmetic on numbers; anything missing or not a number (or a division by 0) makes it missing. */
function evaluate(expression: Operand, event: RecordedEvent, values: Values): number | undefined {
  if (typeof expression === 'number') return expression;
  if (typeof expression === 'string') {
    const value = read(event, expression, values);
    return numeric(value) ? value : undefined;
  }
  const [op, [a, b]] = Object.entries(expression)[0] as [(typeof OPERATORS)[number], [Operand, Operand]];
  const x = evaluate(a, event, values);
  const y = evaluate(b, event, values);
  if (x === undefined || y === undefined) return undefined;
  switch (op) {
    case 'add':
      return x + y;
    case 'subtract':
      return x - y;
    case 'multiply':
      return x * y;
    case 'divide':
      return y === 0 ? undefined : x / y;
  }
}

/** A grouping or distinct value as stored: scalars as they are, anything else as its JSON, missing as null. */
const scalarOf = (value: unknown): Scalar => (value === undefined ? null : isScalar(value) ? value : JSON.stringify(value));

interface LookupDoc extends Document {
  v: unknown;
}

/** One UTC day × one group: what the measures need to be merged over any period. */
interface Cell extends Document {
  day: string;
  g: Scalar[];
  n: number;
  /** Per measure: sum and count of numbers (sum, average), the numbers (median) or the distinct values. */
  m: Record<string, { s: number; c: number } | { v: number[] } | { d: Scalar[] }>;
}

/** The projection and report a definition describes. */
export function declarativeReport(definition: unknown): { projection: Projection; report: ReportDefinition } {
  const d = checkDefinition(definition);
  const lookups = Object.entries(d.lookups).map(([name, l]) => ({
    name,
    ...l,
    events: new Set(typeof l.event === 'string' ? [l.event] : l.event),
  }));
  const fields = Object.entries(d.fields);
  const counted = new Set(d.events);
  const lookupId = (name: string, key: unknown) => `${name}|${JSON.stringify(key)}`;
  const projectionName = `report-${d.name}`;

  async function apply(event: RecordedEvent, ctx: ProjectionContext): Promise<void> {
    if (counted.has(event.type)) {
      const values: Values = new Map();
      for (const l of lookups) {
        const key = read(event, l.on ?? l.key);
        if (key === undefined || key === null) {
          values.set(l.name, undefined);
          continue;
        }
        const doc = await ctx.get<LookupDoc>('lookups', lookupId(l.name, key));
        values.set(l.name, doc?.v ?? (l.value === undefined ? 0 : undefined));
      }
      for (const [name, expression] of fields) values.set(name, evaluate(expression, event, values));
      if (matches(d.where, event, values)) {
        const g = d.groupBy.map((group) => scalarOf(read(event, group.field, values)));
        const day = dayOf(event.occurredAt);
        const id = `${day}|${JSON.stringify(g)}`;
        const cell = (await ctx.get<Cell>('cells', id)) ?? { _id: id, day, g, n: 0, m: {} };
        cell.n += 1;
        for (const m of d.measures) {
          if (m.op === 'count') continue;
          const value = read(event, m.field!, values);
          if (m.op === 'distinct') {
            const seen = (cell.m[m.name] ??= { d: [] }) as { d: Scalar[] };
            const v = scalarOf(value);
            if (value !== undefined && value !== null && !seen.d.includes(v)) seen.d.push(v);
          } else if (numeric(value)) {
            if (m.op === 'median') ((cell.m[m.name] ??= { v: [] }) as { v: number[] }).v.push(value);
            else {
              const sum = (cell.m[m.name] ??= { s: 0, c: 0 }) as { s: number; c: number };
              sum.s += value;
              sum.c += 1;
            }
          }
        }
        ctx.put('cells', cell);
      }
    }
    // Lookups change after the event is counted: "calls before the deal was won" excludes the event itself.
    for (const l of lookups) {
      if (!l.events.has(event.type) || !matches(l.where, event)) continue;
      const key = read(event, l.key);
      if (key === undefined || key === null) continue;
      const id = lookupId(l.name, key);
      if (l.value !== undefined) {
        const value = read(event, l.value);
        if (value !== undefined) ctx.put<LookupDoc>('lookups', { _id: id, v: value });
        continue;
      }
      const add = l.count ? 1 : read(event, l.sum!);
      if (!numeric(add)) continue;
      const doc = (await ctx.get<LookupDoc>('lookups', id)) ?? { _id: id, v: 0 };
      ctx.put<LookupDoc>('lookups', { _id: id, v: (doc.v as number) + add });
    }
  }

  const projection: Projection = {
    name: projectionName,
    version: d.version,
    collections: ['cells', 'lookups'],
    eventTypes: [...new Set([...d.events, ...lookups.flatMap((l) => [...l.events])])],
    apply,
  };

  const columns = d.groupBy.map((g) => g.as ?? g.field);
  const figures = (cells: Cell[]): Record<string, number | null> => {
    const out: Record<string, number | null> = {};
    for (const m of d.measures) {
      const parts = cells.map((c) => c.m[m.name]).filter((p) => p !== undefined);
      switch (m.op) {
        case 'count':
          out[m.name] = cells.reduce((n, c) => n + c.n, 0);
          break;
        case 'distinct':
          out[m.name] = new Set(parts.flatMap((p) => (p as { d: Scalar[] }).d.map((v) => JSON.stringify(v)))).size;
          break;
        case 'median': {
          const value = median(parts.flatMap((p) => (p as { v: number[] }).v));
          out[m.name] = value === null ? null : money(value);
          break;
        }
        default: {
          const s = parts.reduce((a, p) => a + (p as { s: number }).s, 0);
          const c = parts.reduce((a, p) => a + (p as { c: number }).c, 0);
          const value = m.op === 'sum' ? s : ratio(s, c);
          out[m.name] = value === null ? null : money(value);
        }
      }
    }
    return out;
  };
  const groupColumns = (g: Scalar[]) => Object.fromEntries(columns.map((c, i) => [c, g[i]]));

  const report: ReportDefinition = {
    name: d.name,
    description: d.description,
    projections: [projectionName],
    tables: {
      rows: (r: DeclarativeResult) => r.rows,
      totals: (r: DeclarativeResult) => r.totals,
    },
    async run(params: ReportParams, { readModels }): Promise<DeclarativeResult> {
      const list = periods(params.from, params.to, params.interval);
      const byGroup = new Map<string, { g: Scalar[]; cells: Cell[][] }>();
      if (list.length > 0) {
        const cells = await readModels.collection<Cell>(projectionName, 'cells');
        // Ids start with the day, and periods start and end at midnight: the range is the window's days.
        const found = await cells.find({ _id: { $gte: dayOf(list[0].startMs), $lt: dayOf(list[list.length - 1].endMs) } });
        for (const cell of found) {
          const i = periodIndex(list, Date.parse(`${cell.day}T00:00:00.000Z`));
          if (i < 0) continue;
          const key = JSON.stringify(cell.g);
          let group = byGroup.get(key);
          if (!group) byGroup.set(key, (group = { g: cell.g, cells: list.map(() => []) }));
          group.cells[i].push(cell);
        }
      }
      if (d.groupBy.length === 0 && byGroup.size === 0) byGroup.set('[]', { g: [], cells: list.map(() => []) });
      const groups = [...byGroup.values()].sort((a, b) => compareGroups(a.g, b.g));
      return {
        interval: params.interval,
        groupBy: columns,
        measures: d.measures.map((m) => m.name),
        rows: list.flatMap((p, i) =>
          groups.map((group) => ({ start: p.start, end: p.end, ...groupColumns(group.g), ...figures(group.cells[i]) })),
        ),
        totals: groups.map((group) => ({ ...groupColumns(group.g), ...figures(group.cells.flat()) })),
      };
    },
  };
  return { projection, report };
}

export interface DeclarativeResult {
  interval: string;
  /** The grouping columns, in order (each field's `as`, or its path). */
  groupBy: string[];
  measures: string[];
  /** One row per period and group (a group seen anywhere in the window appears in every period). */
  rows: TableRow[];
  /** One row per group over the whole window (a median or distinct count of the window, not a sum of the periods'). */
  totals: TableRow[];
}

/** Groups in order: values compared as numbers or text, missing (null) last. */
function compareGroups(a: Scalar[], b: Scalar[]): number {
  for (let i = 0; i < a.length; i += 1) {
    if (a[i] === b[i]) continue;
    if (a[i] === null) return 1;
    if (b[i] === null) return -1;
    if (typeof a[i] === 'number' && typeof b[i] === 'number') return (a[i] as number) - (b[i] as number);
    return String(a[i]) < String(b[i]) ? -1 : 1;
  }
  return 0;
}
