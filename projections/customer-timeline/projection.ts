import { erasedFields, PersonalFields } from '@chronicle/domain';
import type { RecordedEvent } from '@chronicle/event-store';
import type { ProjectionContext } from '@chronicle/projector';
import { MERGES, rememberMerge } from '../common/merges';
import { defineProjection } from '../common/define-projection';
import { compact } from '../common/listing';
import { entryOf } from './keys';

/**
 * A customer's timeline: one small document per entry (`entries`), never an array on the
 * customer, so an event costs one insert however long the history is. The `_id` is the sort key
 * (see keys.ts: month, customer hash, business time, position), so the primary key alone serves
 * "newest first for one customer, from a cursor" as range scans, with no secondary index to
 * maintain. `spans` holds each customer's earliest month, where the query stops probing (written
 * only when an entry is older than any before, so about once per customer). Deal events without
 * a customer id (stage changes) find it in `deals` (deal → customer, title). `merges` lists a
 * survivor's merged customers, whose entries its timeline shows too (see query.ts).
 */
export const TIMELINE_PROJECTION = 'customer-timeline';

export type TimelineKind = 'lifecycle' | 'purchase' | 'interaction' | 'deal' | 'owner' | 'tag' | 'campaign' | 'task';

export type TimelineEntryDocument = {
  _id: string;
  /** Checked by the query: two customers may share a hash (rarely), never an entry. */
  customerId: string;
  type: string;
  occurredAt: string;
  position: number;
  streamId: string;
  actor: string;
  details: Record<string, unknown>;
  /** The key of the customer's previous entry holding personal text (see `spans`), if any. */
  previousPersonal?: string;
};

type DealLink = { _id: string; customerId: string; title: string };
/** A task about a customer: its later events (edited, done, cancelled, reassigned) carry only the task id. */
type TaskLink = { _id: string; customerId: string };

/**
 * The month (see keys.ts) of a customer's earliest entry, and the key of the last entry applied
 * that holds personal text (an interaction's subject or outcome, a purchase's description).
 */
export type TimelineSpanDocument = { _id: string; firstMonth: number; lastPersonal?: string };

export const kindOf = (type: string): TimelineKind => KIND[type];

/** The kind of entry of each event type the projection writes an entry for (every handler below but the erasure's). */
const KIND: Record<string, TimelineKind> = {
  CustomerRegistered: 'lifecycle',
  CustomerAcquired: 'lifecycle',
  CustomerChurned: 'lifecycle',
  CustomerReactivated: 'lifecycle',
  CustomerArchived: 'lifecycle',
  CustomerRestored: 'lifecycle',
  CustomerMerged: 'lifecycle',
  CustomerUnmerged: 'lifecycle',
  PurchaseRecorded: 'purchase',
  InteractionLogged: 'interaction',
  DealOpened: 'deal',
  DealStageChanged: 'deal',
  DealWon: 'deal',
  DealLost: 'deal',
  DealReopened: 'deal',
  CustomerOwnerAssigned: 'owner',
  CustomerTagged: 'tag',
  CustomerEnrolled: 'campaign',
  TaskCreated: 'task',
  TaskUpdated: 'task',
  TaskCompleted: 'task',
  TaskCancelled: 'task',
  TaskReassigned: 'task',
};

const holdsPersonal = (details: Record<string, unknown>) => PersonalFields.some((f) => details[f] !== undefined && details[f] !== null);

/**
 * Entries holding personal text are chained per customer, newest applied first (`spans` holds the
 * head): the projection context finds documents by id only, and erasure must find them all.
 */
