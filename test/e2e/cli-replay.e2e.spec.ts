import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RecordedEvent } from '@chronicle/event-store';
import { READ_STORE } from '@chronicle/infrastructure';
import type { ReadStore } from '@chronicle/read-store';
import { dayOf, Interval, periodIndex, periods } from '@chronicle/projections';
import { generateHistory } from '../../apps/cli/src/seed/generator';
import { appendHistory } from '../../apps/cli/src/seed/seed';
import { repositoryRoot as root } from '../support/api-process';
import { runChronicle } from '../support/cli';
import { client } from '../support/http';
import { startTestApp, TestApp } from '../support/test-app';

/**
 * `chronicle replay <file>`: a report of one's own, in one file anywhere on disk, run over the
 * whole history without a deploy; the live read store untouched; `--known-at` gives the same
 * figures after backdated events arrive; a file that fails says where.
 */

jest.setTimeout(120_000);

let t: TestApp;
let dir: string;

const chronicle = (...args: string[]) => runChronicle(args, { DATA_DIR: t.dataDir, LOG_LEVEL: 'silent' });

async function allEvents(): Promise<RecordedEvent[]> {
  const events: RecordedEvent[] = [];
  for (let from = 0; ;) {
    const page = await t.store.readAll({ fromPosition: from, maxCount: 5000 });
    events.push(...page.events);
    from = page.checkpoint;
    if (page.isEnd) return events;
  }
}

const FROM = '2026-01-01T00:00:00.000Z';
const TO = '2026-12-01T00:00:00.000Z';

/** The meetings report by a plain fold of the raw events recorded up to `knownAt`. */
function meetingsByFold(events: RecordedEvent[], knownAt = '9999', from = FROM, to = TO, interval: Interval = 'month') {
  const list = periods(from, to, interval);
  const sums = list.map(() => ({ meetings: 0, minutes: 0 }));
  for (const e of events) {
    const data = e.data as { type?: string; durationMinutes?: number };
    if (e.recordedAt > knownAt || e.type !== 'InteractionLogged' || data.type !== 'meeting') continue;
    const i = periodIndex(list, Date.parse(`${dayOf(e.occurredAt)}T00:00:00.000Z`));
    if (i < 0) continue;
    sums[i].meetings += 1;
    sums[i].minutes += data.durationMinutes ?? 0;
  }
  return list.map((p, i) => ({
    start: p.start,
    meetings: sums[i].meetings,
    averageMinutes: sums[i].meetings ? Math.round((sums[i].minutes / sums[i].meetings) * 100) / 100 : null,
  }));
}

beforeAll(async () => {
  t = await startTestApp();
  dir = mkdtempSync(join(tmpdir(), 'report-files-'));
  await appendHistory(t.store, generateHistory({ events: 3_000, seed: 5, years: 1, end: new Date('2026-12-01T00:00:00Z') }));
  // The live read models are built (no collection comes and goes meanwhile) before they are compared.
  for (;;) {
    const { projections } = (await client(t).get('/projections')).body as { projections: Array<{ lag: number; status: string }> };
    if (projections.every((p) => p.lag === 0 && p.status === 'live')) break;
    await new Promise((r) => setTimeout(r, 100));
  }
}, 60_000);
afterAll(() => t?.close());

const replayMeetings = (...extra: string[]) =>
  chronicle('replay', 'examples/meetings-report/meetings.ts', '--from', FROM, '--to', TO, '--interval', 'month', ...extra);

it("runs the README's example file over the whole history: the figures of a plain fold, the live read store untouched", async () => {
  const readStore = t.app.get<ReadStore>(READ_STORE);
  const collections = await readStore.listCollections();
  const run = await replayMeetings();
  expect(run.code).toBe(0);
  expect(run.stderr).toMatch(/meetings: replayed to position \d+ \(known at .*\) in [\d.]+ s/);
  const report = JSON.parse(run.stdout) as { periods: Array<{ start: string; meetings: number; averageMinutes: number | null }> };
  const expected = meetingsByFold(await allEvents());
  expect(report.periods.map(({ start, meetings, averageMinutes }) => ({ start, meetings, averageMinutes }))).toEqual(expected);
  expect(expected.reduce((n, p) => n + p.meetings, 0)).toBeGreaterThan(10);
  expect(await readStore.listCollections()).toEqual(collections);
  expect(collections.some((c) => c.startsWith('meetings.'))).toBe(false);
});

