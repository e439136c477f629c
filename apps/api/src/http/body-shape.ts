import { applyDecorators } from '@nestjs/common';
import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsObject } from 'class-validator';

/**
 * Bounds on the shape of a JSON value, checked in one linear pass before class-transformer and
 * class-validator see the body. class-transformer copies an object in time quadratic in its number
 * of keys: an `attributes` of 110,000 keys (942 KB) held the event loop for 7 s, /health included.
 */
export interface ShapeLimits {
  /** Keys and array items, counted at every level. */
  maxEntries: number;
  /** Levels of objects and arrays, the field's own value being level 1. */
  maxDepth: number;
  maxKeyLength: number;
  maxStringLength: number;
}

/** Keys and array items any one field of a body may hold (the most `attributes` may; no other field needs as many). */
export const MAX_FIELD_ENTRIES = 100;
/** Fields of a body (no command has a tenth as many). */
export const MAX_BODY_FIELDS = 100;

/** `attributes` of customers and leads: free-form, but a profile's worth (a maximal one is ~107 KB). */
export const ATTRIBUTES_LIMITS: ShapeLimits = { maxEntries: MAX_FIELD_ENTRIES, maxDepth: 3, maxKeyLength: 64, maxStringLength: 1000 };

/**
 * Any other object or array in a body: a nested DTO (a goal's `segment`), or an object sent where a
 * scalar belongs (refused by class-validator anyway). Only its size is bounded here, so that
 * class-transformer never copies a large one; depth is bounded for the whole body (app.factory.ts).
 */
export const NESTED_VALUE_LIMITS: ShapeLimits = {
  maxEntries: MAX_FIELD_ENTRIES,
  maxDepth: Infinity,
  maxKeyLength: Infinity,
  maxStringLength: Infinity,
};

/** The problem with `value`'s shape, as the end of a sentence starting with the field's name; undefined if none. */
export function shapeProblem(value: unknown, limits: ShapeLimits): string | undefined {
  if (value === null || typeof value !== 'object') return undefined;
  const tooMany = (found: number) =>
    `must have at most ${limits.maxEntries} keys and array items in all, at every level (it has at least ${found.toLocaleString('en-US')})`;
  let entries = 0;
  const stack: Array<[object, number]> = [[value, 1]];
  while (stack.length > 0) {
    const [node, depth] = stack.pop()!;
    if (depth > limits.maxDepth) return `must not be nested more than ${limits.maxDepth} levels deep`;
    // Object.keys is linear; the count is checked before anything walks the keys one by one.
    const keys = Array.isArray(node) ? undefined : Object.keys(node);
    const values: unknown[] = keys ? [] : (node as unknown[]);
    entries += keys ? keys.length : values.length;
    if (entries > limits.maxEntries) return tooMany(entries);
    if (keys) {
      for (const key of keys) {
        if (key.length > limits.maxKeyLength)
          return `keys must be at most ${limits.maxKeyLength} characters ("${key.slice(0, 20)}…" has ${key.length})`;
        values.push((node as Record<string, unknown>)[key]);
      }
    }
    for (const child of values) {
      if (typeof child === 'string' && child.length > limits.maxStringLength)
        return `string values must be at most ${limits.maxStringLength} characters (one has ${child.length})`;
      if (child !== null && typeof child === 'object') stack.push([child, depth + 1]);
    }
  }
  return undefined;
}

/**
 * The same bounds, route-agnostic and cheaper still, on the JSON text before it is parsed: at most
 * `maxFields` fields, at most `maxFieldEntries` keys and array items within any one of them, at most
 * `maxDepth` levels, and an object. One pass over the characters that stops at the first bound passed, so a
 * 942 KB body of 110,000 keys costs the scan of its first kilobyte, not the ~150 ms that
 * parsing it and walking its values took. Malformed JSON is left to the parser.
 */