async function put(ctx: ProjectionContext, event: RecordedEvent, customerId: string, details: Record<string, unknown>): Promise<void> {
  const { key, month } = entryOf(customerId, event.occurredAt, event.globalPosition);
  const span = await ctx.get<TimelineSpanDocument>('spans', customerId);
  const entry: TimelineEntryDocument = {
    _id: key,
    customerId,
    type: event.type,
    occurredAt: event.occurredAt,
    position: event.globalPosition,
    streamId: event.streamId,
    actor: event.actor,
    details: compact(details),
  };
  const personal = holdsPersonal(entry.details);
  if (personal && span?.lastPersonal) entry.previousPersonal = span.lastPersonal;
  if (!span || month < span.firstMonth || personal) {
    const firstMonth = span ? Math.min(span.firstMonth, month) : month;
    ctx.put<TimelineSpanDocument>('spans', compact({ _id: customerId, firstMonth, lastPersonal: personal ? key : span?.lastPersonal }));
  }
  ctx.put<TimelineEntryDocument>('entries', entry);
}

/** Rewrites the customer's entries holding personal text as erased (CustomerPersonalDataErased). */
async function erase(ctx: ProjectionContext, customerId: string): Promise<void> {
  const span = await ctx.get<TimelineSpanDocument>('spans', customerId);
  for (let key = span?.lastPersonal; key !== undefined;) {
    const entry = await ctx.get<TimelineEntryDocument>('entries', key);
    if (!entry) return;
    ctx.put<TimelineEntryDocument>('entries', { ...entry, details: erasedFields(entry.details) });
    key = entry.previousPersonal;
  }
}

/**
 * A merge or an unmerge: each copy is an entry on its own stream's customer's timeline (the survivor's
 * copy is the survivor's entry). The merged customer's copy, the decision, also changes its survivor's
 * list of merged customers.
 */
async function onMerge(
  ctx: ProjectionContext,
  event: RecordedEvent<{ customerId: string; mergedId: string; survivorId: string; reason?: string }>,
  merged: boolean,
): Promise<void> {
  const d = event.data;
  // The survivor's merged customers' entries stay on their own customer (the query reads them from
  // there), so an unmerge only drops a name from MERGES, however long their histories.
  await rememberMerge(ctx, d, merged);
  return put(ctx, event, d.customerId, { mergedId: d.mergedId, survivorId: d.survivorId, reason: d.reason });
}

/** A later event of a customer's task, on that customer's timeline. */
async function onTask(ctx: ProjectionContext, event: RecordedEvent<{ taskId: string }>, details: Record<string, unknown>): Promise<void> {
  const task = await ctx.get<TaskLink>('tasks', event.data.taskId);
  if (task) await put(ctx, event, task.customerId, { taskId: event.data.taskId, ...details });
}

