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
 */
export const CHURN_PROJECTION = 'churn';
export const CHURN_GROUPS = ['channel', 'region', 'owner'] as const;
export type ChurnGroupBy = (typeof CHURN_GROUPS)[number];
export const NO_REGION = 'unknown';
export const NO_OWNER = 'unassigned';
export const NO_CHANNEL = 'unknown';

type Status = 'prospect' | 'active' | 'churned';

export interface ChurnCustomerDocument {
  _id: string;
  status: Status;
  channel: string;
  region: string;
  owner: string;
  /** The customer's lifecycle counts per day: rows [YYYY-MM-DD, acquired, reactivated, churned, Δactive]. */
  life: Row[];
  [key: string]: unknown;
}

export interface ChurnDayDocument {
  _id: string;
  /** [acquired, reactivated, churned, Δactive] of every customer. */
  all: number[];
  channel: Row[];
  region: Row[];
  owner: Row[];
  [key: string]: unknown;
}

const emptyDay = (id: string): ChurnDayDocument => ({ _id: id, all: [0, 0, 0, 0], channel: [], region: [], owner: [] });

async function customer(ctx: ProjectionContext, customerId: string): Promise<ChurnCustomerDocument> {
  return (
    (await ctx.get<ChurnCustomerDocument>('customers', customerId)) ?? {
      _id: customerId,
      status: 'prospect',
      channel: NO_CHANNEL,
      region: NO_REGION,
      owner: NO_OWNER,
      life: [],
    }
  );
}

async function lifecycle(
  ctx: ProjectionContext,
  event: RecordedEvent,
  doc: ChurnCustomerDocument,
  kind: 0 | 1 | 2,
  status: Status,
): Promise<void> {
  const counts = [0, 0, 0, (status === 'active' ? 1 : 0) - (doc.status === 'active' ? 1 : 0)];
  counts[kind] = 1;
  const dayId = dayOf(event.occurredAt);
  const day = (await ctx.get<ChurnDayDocument>('days', dayId)) ?? emptyDay(dayId);
  day.all = day.all.map((v, i) => v + counts[i]);
  for (const group of CHURN_GROUPS) addRow(day[group], doc[group], counts);
  ctx.put('days', day);
  const life = doc.life.map((r) => [...r] as Row);
  addRow(life, dayId, counts);
  ctx.put<ChurnCustomerDocument>('customers', { ...doc, status, life });
}

/** Moves a customer's whole lifecycle from one region or owner to another. */
async function regroup(ctx: ProjectionContext, doc: ChurnCustomerDocument, group: 'region' | 'owner', to: string): Promise<void> {
  if (doc[group] === to) return;
  for (const [dayId, ...counts] of doc.life) {
    const day = (await ctx.get<ChurnDayDocument>('days', dayId)) ?? emptyDay(dayId);
    addRow(day[group], doc[group], counts, -1);
    addRow(day[group], to, counts);
    ctx.put('days', day);
  }
  ctx.put<ChurnCustomerDocument>('customers', { ...doc, [group]: to });
}

export const churnProjection = defineProjection({
  name: CHURN_PROJECTION,
  version: 1,
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
      return lifecycle(ctx, event, await customer(ctx, event.data.customerId), 2, 'churned');
    },
  },
});
