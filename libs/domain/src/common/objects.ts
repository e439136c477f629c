/**
 * Drops undefined fields: stored event payloads hold only what was said, and documents look the
 * same whether they come from a cache or the store.
 */
export function compact<T extends object>(value: T): T {
  const out: Record<string, unknown> = {};
  for (const key in value) if (value[key] !== undefined) out[key] = value[key];
  return out as T;
}
