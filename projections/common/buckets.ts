import { InvalidInput } from '@chronicle/domain';
import type { ProjectionContext } from '@chronicle/projector';
import type { Document, ReadCollection } from '@chronicle/read-store';
import { DAY_MS } from './numbers';
import { truncate } from './periods';
import type { ReportParams } from './report';

/**
 * Calendar buckets for report projections: one document per UTC month and key (a source, an
 * owner…) holding a counter object per day of that month (`days['05']`). An event updates one
 * cached document (a single read-modify-write, whatever the report's interval), a page commits a
 * handful of small documents, and any day-aligned range or period list is answered from the few
 * month documents overlapping it: a year by source or owner is a few hundred kilobytes of JSON.
 */
export type MonthDocument<C> = Document & { month: string; days: Record<string, C> };

/** The UTC month (`YYYY-MM`) and day of month (`DD`) of an ISO instant. */
export function monthDay(occurredAt: string): { month: string; day: string } {
  // Stored business times are normalised (`toISOString`): slicing is enough, and cheap.
  const iso =
    occurredAt.length === 24 && occurredAt[10] === 'T' && occurredAt[23] === 'Z'
      ? occurredAt
      : new Date(Date.parse(occurredAt)).toISOString();
  return { month: iso.slice(0, 7), day: iso.slice(8, 10) };
}

export const monthKey = (ms: number): string => new Date(ms).toISOString().slice(0, 7);

/** Start (epoch ms) of a day of a month document. */
export const dayStart = (month: string, day: string): number => Date.parse(`${month}-${day}T00:00:00.000Z`);

/**
 * Adds to the day's counters of the (month, key) document: read (cached by the unit of work),
 * create when absent, change in place, put back.
 */
export async function countDay<C>(
  ctx: ProjectionContext,
  collection: string,
  occurredAt: string,
  key: string,
  init: (month: string, id: string) => MonthDocument<C>,
  emptyDay: () => C,
  change: (counters: C) => void,
): Promise<void> {
  const { month, day } = monthDay(occurredAt);
  const id = `${month}|${key}`;
  const doc = (await ctx.get<MonthDocument<C>>(collection, id)) ?? init(month, id);
  change((doc.days[day] ??= emptyDay()));
  ctx.put(collection, doc);
}

/** The month documents overlapping [startMs, endMs) (an index range on `month`). */
export async function readMonths<D extends MonthDocument<unknown>>(
  collection: ReadCollection<D>,
  startMs: number,
  endMs: number,
): Promise<D[]> {
  if (endMs <= startMs) return [];
  return collection.find({ month: { $gte: monthKey(startMs), $lte: monthKey(endMs - 1) } });
}

/** The days of a month document that lie in [startMs, endMs), with their start. */
export function* daysWithin<C>(doc: MonthDocument<C>, startMs: number, endMs: number): Generator<[number, C]> {
  const monthStart = dayStart(doc.month, '01');
  for (const day in doc.days) {
    const start = monthStart + (Number(day) - 1) * DAY_MS;
    if (start >= startMs && start < endMs) yield [start, doc.days[day]];
  }
}

/**
 * Reports without periods count whole UTC days: [from, to) is widened to the days it touches,
 * which is the period rule of docs/reports.md with interval = day (exact whenever from and to are midnights).
 */
export function dayWindow(params: Pick<ReportParams, 'from' | 'to'>): { startMs: number; endMs: number; from: string; to: string } {
  const startMs = truncate(Date.parse(params.from), 'day');
  const toMs = Date.parse(params.to);
  const endMs = Math.max(startMs, truncate(toMs, 'day') === toMs ? toMs : truncate(toMs, 'day') + DAY_MS);
  return { startMs, endMs, from: new Date(startMs).toISOString(), to: new Date(endMs).toISOString() };
}

/** How far `asOf` may lie from now for a report that only knows the current state (the API fills in now). */
export const CURRENT_TOLERANCE_MS = 60_000;

/** Reports of the current state (forecast, customer value) refuse a past or future `asOf` rather than ignore it. */
export function assertCurrent(report: string, params: Pick<ReportParams, 'asOf'>, now = Date.now()): string {
  const asOf = Date.parse(params.asOf);
  if (!Number.isFinite(asOf) || Math.abs(asOf - now) > CURRENT_TOLERANCE_MS) {
    throw new InvalidInput('asOf', `the ${report} report shows the current state only; leave asOf out`);
  }
  return new Date(now).toISOString();
}
