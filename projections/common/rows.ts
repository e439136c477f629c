/**
 * Small maps stored as rows `[key, ...numbers]` inside read-model documents. Keys come from user
 * data (channels, owners, regions, stages); as field names they could hold `.` or `$`, which
 * MongoDB treats specially, so they are kept as values. The lists stay short (one row per
 * channel, owner, region or stage), so a linear search is cheap.
 */
export type Row = [string, ...number[]];

/** Adds `values` (times `sign`) to the row of `key`, creating it; drops the row when it becomes all zeros. */
export function addRow(rows: Row[], key: string, values: readonly number[], sign = 1): void {
  let row = rows.find((r) => r[0] === key);
  if (!row) {
    row = [key, ...values.map(() => 0)];
    rows.push(row);
  }
  for (let i = 0; i < values.length; i++) row[i + 1] = (row[i + 1] as number) + sign * values[i];
  if (row.slice(1).every((v) => v === 0)) rows.splice(rows.indexOf(row), 1);
}

/** Adds every row of `from` into the map `into` (key → running sums). */
export function sumRows(into: Map<string, number[]>, from: readonly Row[] | undefined): void {
  for (const [key, ...values] of from ?? []) {
    const sums = into.get(key);
    if (!sums) into.set(key, [...values]);
    else for (let i = 0; i < values.length; i++) sums[i] += values[i];
  }
}

/** Sorted keys, with `last` (e.g. `unattributed`) moved to the end when present. */
export function sortedKeys(keys: Iterable<string>, last?: string): string[] {
  const list = [...new Set(keys)].sort((a, b) => (a === last ? 1 : b === last ? -1 : a < b ? -1 : a > b ? 1 : 0));
  return list;
}
