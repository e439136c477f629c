import { PersonalFields, personOfTask } from '@chronicle/domain';

/**
 * How personal fields are masked for the roles that analyse rather than contact (the API's
 * analyst, `chronicle export --masked`): pure functions of a response body.
 */

/**
 * "Ada Lovelace" → "A***": enough to tell records apart in a list, not to identify anyone. Other
 * values (the free-form `attributes` object, whose keys may be personal too) become "***".
 */
export const mask = (value: unknown): unknown => {
  if (value === null || value === undefined || value === '') return value;
  return typeof value === 'string' ? `${[...value][0]}***` : '***';
};

type Json = Record<string, unknown>;
const isObject = (value: unknown): value is Json => value !== null && typeof value === 'object' && !Array.isArray(value);

/** A copy with every personal field (the domain's PersonalFields) masked. */
export function maskFields<T>(record: T): T {
  if (!isObject(record)) return record;
  const copy: Json = { ...record };
  for (const field of PersonalFields) if (field in copy) copy[field] = mask(copy[field]);
  return copy as T;
}

const pageOf = (item: (value: unknown) => unknown) => (body: unknown) =>
  isObject(body) && Array.isArray(body.items) ? { ...body, items: body.items.map(item) } : body;
/** A task holds personal text only when it is about a customer or lead. */
const maskTask = (task: unknown) => (isObject(task) && personOfTask(task) !== undefined ? maskFields(task) : task);
/** Every timeline entry is about the customer: its details' personal text (subject, outcome, description) is masked. */
const maskEntry = (entry: unknown) =>
  isObject(entry) && isObject(entry.details) ? { ...entry, details: maskFields(entry.details) } : entry;

/** How each read route's body is masked, by shape. */
export const maskers = {
  /** A customer or lead view, or a folded state (`?asOf=`). */
  record: (body: unknown) => (isObject(body) && isObject(body.state) ? { ...body, state: maskFields(body.state) } : maskFields(body)),
  /** A page of customer or lead views. */
  page: pageOf(maskFields),
  report: (body: unknown) => (isObject(body) && Array.isArray(body.top) ? { ...body, top: body.top.map(maskFields) } : body),
  timeline: pageOf(maskEntry),
  task: maskTask,
  taskPage: pageOf(maskTask),
} as const;
