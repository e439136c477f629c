import type { RecordedEvent } from '@chronicle/event-store';
import { dayWindow } from '../common/buckets';
import { DAY_MS, days, mean, median, nearestRank, rate, ratio } from '../common/numbers';
import type { ReportParams } from '../common/report';
import type { LeadResponseReport } from './query';

const CONTACTS = ['call', 'email', 'meeting', 'sms', 'social'];

interface Lead {
  captured: number;
  source: string;
  owner?: string;
  /** Every answer in feed order: when (one dated before the capture counts as at it), and the lead's owner as it was recorded. */
  answers: { at: number; owner?: string }[];
}

/** The lead-response report folded straight from the raw events, by the definition in docs/reports.md (test oracle). */
export function leadResponseReference(events: RecordedEvent[], params: Pick<ReportParams, 'from' | 'to' | 'groupBy'>): LeadResponseReport {
  const { startMs, endMs, from, to } = dayWindow(params);
  const leads = new Map<string, Lead>();
  const tasks = new Map<string, { leadId: string; ownerId: string }>();
  for (const e of events) {
    const at = Date.parse(e.occurredAt);
    const d = e.data as { leadId?: string; taskId: string; source: string; ownerId: string; type: string };
    const lead = d.leadId === undefined ? undefined : leads.get(d.leadId);
    if (e.type === 'LeadCaptured') leads.set(d.leadId!, { captured: at, source: d.source || 'unknown', answers: [] });
    else if (e.type === 'LeadAssigned' && lead) lead.owner = d.ownerId;
    else if (e.type === 'LeadInteractionLogged' && lead && CONTACTS.includes(d.type))
      lead.answers.push({ at: Math.max(at, lead.captured), owner: lead.owner });
    else if (e.type === 'TaskCreated' && d.leadId) tasks.set(d.taskId, { leadId: d.leadId, ownerId: d.ownerId });
    else if (e.type === 'TaskReassigned' && tasks.has(d.taskId)) tasks.get(d.taskId)!.ownerId = d.ownerId;
    else if (e.type === 'TaskCancelled') tasks.delete(d.taskId);
    else if (e.type === 'TaskCompleted') {
      const task = tasks.get(d.taskId);
      const about = task && leads.get(task.leadId);
      if (about && about.owner === task.ownerId) about.answers.push({ at: Math.max(at, about.captured), owner: about.owner });
    }
  }
  const cohort = [...leads.values()]
    .filter((l) => l.captured >= startMs && l.captured < endMs)
    .map((l) => {
      // The earliest answer; the first recorded among equal times.
      const first = l.answers.reduce<Lead['answers'][number] | undefined>(
        (best, a) => (best === undefined || a.at < best.at ? a : best),
        undefined,
      );
      return {
        source: l.source,
        owner: (first ? first.owner : l.owner) ?? 'unassigned',
        ms: first === undefined ? undefined : first.at - l.captured,
      };
    });
  const stats = (key: string, list: typeof cohort) => {
    const ms = list.flatMap((l) => (l.ms === undefined ? [] : [l.ms]));
    const avg = mean(ms);
    return {
      key,
      leads: list.length,
      responded: ms.length,
      responseRate: rate(ratio(ms.length, list.length)),
      medianDays: days(median(ms.map((x) => x / DAY_MS))),
      p90Days: days(
        nearestRank(
          ms.map((x) => x / DAY_MS),
          0.9,
        ),
      ),
      avgDays: avg === null ? null : days(avg / DAY_MS),
    };
  };
  const groupBy = params.groupBy as 'owner' | 'source' | undefined;
  const keys = groupBy ? [...new Set(cohort.map((l) => l[groupBy]))].sort() : [];
  return {
    from,
    to,
    overall: stats('all', cohort),
    groups: keys.map((key) =>
      stats(
        key,
        cohort.filter((l) => l[groupBy!] === key),
      ),
    ),
  };
}
