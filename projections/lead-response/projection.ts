import type { ProjectionContext } from '@chronicle/projector';
import { defineProjection } from '../common/define-projection';
import { dayOf } from '../common/periods';
import type { ReadModelAccess } from '../common/report';

/**
 * How fast leads are answered (docs/reports.md, lead-response): one document per lead (its state),
 * and one per capture day holding a row per lead captured that day, which the report reads (it
 * needs each lead's time, source and owner: medians and percentiles need every value, not sums).
 * Tasks about a lead are kept until completed or cancelled, for their owner (TaskCompleted does not
 * carry it; TaskReassigned changes it).
 */
export const LEAD_RESPONSE_PROJECTION = 'lead-response';

/**
 * The lead interaction types that are a contact by the seller. The others are the lead's own
 * behaviour (web visits, form submissions, opened emails, downloads, purchases) or no contact at
 * all (a note, a support ticket): they answer nothing.
 */
export const RESPONSE_INTERACTION_TYPES: ReadonlySet<string> = new Set(['call', 'email', 'meeting', 'sms', 'social']);

export interface LeadResponseDocument {
  _id: string;
  /** Capture day (YYYY-MM-DD, UTC): the cohort a report reads. */
  day: string;
  /** Captured at (epoch ms). */
  t: number;
  source: string;
  /** Current owner (null until assigned). */
  owner: string | null;
  /** First response (epoch ms, never before `t`); null until there is one. */
  r: number | null;
  /** The owner when the response that set `r` was recorded: who the lead counts for once answered. */
  by: string | null;
  [key: string]: unknown;
}

/** A task about a lead, until it is completed. */
interface LeadTaskDocument {
  _id: string;
  leadId: string;
  ownerId: string;
  [key: string]: unknown;
}

/** A lead as its capture day's document holds it: [t, r, owner, by, source]. */
type LeadRow = [number, number | null, string | null, string | null, string];

/**
 * The leads captured on one UTC day, by lead id: what the report reads. A year's report reads 365
 * of these instead of every lead's own document (tens of thousands).
 */
interface LeadResponseDay {
  _id: string;
  leads: Record<string, LeadRow>;
  [key: string]: unknown;
}

/** Writes the lead's document and its row in its capture day's document. */
async function save(ctx: ProjectionContext, lead: LeadResponseDocument): Promise<void> {
  ctx.put<LeadResponseDocument>('leads', lead);
  const day = (await ctx.get<LeadResponseDay>('days', lead.day)) ?? { _id: lead.day, leads: {} };
  ctx.put<LeadResponseDay>('days', { ...day, leads: { ...day.leads, [lead._id]: [lead.t, lead.r, lead.owner, lead.by, lead.source] } });
}

/** A response at `occurredAt`: the earliest one counts; one dated before the capture (back-dated entry) counts as at the capture. */
async function respond(ctx: ProjectionContext, leadId: string, occurredAt: string): Promise<void> {
  const lead = await ctx.get<LeadResponseDocument>('leads', leadId);
  if (!lead) return;
  const at = Math.max(Date.parse(occurredAt), lead.t);
  if (lead.r !== null && lead.r <= at) return;
  await save(ctx, { ...lead, r: at, by: lead.owner });
}

export const leadResponseProjection = defineProjection({
  name: LEAD_RESPONSE_PROJECTION,
  // 3: a reassigned task is its new owner's; a cancelled one answers nothing.
  version: 3,
  collections: ['leads', 'days', 'tasks'],
  on: {
    LeadCaptured(event, ctx) {
      const at = Date.parse(event.occurredAt);
      return save(ctx, {
        _id: event.data.leadId,
        day: dayOf(at),
        t: at,
        source: event.data.source || 'unknown',
        owner: null,
        r: null,
        by: null,
      });
    },
    async LeadAssigned(event, ctx) {
      const lead = await ctx.get<LeadResponseDocument>('leads', event.data.leadId);
      if (lead) await save(ctx, { ...lead, owner: event.data.ownerId });
    },
    LeadInteractionLogged(event, ctx) {
      if (RESPONSE_INTERACTION_TYPES.has(event.data.type)) return respond(ctx, event.data.leadId, event.occurredAt);
    },
    TaskCreated(event, ctx) {
      const { taskId, leadId, ownerId } = event.data;
      if (leadId) ctx.put<LeadTaskDocument>('tasks', { _id: taskId, leadId, ownerId });
    },
    async TaskReassigned(event, ctx) {
      const task = await ctx.get<LeadTaskDocument>('tasks', event.data.taskId);
      if (task) ctx.put<LeadTaskDocument>('tasks', { ...task, ownerId: event.data.ownerId });
    },
    TaskCancelled(event, ctx) {
      ctx.delete('tasks', event.data.taskId); // closed without being done: no response
    },
    async TaskCompleted(event, ctx) {
      const task = await ctx.get<LeadTaskDocument>('tasks', event.data.taskId);
      if (!task) return;
      ctx.delete('tasks', task._id);
      // An owner task: the task is the lead's owner's at the time it is completed.
      const lead = await ctx.get<LeadResponseDocument>('leads', task.leadId);
      if (lead && lead.owner === task.ownerId) await respond(ctx, task.leadId, event.occurredAt);
    },
  },
});

/** The leads captured on the UTC days of [startMs, endMs) (both day boundaries): a range of day documents. */
export async function readLeadResponses(access: ReadModelAccess, startMs: number, endMs: number): Promise<LeadResponseDocument[]> {
  if (endMs <= startMs) return [];
  const days = await access.collection<LeadResponseDay>(LEAD_RESPONSE_PROJECTION, 'days');
  const leads: LeadResponseDocument[] = [];
  for (const day of await days.find({ _id: { $gte: dayOf(startMs), $lt: dayOf(endMs) } }))
    for (const id in day.leads) {
      const [t, r, owner, by, source] = day.leads[id];
      leads.push({ _id: id, day: day._id, t, r, owner, by, source });
    }
  return leads;
}
