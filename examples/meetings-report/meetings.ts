// The README's worked example of adding a report: meetings held per period, and their average
// length. Copy this folder to projections/meetings/ and register both exports in
// projections/index.ts; on the next start the projection is built from the whole history.
import { dayOf, defineProjection, money, periodIndex, periods, ratio, ReportDefinition, tableRow } from '@chronicle/projections';

export const MEETINGS_PROJECTION = 'meetings';

/** One document per UTC day: a period's figures are the sums of its days. */
interface MeetingDay {
  _id: string; // YYYY-MM-DD
  meetings: number;
  minutes: number;
  [key: string]: unknown;
}

export const meetingsProjection = defineProjection({
  name: MEETINGS_PROJECTION,
  version: 1,
  collections: ['days'],
  on: {
    // The key is the event type the projection reads; `data` is typed by it (libs/domain).
    async InteractionLogged({ data, occurredAt }, ctx) {
      if (data.type !== 'meeting') return;
      const id = dayOf(occurredAt); // reports use business time
      const day = (await ctx.get<MeetingDay>('days', id)) ?? { _id: id, meetings: 0, minutes: 0 };
      day.meetings += 1;
      day.minutes += data.durationMinutes ?? 0;
      ctx.put('days', day); // committed with the checkpoint: exactly once
    },
  },
});

interface MeetingsReport {
  interval: string;
  periods: { start: string; end: string; meetings: number; averageMinutes: number | null }[];
}

export const meetingsReport = {
  name: 'meetings',
  description: 'Meetings held per period and their average length in minutes',
  projections: [MEETINGS_PROJECTION],
  // Its figures as a table: what `?format=csv` and the dashboard show.
  tables: { periods: (r: MeetingsReport) => r.periods.map((p) => tableRow(p)) },
  async run(params, { readModels }): Promise<MeetingsReport> {
    const list = periods(params.from, params.to, params.interval);
    const sums = list.map(() => ({ meetings: 0, minutes: 0 }));
    if (list.length > 0) {
      const days = await readModels.collection<MeetingDay>(MEETINGS_PROJECTION, 'days');
      for (const day of await days.find({ _id: { $gte: dayOf(list[0].startMs), $lt: dayOf(list[list.length - 1].endMs) } })) {
        const i = periodIndex(list, Date.parse(`${day._id}T00:00:00.000Z`));
        if (i >= 0) {
          sums[i].meetings += day.meetings;
          sums[i].minutes += day.minutes;
        }
      }
    }
    return {
      interval: params.interval,
      periods: list.map((p, i) => {
        const average = ratio(sums[i].minutes, sums[i].meetings); // null for a period without meetings
        return { start: p.start, end: p.end, meetings: sums[i].meetings, averageMinutes: average === null ? null : money(average) };
      }),
    };
  },
} satisfies ReportDefinition;
