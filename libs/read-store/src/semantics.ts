import { FencedError } from '@chronicle/cluster';
import { assertCollectionName, DocumentChange, Filter, Update } from './read-store';

/** Rules both adapters share, so that they behave alike where MongoDB leaves a choice. */

/** Fields that can be indexed: top-level, plain names. */
export const INDEX_FIELD = /^[A-Za-z_][A-Za-z0-9_]*$/;

export function assertIndexField(field: string): void {
  if (!INDEX_FIELD.test(field)) throw new Error(`invalid index field "${field}"`);
}

/** A change's document must carry the change's id. */
export function assertChangeIds(changes: DocumentChange[]): void {
  for (const change of changes) {
    if (typeof change.id !== 'string') throw new Error(`change in "${change.collection}" has no string id`);
    if (change.doc !== null && change.doc._id !== change.id) {
      throw new Error(`change "${change.id}" in "${change.collection}" carries a document with _id "${String(change.doc._id)}"`);
    }
  }
}

/** A change written under a lease that is no longer valid is refused before anything is written. */
export function assertFencesValid(changes: DocumentChange[]): void {
  const lapsed = new Set<string>();
  for (const { fence } of changes) if (fence && !fence.valid()) lapsed.add(fence.role);
  if (lapsed.size > 0) throw new FencedError([...lapsed], 'its lease lapsed');
}

/** Validates every change up front and keeps the last change per document (as applying them in order would). */
export function normalizeChanges(changes: DocumentChange[]): DocumentChange[] {
  for (const change of changes) assertCollectionName(change.collection);
  assertChangeIds(changes);
  const last = new Map<string, DocumentChange>();
  for (const change of changes) {
    const key = `${change.collection}\u0000${change.id}`;
    last.delete(key); // re-insert, so the order is that of the last occurrences
    last.set(key, change);
  }
  return [...last.values()];
}

const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof RegExp);
const isOperatorObject = (value: unknown): value is Record<string, unknown> =>
  isPlainObject(value) && Object.keys(value).some((k) => k.startsWith('$'));

/**
 * The document an upsert starts from, as MongoDB builds it: the equality conditions of the filter
 * (`field: value`, `field: { $eq: value }`, inside `$and` too), dotted paths as nested documents.
 */
export function upsertSeed(filter: Filter): Record<string, unknown> {
  const seed: Record<string, unknown> = {};
  const visit = (f: Filter) => {
    for (const [key, condition] of Object.entries(f)) {
      if (key === '$and' && Array.isArray(condition)) {
        for (const part of condition) if (isPlainObject(part)) visit(part);
        continue;
      }
      if (key.startsWith('$')) continue;
      if (isOperatorObject(condition)) {
        if ('$eq' in condition && !isOperatorObject(condition.$eq)) setPath(seed, key, structuredClone(condition.$eq));
        continue;
      }
      if (condition instanceof RegExp) continue;
      setPath(seed, key, structuredClone(condition));
    }
  };
  visit(filter);
  return seed;
}

function setPath(target: Record<string, unknown>, path: string, value: unknown): void {
  const parts = path.split('.');
  let node = target;
  for (const part of parts.slice(0, -1)) {
    if (!isPlainObject(node[part])) node[part] = {};
    node = node[part] as Record<string, unknown>;
  }
  node[parts[parts.length - 1]] = value;
}

/** The _id an upsert would insert; our documents need a string one (MongoDB would invent an ObjectId). */
export function upsertId(filter: Filter, update: Update): string {
  const fromOperator = (op: string) => (isPlainObject(update[op]) ? update[op]._id : undefined);
  const id = upsertSeed(filter)._id ?? fromOperator('$setOnInsert') ?? fromOperator('$set');
  if (typeof id !== 'string') throw new Error('an upsert needs a string _id in the filter or the update');
  return id;
}

/**
 * `{ $and: [{ a: 1 }, { b: 2 }] }` as `{ a: 1, b: 2 }` where no field repeats: the same query, in
 * the form every server takes the upsert seed from (FerretDB v1 ignores equalities inside $and).
 */
export function flattenAnd(filter: Filter): Filter {
  if (!Array.isArray(filter.$and)) return filter;
  const flat: Filter = {};
  for (const [key, value] of Object.entries(filter)) if (key !== '$and') flat[key] = value;
  const rest: unknown[] = [];
  for (const part of filter.$and as unknown[]) {
    if (!isPlainObject(part)) return filter;
    const inner = flattenAnd(part);
    if (Object.keys(inner).some((k) => k in flat || (k.startsWith('$') && k !== '$and'))) rest.push(inner);
    else Object.assign(flat, inner);
  }
  if (rest.length) flat.$and = rest;
  return flat;
}

/**
 * A deep copy of a document's plain objects and arrays (other values, e.g. dates, are shared):
 * what an adapter takes when `commit` is called, since the caller may change its documents
 * before the commit settles. Not structuredClone: its objects would come from Node's realm, not
 * the caller's (under Jest they differ, and a prototype check would no longer see plain objects).
 */
export function copyDocument<T>(value: T): T {
  if (Array.isArray(value)) return value.map(copyDocument) as T;
  if (typeof value === 'object' && value !== null) {
    const proto = Object.getPrototypeOf(value);
    if (proto !== Object.prototype && proto !== null) return value;
    const copy: Record<string, unknown> = {};
    for (const key in value) copy[key] = copyDocument((value as Record<string, unknown>)[key]);
    return copy as T;
  }
  return value;
}
