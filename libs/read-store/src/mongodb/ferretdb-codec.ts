import type { Document, Update } from '../read-store';

/**
 * FerretDB v1 refuses some JSON that MongoDB and the embedded store take: arrays directly inside
 * arrays ("nested arrays are not supported") and keys that contain '.' or start with '$'. On
 * FerretDB the adapter stores such documents encoded and decodes them on the way out:
 * - an array inside an array becomes `{ "%array": [...] }`;
 * - in keys, '%' becomes "%25", '.' becomes "%2E" and a leading '$' becomes "%24" (so no real key
 *   can look like the wrapper).
 * Filters and sorts see the encoded form: fields inside nested arrays or under such keys cannot be
 * queried (docs/read-store.md, "Portable queries").
 */
export const ARRAY_WRAPPER = '%array';

const isPlainObject = (value: unknown): value is Record<string, unknown> => {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
};

const escapeKey = (key: string) => {
  const escaped = key.includes('%') || key.includes('.') ? key.replace(/%/g, '%25').replace(/\./g, '%2E') : key;
  return escaped.startsWith('$') ? `%24${escaped.slice(1)}` : escaped;
};
const DECODE: Record<string, string> = { '25': '%', '2E': '.', '24': '$' };
const unescapeKey = (key: string) => (key.includes('%') ? key.replace(/%(25|2E|24)/g, (_, hex: string) => DECODE[hex]) : key);

function encodeValue(value: unknown, inArray: boolean): unknown {
  if (Array.isArray(value)) {
    const items = value.map((item) => encodeValue(item, true));
    return inArray ? { [ARRAY_WRAPPER]: items } : items;
  }
  if (isPlainObject(value)) {
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) out[escapeKey(key)] = encodeValue(item, false);
    return out;
  }
  return value;
}

function decodeValue(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(decodeValue);
  if (isPlainObject(value)) {
    const keys = Object.keys(value);
    if (keys.length === 1 && keys[0] === ARRAY_WRAPPER && Array.isArray(value[ARRAY_WRAPPER])) return decodeValue(value[ARRAY_WRAPPER]);
    const out: Record<string, unknown> = {};
    for (const key of keys) out[unescapeKey(key)] = decodeValue(value[key]);
    return out;
  }
  return value;
}

/** Whether a document needs encoding at all (most do not: then it is stored as it is). */
function needsEncoding(value: unknown, inArray: boolean): boolean {
  if (Array.isArray(value)) return inArray || value.some((item) => needsEncoding(item, true));
  if (isPlainObject(value)) {
    for (const key in value) {
      if (key.startsWith('$') || key.includes('.') || key.includes('%') || needsEncoding(value[key], false)) return true;
    }
  }
  return false;
}

export function encodeDocument<T extends Document>(doc: T): T {
  return needsEncoding(doc, false) ? (encodeValue(doc, false) as T) : doc;
}

export function decodeDocument<T>(doc: T): T {
  return needsDecoding(doc) ? (decodeValue(doc) as T) : doc;
}

function needsDecoding(value: unknown): boolean {
  if (Array.isArray(value)) return value.some(needsDecoding);
  if (isPlainObject(value)) {
    for (const key in value) if (key.includes('%') || needsDecoding(value[key])) return true;
  }
  return false;
}

/** The values an update operator writes, encoded (the operator's keys are paths and stay as they are). */
export function encodeUpdate(update: Update): Update {
  const out: Update = {};
  for (const [op, fields] of Object.entries(update)) {
    if (!isPlainObject(fields)) {
      out[op] = fields;
      continue;
    }
    const encoded: Record<string, unknown> = {};
    for (const [path, value] of Object.entries(fields)) {
      if (op === '$push' || op === '$addToSet') {
        // the value becomes an element of an array
        encoded[path] =
          isPlainObject(value) && Array.isArray(value.$each)
            ? { ...value, $each: value.$each.map((item) => encodeValue(item, true)) }
            : encodeValue(value, true);
      } else if (op === '$set' || op === '$setOnInsert' || op === '$min' || op === '$max') {
        encoded[path] = encodeValue(value, false);
      } else {
        encoded[path] = value;
      }
    }
    out[op] = encoded;
  }
  return out;
}