export const customerTimelineProjection = defineProjection({
  name: TIMELINE_PROJECTION,
  // 2: the registration entry no longer carries the name (personal data). 3: entries with personal text are chained for erasure.
  // 4: interactions show their channel (InteractionLogged v2); rebuilt so older entries show it too.
  // 5: owner changes, tags, campaign enrolments and the customer's tasks. 6: archived and restored (issue 16).
  // 7: reopened deals (issue 16). 8: merges: the merge and unmerge entries, and a survivor's merged customers.
  version: 8,
  collections: ['entries', 'spans', 'deals', 'tasks', MERGES],
  scrubAfter: ['CustomerPersonalDataErased'],
  on: {
    CustomerRegistered(event, ctx) {
      const d = event.data;
      // No personal fields in entries (the name is on the customer): erasure never has to find them.
      return put(ctx, event, d.customerId, { source: d.source, leadId: d.leadId });
    },
    CustomerAcquired(event, ctx) {
      const d = event.data;
      return put(ctx, event, d.customerId, { channel: d.channel, trigger: d.trigger });
    },
    CustomerChurned(event, ctx) {
      const d = event.data;
      return put(ctx, event, d.customerId, { reason: d.reason });
    },
    CustomerReactivated(event, ctx) {
      const d = event.data;
      return put(ctx, event, d.customerId, { reason: d.reason });
    },
    CustomerArchived(event, ctx) {
      const d = event.data;
      return put(ctx, event, d.customerId, { reason: d.reason });
    },
    CustomerRestored(event, ctx) {
      const d = event.data;
      return put(ctx, event, d.customerId, { reason: d.reason });
    },
    CustomerMerged: (event, ctx) => onMerge(ctx, event, true),
    CustomerUnmerged: (event, ctx) => onMerge(ctx, event, false),
    PurchaseRecorded(event, ctx) {
      const d = event.data;
      return put(ctx, event, d.customerId, { purchaseId: d.purchaseId, amount: d.amount, description: d.description });
    },
    InteractionLogged(event, ctx) {
      const d = event.data;
      return put(ctx, event, d.customerId, {
        interactionId: d.interactionId,
        interactionType: d.type,
        direction: d.direction,
        subject: d.subject,
        outcome: d.outcome,
        durationMinutes: d.durationMinutes,
        dealId: d.dealId,
        channel: d.channel,
      });
    },
    DealOpened(event, ctx) {
      const d = event.data;
      ctx.put<DealLink>('deals', { _id: d.dealId, customerId: d.customerId, title: d.title });
      return put(ctx, event, d.customerId, { dealId: d.dealId, title: d.title, amount: d.amount, stage: d.stage, ownerId: d.ownerId });
    },
    async DealStageChanged(event, ctx) {
      const d = event.data;
      const deal = await ctx.get<DealLink>('deals', d.dealId);
      if (!deal) return; // a stage change of a deal never opened: no customer to show it on
      return put(ctx, event, deal.customerId, { dealId: d.dealId, title: deal.title, from: d.from, to: d.to });
    },
    async DealWon(event, ctx) {
      const d = event.data;
      const deal = await ctx.get<DealLink>('deals', d.dealId);
      return put(ctx, event, d.customerId, { dealId: d.dealId, title: deal?.title, amount: d.amount, stage: d.stage });
    },
    async DealLost(event, ctx) {
      const d = event.data;
      const deal = await ctx.get<DealLink>('deals', d.dealId);
      return put(ctx, event, d.customerId, { dealId: d.dealId, title: deal?.title, amount: d.amount, stage: d.stage, reason: d.reason });
    },
    // History, not figures: the won or lost entry stays, and this one says which close it undid.
    // `closedAs`, not `outcome`: that name is personal text (an interaction's outcome) to erasure.
    async DealReopened(event, ctx) {
      const d = event.data;
      const deal = await ctx.get<DealLink>('deals', d.dealId);
      return put(ctx, event, d.customerId, {
        dealId: d.dealId,
        title: deal?.title,
        amount: d.amount,
        stage: d.stage,
        closedAs: d.outcome,
        closedAt: d.closedAt,
        closedStage: d.closedStage,
        lostReason: d.lostReason,
        reason: d.reason,
      });
    },
    CustomerOwnerAssigned(event, ctx) {
      const d = event.data;
      return put(ctx, event, d.customerId, {
        ownerId: d.ownerId,
        previousOwnerId: d.previousOwnerId,
        strategy: d.strategy,
        reason: d.reason,
      });
    },
    CustomerTagged: (event, ctx) => put(ctx, event, event.data.customerId, { tag: event.data.tag, reason: event.data.reason }),
    CustomerEnrolled: (event, ctx) => put(ctx, event, event.data.customerId, { campaign: event.data.campaign, reason: event.data.reason }),
    TaskCreated(event, ctx) {
      const d = event.data;
      if (!d.customerId) return; // a lead's or a deal's task: not on a customer's timeline
      ctx.put<TaskLink>('tasks', { _id: d.taskId, customerId: d.customerId });
      return put(ctx, event, d.customerId, { taskId: d.taskId, subject: d.subject, dueAt: d.dueAt, ownerId: d.ownerId, dealId: d.dealId });
    },
    TaskUpdated: (event, ctx) => onTask(ctx, event, { subject: event.data.subject, dueAt: event.data.dueAt }),
    TaskCompleted: (event, ctx) => onTask(ctx, event, { outcome: event.data.outcome }),
    TaskCancelled: (event, ctx) => onTask(ctx, event, { reason: event.data.reason }),
    TaskReassigned: (event, ctx) => onTask(ctx, event, { ownerId: event.data.ownerId, previousOwnerId: event.data.previousOwnerId }),
    CustomerPersonalDataErased: (event, ctx) => erase(ctx, event.data.customerId),
  },
});
