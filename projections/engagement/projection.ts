import type { ProjectionContext } from '@chronicle/projector';
import { countDay, MonthDocument, readMonths } from '../common/buckets';
import { defineProjection, ProjectedEvent } from '../common/define-projection';
import type { ReadModelAccess } from '../common/report';

/**
 * Interactions it took to close deals and leads (docs/reports.md, engagement). Counted at the
 * close, by the day of the close and the record's owner at that moment: one document per UTC month
 * and owner in `owners` (owner-activity's layout, counters per day), so a query reads only the
 * months overlapping its range.
 *
 * Each deal and lead named by an event has a document in `deals` / `leads`, kept for good:
 *
 * - While open: its owner, and its interactions not yet counted. An interaction counts when its
 *   `occurredAt` is at or before the close's, whenever it is recorded, so one dated later than
 *   anything known so far waits in `p` ([at, type]) until the close decides. A deal's own events
 *   are in business-time order (the deal decider refuses an earlier one), so its close cannot be
 *   earlier than its latest event: interactions up to that time (`cut`) are summed in `n` at once.
 *   A lead's events carry no such guarantee: its interactions wait in `p` until it closes.
 * - Once closed: when, how and for whom (`closed`); an interaction recorded later but dated at or
 *   before the close (a back-dated entry) is added to the close day's counters then.
 *
 * A deal counts by its last close: a closed deal keeps what its close counted (`n`), the interactions
 * dated after it (`p`) and its current owner, so that DealReopened withdraws exactly that close and
 * the deal, open again, counts all its interactions up to its next close.
 */
export const ENGAGEMENT_PROJECTION = 'engagement';
export const NO_OWNER = 'unassigned';

/** A day's counters for an owner; zeros are left out. Interactions by type name. */
export interface EngagementCounters {
  /** Deals closed (won or lost) and, of them, won. */
  deals?: number;
  won?: number;
  /** Interactions on the deals closed / on those won, up to their close. */
  dealTouches?: Record<string, number>;
  wonTouches?: Record<string, number>;
  /** Leads closed (converted or disqualified) and, of them, converted. */
  leads?: number;
  converted?: number;
  /** Interactions on the leads closed / on those converted, up to their close. */
  leadTouches?: Record<string, number>;
  convertedTouches?: Record<string, number>;
}
export type EngagementMonth = MonthDocument<EngagementCounters> & { ownerId: string };

/** A deal or a lead, as far as this report needs it. */
export interface EngagementRecord {
  _id: string;
  /** Current owner (null: none yet); a deal's is followed also while closed, for a reopen. */
  owner: string | null;
  /** Deals: business time (ms) of the deal's latest event so far, a lower bound of its close; null for leads. */
  cut: number | null;
  /** Interactions dated at or before `cut`, by type; a closed deal's: those its close counted. */
  n: Record<string, number>;
  /** The other interactions so far, [at (ms), type], until the close; a closed deal's: those dated after it. */
  p: [number, string][];
  /** Once closed: the close's `occurredAt`, won / converted, and the owner at the close. */
  closed: { at: string; ok: boolean; owner: string } | null;
  [key: string]: unknown;
}

type Kind = 'deals' | 'leads';

const fresh = (_id: string): EngagementRecord => ({ _id, owner: null, cut: null, n: {}, p: [], closed: null });

async function recordOf(ctx: ProjectionContext, kind: Kind, id: string): Promise<EngagementRecord> {
  return (await ctx.get<EngagementRecord>(kind, id)) ?? fresh(id);
}

const add = (into: Record<string, number>, type: string, by = 1): void => void (into[type] = (into[type] ?? 0) + by);

/** Deal events only: the deal's close is not earlier than `at`, so every interaction up to it counts. */
function advance(record: EngagementRecord, at: number): void {
  if (record.cut !== null && at <= record.cut) return;
  record.cut = at;
  const later: [number, string][] = [];
  for (const entry of record.p) {
    if (entry[0] <= at) add(record.n, entry[1]);
    else later.push(entry);
  }
  record.p = later;
}

function count(ctx: ProjectionContext, occurredAt: string, ownerId: string, change: (c: EngagementCounters) => void): Promise<void> {
  return countDay<EngagementCounters>(
    ctx,
    'owners',
    occurredAt,
    ownerId,
    (month, _id) => ({ _id, month, ownerId, days: {} }),
    () => ({}),
    change,
  );
}

/**
 * An owner change: the owner at the close is the one that counts, so a change after it moves no
 * close; a closed deal still follows it, as the owner it has if reopened.
 */
async function assigned(ctx: ProjectionContext, kind: Kind, id: string, ownerId: string, occurredAt: string): Promise<void> {
  const record = await recordOf(ctx, kind, id);
  if (record.closed && kind === 'leads') return;
  record.owner = ownerId || null;
  if (record.closed) return ctx.put(kind, record);
  if (kind === 'deals') advance(record, Date.parse(occurredAt));
  ctx.put(kind, record);
}

async function touched(ctx: ProjectionContext, kind: Kind, id: string, type: string, occurredAt: string): Promise<void> {
  const record = await recordOf(ctx, kind, id);
  const at = Date.parse(occurredAt);
  const closed = record.closed;
  if (closed) {
    // Recorded after the close: counts only when dated at or before it. A deal keeps it either way
    // (with what the close counted, or for a next close should the deal be reopened).
    const counts = at <= Date.parse(closed.at);
    if (kind === 'deals') {
      if (counts) add(record.n, type);
      else record.p.push([at, type]);
      ctx.put(kind, record);
    }
    if (!counts) return;
    return count(ctx, closed.at, closed.owner, (c) => {
      if (kind === 'deals') {
        add((c.dealTouches ??= {}), type);
        if (closed.ok) add((c.wonTouches ??= {}), type);
      } else {
        add((c.leadTouches ??= {}), type);
        if (closed.ok) add((c.convertedTouches ??= {}), type);
      }
    });
  }
  if (record.cut !== null && at <= record.cut) add(record.n, type);
  else record.p.push([at, type]);
  ctx.put(kind, record);
}