it("runs the README's `replay` line as written", async () => {
  const readme = readFileSync(join(root, 'README.md'), 'utf8');
  const line = readme.split('\n').find((l) => l.startsWith('npm run chronicle -- replay'))!;
  const args = line.replace(/#.*$/, '').trim().split(/\s+/).slice(4); // after `npm run chronicle --`
  const option = (name: string) => args[args.indexOf(name) + 1];
  const run = await chronicle(...args);
  expect(run.code).toBe(0);
  const rows = run.stdout.trim().split('\r\n');
  expect(rows[0]).toBe('start,end,meetings,averageMinutes');
  const expected = meetingsByFold(await allEvents(), '9999', option('--from'), option('--to'), option('--interval') as Interval);
  expect(rows.slice(1).map((row) => Number(row.split(',')[2]))).toEqual(expected.map((p) => p.meetings));
  expect(expected.length).toBe(2);
});

it('--known-at gives the same figures after backdated events arrive; without it, they count', async () => {
  const knownAt = (await allEvents()).at(-1)!.recordedAt;
  const before = await replayMeetings('--known-at', knownAt, '--format', 'csv');
  expect(before.code).toBe(0);
  // A backdated meeting in March, recorded now.
  const manager = client(t, 'manager');
  const customer = (await manager.post('/customers', { name: 'Late Entry', source: 'web' })).body.id as string;
  const logged = await manager.post(`/customers/${customer}/interactions`, {
    type: 'meeting',
    direction: 'outbound',
    subject: 'Quarterly review',
    durationMinutes: 45,
    occurredAt: '2026-03-10T10:00:00Z',
  });
  expect(logged.status).toBe(201);
  const again = await replayMeetings('--known-at', knownAt, '--format', 'csv');
  expect([again.code, again.stdout]).toEqual([0, before.stdout]);
  expect(before.stdout.split('\r\n')[0]).toBe('start,end,meetings,averageMinutes');
  const now = await replayMeetings('--format', 'csv');
  const march = (csv: string) =>
    csv
      .split('\r\n')
      .find((row) => row.startsWith('2026-03-01'))!
      .split(',')[2];
  expect(Number(march(now.stdout))).toBe(Number(march(before.stdout)) + 1);
});

it('loads a JavaScript file from anywhere on disk, and answers CSV', async () => {
  const file = join(dir, 'won-by-month.js');
  writeFileSync(
    file,
    `const { defineProjection, dayOf, periods, periodIndex, tableRow } = require('@chronicle/projections');
exports.wonProjection = defineProjection({
  name: 'won-by-day',
  version: 1,
  collections: ['days'],
  on: {
    async DealWon({ data, occurredAt }, ctx) {
      const id = dayOf(occurredAt);
      const day = (await ctx.get('days', id)) ?? { _id: id, won: 0, amount: 0 };
      day.won += 1;
      day.amount += data.amount;
      ctx.put('days', day);
    },
  },
});
exports.wonReport = {
  name: 'won-by-month',
  description: 'Deals won and their amount per period',
  projections: ['won-by-day'],
  tables: { periods: (r) => r.periods.map((p) => tableRow(p)) },
  async run(params, { readModels }) {
    const list = periods(params.from, params.to, params.interval);
    const out = list.map((p) => ({ start: p.start, won: 0, amount: 0 }));
    const days = await readModels.collection('won-by-day', 'days');
    for (const day of await days.find({})) {
      const i = periodIndex(list, Date.parse(day._id + 'T00:00:00.000Z'));
      if (i >= 0) { out[i].won += day.won; out[i].amount += day.amount; }
    }
    return { periods: out };
  },
};
`,
  );
  const run = await chronicle('replay', file, '--from', FROM, '--to', TO, '--interval', 'quarter', '--format', 'csv');
  expect([run.code, run.stdout.split('\r\n')[0]]).toEqual([0, 'start,won,amount']);
  const list = periods(FROM, TO, 'quarter');
  const won = list.map(() => 0);
  for (const e of await allEvents()) {
    const i = e.type === 'DealWon' ? periodIndex(list, Date.parse(`${dayOf(e.occurredAt)}T00:00:00.000Z`)) : -1;
    if (i >= 0) won[i] += 1;
  }
  expect(
    run.stdout
      .trim()
      .split('\r\n')
      .slice(1)
      .map((row) => Number(row.split(',')[1])),
  ).toEqual(won);
  expect(won.reduce((a, b) => a + b, 0)).toBeGreaterThan(5);
});

it('runs a declarative report (JSON) as it runs a file of code: meetings per rep, as a plain fold counts them', async () => {
  const run = await chronicle(
    'replay',
    'examples/declarative-reports/meetings-per-rep.json',
    '--from',
    FROM,
    '--to',
    TO,
    '--interval',
    'quarter',
    '--table',
    'totals',
    '--format',
    'csv',
  );
  expect(run.code).toBe(0);
  expect(run.stderr).toMatch(/meetings-per-rep: replayed to position \d+/);
  const [header, ...rows] = run.stdout.trim().split('\r\n');
  expect(header).toBe('rep,meetings,customers,averageMinutes,medianMinutes');
  const list = periods(FROM, TO, 'quarter');
  const byRep = new Map<string, number>();
  for (const e of await allEvents()) {
    const inWindow = periodIndex(list, Date.parse(`${dayOf(e.occurredAt)}T00:00:00.000Z`)) >= 0;
    if (e.type === 'InteractionLogged' && (e.data as { type: string }).type === 'meeting' && inWindow)
      byRep.set(e.actor, (byRep.get(e.actor) ?? 0) + 1);
  }
  expect(rows.map((row) => row.split(',').slice(0, 2))).toEqual(
    [...byRep.entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([rep, n]) => [rep, String(n)]),
  );
  expect(byRep.size).toBeGreaterThan(1);
  // A definition error names its place in the JSON, and nothing runs.
  const wrong = join(dir, 'wrong.json');
  writeFileSync(
    wrong,
    JSON.stringify({ name: 'wrong', events: ['DealWon'], groupBy: ['data.email'], measures: [{ name: 'n', op: 'count' }] }),
  );
  const refused = await chronicle('replay', wrong);
  expect([refused.code, refused.stdout]).toEqual([2, '']);
  expect(refused.stderr).toContain(`chronicle replay: ${wrong}: groupBy[0].field: "data.email" is personal data`);
});

it("runs docs/reports.md's declarative `replay` line as written: meetings per month and rep", async () => {
  const docs = readFileSync(join(root, 'docs/reports.md'), 'utf8');
  const line = docs.split('\n').find((l) => l.startsWith('npm run chronicle -- replay examples/declarative-reports/'))!;
  const args = line.trim().split(/\s+/).slice(4);
  const option = (name: string) => args[args.indexOf(name) + 1];
  const run = await chronicle(...args);
  expect(run.code).toBe(0);
  const [header, ...rows] = run.stdout.trim().split('\r\n');
  expect(header).toBe('start,end,rep,meetings,customers,averageMinutes,medianMinutes');
  const list = periods(option('--from'), option('--to'), option('--interval') as Interval);
  const counts = new Map<string, number>();
  const reps = new Set<string>();
  for (const e of await allEvents()) {
    if (e.type !== 'InteractionLogged' || (e.data as { type: string }).type !== 'meeting') continue;
    const i = periodIndex(list, Date.parse(`${dayOf(e.occurredAt)}T00:00:00.000Z`));
    if (i < 0) continue;
    reps.add(e.actor);
    counts.set(`${list[i].start},${e.actor}`, (counts.get(`${list[i].start},${e.actor}`) ?? 0) + 1);
  }
  const expected = list.flatMap((p) => [...reps].sort().map((rep) => `${p.start},${rep},${counts.get(`${p.start},${rep}`) ?? 0}`));
  expect(rows.map((row) => row.split(',')).map(([start, , rep, meetings]) => `${start},${rep},${meetings}`)).toEqual(expected);
  expect(list.length).toBe(6);
  expect(reps.size).toBeGreaterThan(1);
});

it('a file that does not compile, or throws, is named with its line; nothing else is reported', async () => {
  const broken = join(dir, 'broken.ts');
  writeFileSync(
    broken,
    `import { defineProjection } from '@chronicle/projections';\n\nexport const p = defineProjection({ name: 'x', version: 1,, collections: [] });\n`,
  );
  const compile = await chronicle('replay', broken);
  expect([compile.code, compile.stdout]).toEqual([2, '']);
  expect(compile.stderr).toContain(`chronicle replay: ${broken}:3: `);

  const throwing = join(dir, 'throwing.ts');
  writeFileSync(
    throwing,
    [
      "import { defineProjection } from '@chronicle/projections';",
      'export const p = defineProjection({',
      "  name: 'throws', version: 1, collections: ['c'],",
      '  on: {',
      '    CustomerRegistered(event) {',
      "      if (event.data.name) throw new Error('no names here');",
      '    },',
      '  },',
      '});',
      "export const r = { name: 'throws', description: 'd', projections: ['throws'], tables: {}, run: async () => ({}) };",
      '',
    ].join('\n'),
  );
  const run = await chronicle('replay', throwing);
  expect([run.code, run.stdout]).toEqual([1, '']);
  expect(run.stderr).toMatch(
    new RegExp(
      `projection throws threw on CustomerRegistered [0-9a-f-]+ at position \\d+: ${throwing.replace(/\./g, '\\.')}:6: no names here`,
    ),
  );
  // The error names the file's line, never the personal data the event holds.
  expect(run.stderr).not.toMatch(/Late Entry/);

  const missing = await chronicle('replay', join(dir, 'nope.ts'));
  expect([missing.code, missing.stderr]).toEqual([2, expect.stringContaining('nope.ts: cannot be read: ENOENT')]);
});
