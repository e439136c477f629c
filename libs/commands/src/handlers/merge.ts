import { CustomerMerged, CustomerState, CustomerUnmerged, CustomerWasMerged, streamIdOf } from '@chronicle/domain';
import { CustomerMessage } from '../messages';
import { reactionContext } from '../process-managers/reaction-context';

/** The reason of the unmerge that undoes a merge whose survivor was merged elsewhere meanwhile. */
export const SURVIVOR_MERGED = 'survivor-merged';

type MergeEvent = {
  eventId: string;
  occurredAt: string;
} & ({ type: 'CustomerMerged'; data: CustomerMerged['data'] } | { type: 'CustomerUnmerged'; data: CustomerUnmerged['data'] });

export interface MergeSide {
  load(streamId: string): Promise<CustomerState>;
  send(message: CustomerMessage): Promise<unknown>;
}

/**
 * Records a merge or an unmerge, decided on the merged customer's stream, on the survivor's
 * (docs/merging.md). Run inline by the command's handler and again from the feed by the merge
 * process manager, so it is idempotent: the survivor's decider records each member once, and a
 * merge or unmerge that a later one has overtaken is not recorded. Returns the error that undid a
 * merge whose survivor was merged elsewhere meanwhile (two merges racing), if so.
 */
export async function recordOnSurvivor(event: MergeEvent, correlationId: string, side: MergeSide): Promise<CustomerWasMerged | undefined> {
  const { customerId, mergedId, survivorId, reason } = event.data;
  if (customerId !== mergedId) return undefined; // the survivor's own copy
  const merged = await side.load(streamIdOf('customer', mergedId));
  const data = { customerId: survivorId, mergedId, ...(reason === undefined ? {} : { reason }) };
  const context = reactionContext(event.eventId, correlationId, 'merge');
  if (event.type === 'CustomerUnmerged') {
    // Merged into the same survivor again since: the survivor lists it, rightly.
    if (merged.mergedInto !== survivorId)
      await side.send(new CustomerMessage({ type: 'RecordUnmerge', data, occurredAt: event.occurredAt }, context));
    return undefined;
  }
  if (merged.mergedInto !== survivorId) return undefined; // undone since; its unmerge is recorded on its own
  try {
    await side.send(new CustomerMessage({ type: 'RecordMerge', data, occurredAt: event.occurredAt }, context));
    return undefined;
  } catch (error) {
    if (!(error instanceof CustomerWasMerged)) throw error;
    // The survivor was merged into another customer between the decision and now: merges are one
    // level deep, so this one is undone (and the caller is told where the survivor went).
    const undo = {
      type: 'UnmergeCustomer' as const,
      data: { customerId: mergedId, reason: SURVIVOR_MERGED },
      occurredAt: event.occurredAt,
    };
    await side.send(new CustomerMessage(undo, reactionContext(event.eventId, correlationId, 'merge-undone')));
    return error;
  }
}
