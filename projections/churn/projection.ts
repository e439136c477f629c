import type { RecordedEvent } from '@chronicle/event-store';
import type { ProjectionContext } from '@chronicle/projector';
import { defineProjection } from '../common/define-projection';
import { dayOf } from '../common/periods';
import { addRow, Row } from '../common/rows';

/**
 * Customer lifecycle per UTC day: one document per day (`days`, `_id` = YYYY-MM-DD) with the
 * counts [acquired, reactivated, churned, change of the active count] overall (`all`) and per
 * acquisition channel, region and owner (rows [key, ...counts]). Every period boundary is a UTC
 * midnight, so "active at a period's start" is the running sum of the days before it, and a
 * period's counts are the sums of its days.
 *
 * Groups: `channel` is the acquisition channel (CustomerAcquired.channel), which never changes.
 * `region` and `owner` are the customer's CURRENT ones: when they change, the customer's whole
 * lifecycle (kept on its `customers` document, one row per day) moves to the new group, so a
 * group's active count is always the number of its customers that are active. (Taking the group
 * at the time of each event instead would leave a customer reassigned while active counted
 * under the old group until it churns under the new one: groups would drift apart, even below
 * zero.) Missing values are grouped as `unknown` (region, channel) and `unassigned` (owner).
 *
 * Retention and reasons: a customer document remembers `since`, the day its current active streak
 * began (of the acquisition or reactivation that made it active). Each churn adds, on its day, one
 * to the row of its reason (`reasons`) and, when the customer was active, one to the row of that
 * streak's first day (`lost`): a period's customers active at its start who churn in it are then
 * its churns whose streak began before its start (one each: their first churn in the period ends
 * that streak), as every boundary is a UTC midnight. The same rows per group are `[group key,
 * reason or streak day, count]`; the customer keeps its churns (`churns`) so that a regroup moves
 * them with the rest of its lifecycle.
 *
 * Merges (docs/merging.md): a merged customer's whole lifecycle (its `life` and `churns`, in every
 * group) leaves the days at its CustomerMerged, as if it had never been registered, and comes back
 * at its CustomerUnmerged. While merged, its document alone follows its events (a lifecycle event
 * or a regroup, should one arrive), so that the unmerge puts back what it would have counted.
 */
export const CHURN_PROJECTION = 'churn';
export const CHURN_GROUPS = ['channel', 'region', 'owner'] as const;
export type ChurnGroupBy = (typeof CHURN_GROUPS)[number];
export const NO_REGION = 'unknown';
export const NO_OWNER = 'unassigned';
export const NO_CHANNEL = 'unknown';

type Status = 'prospect' | 'active' | 'churned';

/** A row of a group's breakdown: [group key, reason or YYYY-MM-DD, count]. */
export type GroupRow = [string, string, number];

/** A churn of the customer: its day, its reason and the first day of the active streak it ended (null when it was not active). */
export interface ChurnRecord {
  day: string;
  reason: string;
  since: string | null;
}

export interface ChurnCustomerDocument {
  _id: string;
  status: Status;
  channel: string;
  region: string;
  owner: string;
  /** The customer's lifecycle counts per day: rows [YYYY-MM-DD, acquired, reactivated, churned, Δactive]. */
  life: Row[];
  /** While active: the day (YYYY-MM-DD) of the acquisition or reactivation that made it active; null otherwise. */
  since: string | null;
  /** Every churn of the customer, in order. */
  churns: ChurnRecord[];
  /** Merged into another customer: its lifecycle is kept here only, not in the days. */
  merged: boolean;
  [key: string]: unknown;
}

export interface ChurnDayDocument {
  _id: string;
  /** [acquired, reactivated, churned, Δactive] of every customer. */
  all: number[];
  channel: Row[];
  region: Row[];
  owner: Row[];
  /** The day's churns by reason: rows [reason, churned]. */
  reasons: Row[];
  /** The day's churns of active customers by the first day of the streak they ended: rows [YYYY-MM-DD, churned]. */
  lost: Row[];
  /** `reasons` per group: rows [key, reason, churned]. */
  groupReasons: Record<ChurnGroupBy, GroupRow[]>;
  /** `lost` per group: rows [key, YYYY-MM-DD, churned]. */
  groupLost: Record<ChurnGroupBy, GroupRow[]>;
  [key: string]: unknown;
}

