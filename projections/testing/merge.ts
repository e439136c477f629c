import type { Projection } from '@chronicle/projector';
import { appendAndProject } from './append';
import { project, Projected, ScenarioEvent } from './harness';

/**
 * Merges in tests (docs/merging.md). A merge's meaning, as a history: `asMerged` rewrites a history
 * as if the merged customer's related records had been the survivor's all along and its own
 * lifecycle had never been recorded. A read model after `mergeEvents` must answer as it does for
 * that history, and after `unmergeEvents` as it did before the merge.
 */

/** The customer's own lifecycle: a merged customer's leaves every count of customers. */
const LIFECYCLE = new Set([
  'CustomerRegistered',
  'CustomerProfileUpdated',
  'CustomerOwnerAssigned',
  'CustomerAcquired',
  'CustomerChurned',
  'CustomerReactivated',
  'CustomerArchived',
  'CustomerRestored',
  'CustomerLeadLinked',
  'CustomerPersonalDataErased',
]);

/** The customers a history registered, in order. */
export const registeredCustomers = (history: ScenarioEvent[]): string[] =>
  history.filter((e) => e.type === 'CustomerRegistered').map((e) => String(e.data.customerId));

/**
 * Half the time (by `pick`), the history with only its acquired customers' registrations, so that
 * mergePair pairs two of them: a random pair is mostly of prospects, whose merge changes no count
 * of customers.
 */
export function acquiredFirst(history: ScenarioEvent[], pick: number): ScenarioEvent[] {
  const acquired = new Set(history.filter((e) => e.type === 'CustomerAcquired').map((e) => e.data.customerId));
  if (pick % 2 === 0 || acquired.size < 2) return history;
  return history.filter((e) => e.type !== 'CustomerRegistered' || acquired.has(e.data.customerId));
}

/** A pair of different registered customers chosen by `pick` ([merged, survivor]), or undefined when there are fewer than two. */
export function mergePair(history: ScenarioEvent[], pick: number): [string, string] | undefined {
  const ids = registeredCustomers(history);
  if (ids.length < 2) return undefined;
  const merged = ids[pick % ids.length];
  const others = ids.filter((id) => id !== merged);
  return [merged, others[Math.floor(pick / ids.length) % others.length]];
}

function both(
  type: 'CustomerMerged' | 'CustomerUnmerged',
  mergedId: string,
  survivorId: string,
  occurredAt: string,
  reason?: string,
): ScenarioEvent[] {
  // The merged customer's copy first (the decision), then the survivor's, as the command handler appends them.
  return [mergedId, survivorId].map((customerId) => ({
    streamId: `customer-${customerId}`,
    type,
    data: { customerId, mergedId, survivorId, ...(reason === undefined ? {} : { reason }) },
    occurredAt,
  }));
}

export const mergeEvents = (mergedId: string, survivorId: string, occurredAt: string, reason?: string): ScenarioEvent[] =>
  both('CustomerMerged', mergedId, survivorId, occurredAt, reason);

export const unmergeEvents = (mergedId: string, survivorId: string, occurredAt: string, reason?: string): ScenarioEvent[] =>
  both('CustomerUnmerged', mergedId, survivorId, occurredAt, reason);

/**
 * The history as a merge reads it: the merged customer's lifecycle events are dropped; its
 * purchases, interactions, tags and enrolments move to the survivor's stream, and deal and task
 * events naming it name the survivor. Lead events keep their customer (a lead's conversion is the
 * lead's history).
 */
export function asMerged(history: ScenarioEvent[], mergedId: string, survivorId: string): ScenarioEvent[] {
  const mergedStream = `customer-${mergedId}`;
  const out: ScenarioEvent[] = [];
  for (const event of history) {
    if (event.streamId === mergedStream) {
      if (LIFECYCLE.has(event.type)) continue;
      out.push({ ...event, streamId: `customer-${survivorId}`, data: { ...event.data, customerId: survivorId } });
    } else if ((event.streamId.startsWith('deal-') || event.streamId.startsWith('task-')) && event.data.customerId === mergedId) {
      out.push({ ...event, data: { ...event.data, customerId: survivorId } });
    } else {
      out.push(event);
    }
  }
  return out;
}

/** The last business time of a history (a merge is recorded after it). */
export const lastTimeOf = (history: ScenarioEvent[]): string =>
  history.reduce((latest, e) => (e.occurredAt > latest ? e.occurredAt : latest), '1970-01-01T00:00:00.000Z');

/**
 * A merge's round trip on one history: the pair merged after the first `cut` events of it (an hour
 * after its end when `cut` is its length), `read` answers as for asMerged(history); unmerged at the
 * end, as for the history. Returns whether the merge changed what `read` answers.
 */
export async function expectMergeRoundTrip(
  history: ScenarioEvent[],
  cut: number,
  pair: [string, string],
  projections: Projection[],
  read: (projected: Projected) => Promise<unknown>,
): Promise<boolean> {
  const before = history.slice(0, cut);
  const at = cut === history.length ? new Date(Date.parse(lastTimeOf(history)) + 3_600_000).toISOString() : lastTimeOf(before);
  const expected = async (events: ScenarioEvent[]) => {
    const projected = await project(events, projections);
    try {
      return await read(projected);
    } finally {
      await projected.close();
    }
  };
  const [unmerged, merged] = [await expected(history), await expected(asMerged(history, ...pair))];
  const projected = await project([...before, ...mergeEvents(...pair, at), ...history.slice(cut)], projections);
  try {
    expect(await read(projected)).toEqual(merged);
    await appendAndProject(projected, unmergeEvents(...pair, lastTimeOf([...history, ...mergeEvents(...pair, at)])));
    expect(await read(projected)).toEqual(unmerged);
  } finally {
    await projected.close();
  }
  return JSON.stringify(merged) !== JSON.stringify(unmerged);
}