export function jsonTextProblem(
  text: string,
  maxFields = MAX_BODY_FIELDS,
  maxFieldEntries = MAX_FIELD_ENTRIES,
  maxDepth = 32,
): string | undefined {
  let depth = 0;
  let lastString = [-1, -1];
  /** Per open container: whether it is an array. */
  const arrays: boolean[] = [];
  let awaitingFirstItem = false;
  let fields = 0;
  let field = '';
  let entries = 0; // within the current top-level field
  const tooMany = () => `${field}: ${field} must have at most ${maxFieldEntries} keys and array items in all, at every level`;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22) {
      // A string: jump to its closing quote (one not escaped by an odd number of backslashes).
      let close = text.indexOf('"', i + 1);
      for (;;) {
        if (close === -1) return depth === 0 ? 'body: must be a JSON object' : undefined; // unterminated: the parser's to refuse
        let backslashes = 0;
        while (text.charCodeAt(close - 1 - backslashes) === 0x5c) backslashes++;
        if (backslashes % 2 === 0) break;
        close = text.indexOf('"', close + 1);
      }
      if (depth === 0) return 'body: must be a JSON object';
      if (awaitingFirstItem) {
        awaitingFirstItem = false;
        if (depth >= 2 && ++entries > maxFieldEntries) return tooMany();
      }
      lastString = [i + 1, close];
      i = close;
      continue;
    }
    if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) continue;
    // Every body is an object; an array of a million items is not parsed to be told so.
    if (depth === 0 && c !== 0x7b) return 'body: must be a JSON object';
    if (awaitingFirstItem) {
      awaitingFirstItem = false;
      if (c !== 0x5d && depth >= 2 && ++entries > maxFieldEntries) return tooMany();
    }
    switch (c) {
      case 0x7b: // {
      case 0x5b: // [
        if (++depth > maxDepth) return `body: must not be nested more than ${maxDepth} levels deep`;
        arrays.push(c === 0x5b);
        awaitingFirstItem = c === 0x5b;
        break;
      case 0x7d: // }
      case 0x5d: // ]
        depth -= 1;
        arrays.pop();
        break;
      case 0x3a: // :
        if (depth === 1) {
          if (++fields > maxFields) return `body: must have at most ${maxFields} fields`;
          field = text.slice(lastString[0], Math.min(lastString[1], lastString[0] + 64));
          entries = 0;
        } else if (++entries > maxFieldEntries) return tooMany();
        break;
      case 0x2c: // ,
        if (arrays[arrays.length - 1] && depth >= 2 && ++entries > maxFieldEntries) return tooMany();
        break;
    }
  }
  return undefined;
}

/** A DTO class. */
export type DtoClass = abstract new (...args: never[]) => unknown;

const freeFormFields = new WeakMap<object, Map<string, ShapeLimits>>();

/** The shape limits a DTO class (or a parent class) declares for `field`. */
export function freeFormLimits(dto: DtoClass, field: string): ShapeLimits | undefined {
  for (let proto: object | null = dto.prototype; proto && proto !== Object.prototype; proto = Object.getPrototypeOf(proto)) {
    const limits = freeFormFields.get(proto)?.get(field);
    if (limits) return limits;
  }
  return undefined;
}

export const describeLimits = (limits: ShapeLimits): string =>
  `Free-form JSON object: at most ${limits.maxEntries} keys and array items in all, nested at most ${limits.maxDepth} levels ` +
  `(the object itself is the first), keys of at most ${limits.maxKeyLength} characters, strings of at most ${limits.maxStringLength} characters.`;

/** An optional free-form object field (`attributes`), with the bounds on its shape (in the OpenAPI document too). */
export const FreeFormObject = (limits: ShapeLimits = ATTRIBUTES_LIMITS) =>
  applyDecorators(
    (target: object, field: string | symbol) => {
      const fields = freeFormFields.get(target) ?? new Map<string, ShapeLimits>();
      fields.set(String(field), limits);
      freeFormFields.set(target, fields);
    },
    ApiPropertyOptional({
      type: 'object',
      additionalProperties: true,
      maxProperties: limits.maxEntries,
      description: describeLimits(limits),
    }),
    IsObject(),
  );