const emptyDay = (id: string): ChurnDayDocument => ({
  _id: id,
  all: [0, 0, 0, 0],
  channel: [],
  region: [],
  owner: [],
  reasons: [],
  lost: [],
  groupReasons: { channel: [], region: [], owner: [] },
  groupLost: { channel: [], region: [], owner: [] },
});

/** Adds `count` to the row of (key, sub), creating it; drops it when it becomes 0. */
function addGroupRow(rows: GroupRow[], key: string, sub: string, count: number): void {
  const index = rows.findIndex((r) => r[0] === key && r[1] === sub);
  if (index < 0) {
    if (count !== 0) rows.push([key, sub, count]);
    return;
  }
  rows[index] = [key, sub, rows[index][2] + count];
  if (rows[index][2] === 0) rows.splice(index, 1);
}

/** Adds one churn (times `sign`) of a customer in group `key` (of `group`) to its day. */
function countChurn(day: ChurnDayDocument, group: ChurnGroupBy, key: string, churn: ChurnRecord, sign: number): void {
  addGroupRow(day.groupReasons[group], key, churn.reason, sign);
  if (churn.since !== null) addGroupRow(day.groupLost[group], key, churn.since, sign);
}

async function customer(ctx: ProjectionContext, customerId: string): Promise<ChurnCustomerDocument> {
  return (
    (await ctx.get<ChurnCustomerDocument>('customers', customerId)) ?? {
      _id: customerId,
      status: 'prospect',
      channel: NO_CHANNEL,
      region: NO_REGION,
      owner: NO_OWNER,
      life: [],
      since: null,
      churns: [],
      merged: false,
    }
  );
}

/** Adds (sign 1) or withdraws (sign −1) a customer's whole lifecycle, in every group, to or from the days. */
async function countLifecycle(ctx: ProjectionContext, doc: ChurnCustomerDocument, sign: 1 | -1): Promise<void> {
  for (const [dayId, ...counts] of doc.life) {
    const day = (await ctx.get<ChurnDayDocument>('days', dayId)) ?? emptyDay(dayId);
    day.all = day.all.map((v, i) => v + sign * counts[i]);
    for (const group of CHURN_GROUPS) addRow(day[group], doc[group], counts, sign);
    // Every churn day is a day of the lifecycle.
    for (const churn of doc.churns) {
      if (churn.day !== dayId) continue;
      addRow(day.reasons, churn.reason, [sign]);
      if (churn.since !== null) addRow(day.lost, churn.since, [sign]);
      for (const group of CHURN_GROUPS) countChurn(day, group, doc[group], churn, sign);
    }
    ctx.put('days', day);
  }
}

async function lifecycle(
  ctx: ProjectionContext,
  event: RecordedEvent,
  doc: ChurnCustomerDocument,
  kind: 0 | 1 | 2,
  status: Status,
  /** Of a churn. */
  reason?: string,
): Promise<void> {
  const wasActive = doc.status === 'active';
  const counts = [0, 0, 0, (status === 'active' ? 1 : 0) - (wasActive ? 1 : 0)];
  counts[kind] = 1;
  const dayId = dayOf(event.occurredAt);
  // A merged customer's lifecycle is out of the days: its document alone keeps it, for its unmerge.
  const day = doc.merged ? undefined : ((await ctx.get<ChurnDayDocument>('days', dayId)) ?? emptyDay(dayId));
  if (day) {
    day.all = day.all.map((v, i) => v + counts[i]);
    for (const group of CHURN_GROUPS) addRow(day[group], doc[group], counts);
  }
  let churns = doc.churns;
  if (reason !== undefined) {
    const churn: ChurnRecord = { day: dayId, reason, since: wasActive ? doc.since : null };
    if (day) {
      addRow(day.reasons, reason, [1]);
      if (churn.since !== null) addRow(day.lost, churn.since, [1]);
      for (const group of CHURN_GROUPS) countChurn(day, group, doc[group], churn, 1);
    }
    churns = [...churns, churn];
  }
  if (day) ctx.put('days', day);
  const life = doc.life.map((r) => [...r] as Row);
  addRow(life, dayId, counts);
  // A streak goes on through an acquisition of an active customer; it ends at a churn.
  const since = status !== 'active' ? null : wasActive ? doc.since : dayId;
  ctx.put<ChurnCustomerDocument>('customers', { ...doc, status, life, since, churns });
}

