import type { ProjectionContext } from '@chronicle/projector';
import type { Filter } from '@chronicle/read-store';
import type { ReadModelAccess } from './report';

/**
 * A survivor and the customers merged into it (docs/merging.md): one document per survivor
 * (`_id`: the survivor's id) while any is merged, in a projection's own collection. Read models
 * whose records keep their own customer (deals, tasks, timeline entries) answer for the survivor
 * with these customers' records too.
 */
export type MergesDocument = { _id: string; merged: string[] };

export const MERGES = 'merges';

type MergeData = { customerId: string; mergedId: string; survivorId: string };

/**
 * Adds (`merged`) or removes the merged customer from its survivor's document. Acts on the merged
 * customer's copy of CustomerMerged / CustomerUnmerged only (the decision; the survivor's copy
 * records the same merge).
 */
export async function rememberMerge(ctx: ProjectionContext, d: MergeData, merged: boolean): Promise<void> {
  if (d.customerId !== d.mergedId) return;
  const current = await ctx.get<MergesDocument>(MERGES, d.survivorId);
  const others = (current?.merged ?? []).filter((id) => id !== d.mergedId);
  const next = merged ? [...others, d.mergedId] : others;
  if (next.length > 0) ctx.put<MergesDocument>(MERGES, { _id: d.survivorId, merged: next });
  else if (current) ctx.delete(MERGES, d.survivorId);
}

/** The handlers that keep MERGES, for a projection's `on`. */
export const mergeHandlers = {
  CustomerMerged: (event: { data: MergeData }, ctx: ProjectionContext) => rememberMerge(ctx, event.data, true),
  CustomerUnmerged: (event: { data: MergeData }, ctx: ProjectionContext) => rememberMerge(ctx, event.data, false),
};

/** The customers merged into `customerId` now, in merge order (none for most). */
export async function mergedInto(access: ReadModelAccess, projection: string, customerId: string): Promise<string[]> {
  return (await (await access.collection<MergesDocument>(projection, MERGES)).findById(customerId))?.merged ?? [];
}

/**
 * The filter on a record's `customerId`: the customer's records and, for a survivor, those of the
 * customers merged into it while they are.
 */
export async function customerFilter(access: ReadModelAccess, projection: string, customerId: string): Promise<Filter[string]> {
  const merged = await mergedInto(access, projection, customerId);
  return merged.length > 0 ? { $in: [customerId, ...merged] } : customerId;
}