/** The close: the interactions dated up to it are counted for the owner it had; a second close (refused by the deciders) is ignored. */
async function closed(ctx: ProjectionContext, kind: Kind, id: string, ok: boolean, occurredAt: string): Promise<void> {
  const record = await recordOf(ctx, kind, id);
  if (record.closed) return;
  const at = Date.parse(occurredAt);
  const touches = record.n;
  const later: [number, string][] = [];
  for (const entry of record.p) {
    if (entry[0] <= at) add(touches, entry[1]);
    else later.push(entry);
  }
  const owner = record.owner ?? NO_OWNER;
  // A deal keeps what it counted and what came after, for a reopen; a lead is never reopened.
  const [n, p] = kind === 'deals' ? [{ ...touches }, later] : [{}, []];
  ctx.put<EngagementRecord>(kind, { _id: id, owner: record.owner, cut: record.cut, n, p, closed: { at: occurredAt, ok, owner } });
  await count(ctx, occurredAt, owner, (c) => {
    const merge = (field: 'dealTouches' | 'wonTouches' | 'leadTouches' | 'convertedTouches') => {
      for (const type in touches) add((c[field] ??= {}), type, touches[type]);
    };
    if (kind === 'deals') {
      c.deals = (c.deals ?? 0) + 1;
      merge('dealTouches');
      if (ok) {
        c.won = (c.won ?? 0) + 1;
        merge('wonTouches');
      }
    } else {
      c.leads = (c.leads ?? 0) + 1;
      merge('leadTouches');
      if (ok) {
        c.converted = (c.converted ?? 0) + 1;
        merge('convertedTouches');
      }
    }
  });
}

/** Subtracts, leaving zeros out (as counting does). */
function subtract(
  c: EngagementCounters,
  field: 'deals' | 'won',
  touchField: 'dealTouches' | 'wonTouches',
  touches: Record<string, number>,
) {
  if (!(c[field] = (c[field] ?? 0) - 1)) delete c[field];
  const into = c[touchField];
  if (!into) return;
  for (const type in touches) if (!(into[type] = (into[type] ?? 0) - touches[type])) delete into[type];
  if (Object.keys(into).length === 0) delete c[touchField];
}

/**
 * A deal counts by its last close: the reopen withdraws the close from the day and owner it was
 * counted under, with the interactions it counted; the deal is open again, for its current owner,
 * and its interactions (those counted included) wait for its next close.
 */
async function dealReopened(event: ProjectedEvent<'DealReopened'>, ctx: ProjectionContext): Promise<void> {
  const record = await ctx.get<EngagementRecord>('deals', event.data.dealId);
  if (!record?.closed) return; // open already, or never closed
  const { at, ok, owner } = record.closed;
  const touches = record.n;
  await count(ctx, at, owner, (c) => {
    subtract(c, 'deals', 'dealTouches', touches);
    if (ok) subtract(c, 'won', 'wonTouches', touches);
  });
  // Every interaction in `n` is dated at or before the close: the close's time is a valid cut.
  const open: EngagementRecord = {
    _id: record._id,
    owner: record.owner,
    cut: Date.parse(at),
    n: { ...touches },
    p: record.p,
    closed: null,
  };
  advance(open, Date.parse(event.occurredAt));
  ctx.put('deals', open);
}

const dealClosed = (event: ProjectedEvent<'DealWon' | 'DealLost'>, ctx: ProjectionContext) =>
  closed(ctx, 'deals', event.data.dealId, event.type === 'DealWon', event.occurredAt);
const leadClosed = (event: ProjectedEvent<'LeadConverted' | 'LeadDisqualified'>, ctx: ProjectionContext) =>
  closed(ctx, 'leads', event.data.leadId, event.type === 'LeadConverted', event.occurredAt);

export const engagementProjection = defineProjection({
  name: ENGAGEMENT_PROJECTION,
  // 2: a closed deal keeps its counted and later interactions; DealReopened withdraws its close.
  version: 2,
  collections: ['deals', 'leads', 'owners'],
  indexes: { owners: ['month'] },
  on: {
    DealOpened: (event, ctx) => assigned(ctx, 'deals', event.data.dealId, event.data.ownerId, event.occurredAt),
    DealOwnerAssigned: (event, ctx) => assigned(ctx, 'deals', event.data.dealId, event.data.ownerId, event.occurredAt),
    DealWon: dealClosed,
    DealLost: dealClosed,
    DealReopened: dealReopened,
    InteractionLogged(event, ctx) {
      // Most interactions name no deal: nothing to read.
      const dealId = event.data.dealId;
      if (dealId) return touched(ctx, 'deals', dealId, event.data.type, event.occurredAt);
    },
    LeadAssigned: (event, ctx) => assigned(ctx, 'leads', event.data.leadId, event.data.ownerId, event.occurredAt),
    LeadInteractionLogged: (event, ctx) => touched(ctx, 'leads', event.data.leadId, event.data.type, event.occurredAt),
    LeadConverted: leadClosed,
    LeadDisqualified: leadClosed,
  },
});

/** The owner month documents overlapping [startMs, endMs). */
export async function readEngagement(access: ReadModelAccess, startMs: number, endMs: number): Promise<EngagementMonth[]> {
  return readMonths(await access.collection<EngagementMonth>(ENGAGEMENT_PROJECTION, 'owners'), startMs, endMs);
}