/** Moves a customer's whole lifecycle from one region or owner to another. */
async function regroup(ctx: ProjectionContext, doc: ChurnCustomerDocument, group: 'region' | 'owner', to: string): Promise<void> {
  if (doc[group] === to) return;
  // A merged customer's lifecycle is in no day: its unmerge counts it under its groups then.
  for (const [dayId, ...counts] of doc.merged ? [] : doc.life) {
    const day = (await ctx.get<ChurnDayDocument>('days', dayId)) ?? emptyDay(dayId);
    addRow(day[group], doc[group], counts, -1);
    addRow(day[group], to, counts);
    // Every churn day is a day of the lifecycle.
    for (const churn of doc.churns) {
      if (churn.day !== dayId) continue;
      countChurn(day, group, doc[group], churn, -1);
      countChurn(day, group, to, churn, 1);
    }
    ctx.put('days', day);
  }
  ctx.put<ChurnCustomerDocument>('customers', { ...doc, [group]: to });
}

export const churnProjection = defineProjection({
  name: CHURN_PROJECTION,
  // 3: a merged customer's lifecycle leaves the days until its unmerge (CustomerMerged, CustomerUnmerged).
  version: 3,
  collections: ['customers', 'days'],
  on: {
    async CustomerRegistered({ data: d }, ctx) {
      const doc = await customer(ctx, d.customerId);
      ctx.put<ChurnCustomerDocument>('customers', { ...doc, region: d.region ?? NO_REGION, owner: d.ownerId ?? NO_OWNER });
    },
    async CustomerProfileUpdated({ data: { customerId, region } }, ctx) {
      const doc = await customer(ctx, customerId);
      if (region !== undefined) await regroup(ctx, doc, 'region', region ?? NO_REGION);
    },
    async CustomerOwnerAssigned({ data: d }, ctx) {
      return regroup(ctx, await customer(ctx, d.customerId), 'owner', d.ownerId ?? NO_OWNER);
    },
    async CustomerAcquired(event, ctx) {
      const { customerId, channel } = event.data;
      const doc = await customer(ctx, customerId);
      // As the customer decider folds it: an acquisition never revives a churned customer.
      return lifecycle(ctx, event, { ...doc, channel: channel ?? NO_CHANNEL }, 0, doc.status === 'churned' ? 'churned' : 'active');
    },
    async CustomerReactivated(event, ctx) {
      return lifecycle(ctx, event, await customer(ctx, event.data.customerId), 1, 'active');
    },
    async CustomerChurned(event, ctx) {
      return lifecycle(ctx, event, await customer(ctx, event.data.customerId), 2, 'churned', event.data.reason);
    },
    // The merged customer's copy decides (the survivor's lifecycle is unchanged); a repeated copy changes nothing.
    async CustomerMerged({ data: d }, ctx) {
      if (d.customerId !== d.mergedId) return;
      const doc = await customer(ctx, d.mergedId);
      if (doc.merged) return;
      await countLifecycle(ctx, doc, -1);
      ctx.put<ChurnCustomerDocument>('customers', { ...doc, merged: true });
    },
    async CustomerUnmerged({ data: d }, ctx) {
      if (d.customerId !== d.mergedId) return;
      const doc = await customer(ctx, d.mergedId);
      if (!doc.merged) return;
      await countLifecycle(ctx, doc, 1);
      ctx.put<ChurnCustomerDocument>('customers', { ...doc, merged: false });
    },
  },
});
