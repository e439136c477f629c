/**
 * One replay run, in a process of its own so that its peak RSS is the replay's alone:
 * `node dist/bench/replay-run.js <events.db> <read-models.db> <query rounds>`. Builds every
 * built-in projection from position 0 into a fresh embedded read store, then times every report
 * and entity query on the result. Prints one JSON line.
 */
import { dirname, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { defaultPipeline } from '@chronicle/domain';
import { SqliteEventStore } from '@chronicle/event-store';
import { PersonalDataEventStore, SqliteKeyStore } from '@chronicle/personal-data';
import { Projector, ReadModels } from '@chronicle/projector';
import { EmbeddedReadStore } from '@chronicle/read-store';
import {
  customerTimeline,
  listCustomers,
  listDeals,
  listLeads,
  listTasks,
  loadReportFile,
  projections,
  replayReport,
  ReportContext,
  ReportParams,
  reports,
} from '@chronicle/projections';

async function main(): Promise<void> {
  const [eventsFile, keysFile, readsFile, roundsText] = process.argv.slice(2);
  const rounds = Number(roundsText ?? 20);
  // Opening the sealed personal fields is part of the replay's cost, as in the app.
  const events = new PersonalDataEventStore(
    new SqliteEventStore({ filename: eventsFile, synchronous: 'NORMAL' }),
    new SqliteKeyStore(keysFile),
  );
  const reads = new EmbeddedReadStore(readsFile);
  const head = await events.headPosition();

  const started = performance.now();
  const projector = new Projector(events, reads, projections);
  await projector.start();
  const models = new ReadModels(
    reads,
    events,
    projections.map((p) => p.name),
    projector,
  );
  await models.waitFor(head, 600_000);
  const replaySeconds = (performance.now() - started) / 1000;
  const replayRss = process.resourceUsage().maxRSS * 1024;

  // The history's last business instant anchors the report windows (the seed ends about now).
  const [last] = (await events.readAll({ fromPosition: Math.max(0, head - 1), maxCount: 1 })).events;
  const end = Date.parse(last.occurredAt);
  const year = 365 * 86_400_000;
  const context: ReportContext = { readModels: models, pipeline: defaultPipeline };
  // Reports of the current state only (forecast, customer value) take no asOf but now.
  const current = new Set(['forecast', 'customer-value']);
  const window = (report: string, interval: ReportParams['interval'], span: number, asOfBack = 0): ReportParams => ({
    from: new Date(end - span).toISOString(),
    to: new Date(end).toISOString(),
    interval,
    asOf: new Date(current.has(report) ? Date.now() : end - asOfBack).toISOString(),
    limit: 10,
  });
  const customers = (await listCustomers(models, { limit: 200, sort: '-revenue' })).items.map((c) => c.id);

  const queries: Array<{ name: string; run: (i: number) => Promise<unknown> }> = [];
  for (const report of reports) {
    for (const groupBy of [undefined, ...(report.groupBy ?? [])]) {
      const name = `report ${report.name}${groupBy ? ` groupBy=${groupBy}` : ''}`;
      // A year by month, and (alternating) two years by week with asOf half a year back.
      queries.push({
        name,
        run: (i) =>
          report.run(
            { ...(i % 2 ? window(report.name, 'week', 2 * year, year / 2) : window(report.name, 'month', year)), groupBy },
            context,
          ),
      });
    }
  }
  queries.push({ name: 'GET /customers (default)', run: () => listCustomers(models, {}) });
  queries.push({
    name: 'GET /customers?q=&status=',
    run: (i) => listCustomers(models, { q: ['ann', 'corp', 'smith', 'li'][i % 4], status: 'active' }),
  });
  queries.push({ name: 'GET /deals?status=open', run: () => listDeals(models, { status: 'open' }) });
  queries.push({ name: 'GET /leads?status=new', run: () => listLeads(models, { status: 'new' }) });
  queries.push({ name: 'GET /tasks?status=open', run: () => listTasks(models, { status: 'open' }) });
  queries.push({ name: 'GET /customers/:id/timeline', run: (i) => customerTimeline(models, customers[i % customers.length], {}) });

  const latencies: Record<string, number[]> = {};
  for (const q of queries) await q.run(0); // warm-up: statement caches, search index
  for (let round = 0; round < rounds; round++) {
    for (const q of queries) {
      const t0 = performance.now();
      await q.run(round);
      (latencies[q.name] ??= []).push(performance.now() - t0);
    }
  }
  await projector.stop();
  await reads.close();

  // `chronicle replay <file>` on the README's example file and on a declarative (JSON) report with
  // a lookup: each projection alone from 0 into a temporary store, then its query (what an
  // analyst's own report costs without a deploy).
  const fileSeconds: number[] = [];
  for (const path of ['examples/meetings-report/meetings.ts', 'examples/declarative-reports/calls-before-won.json']) {
    const file = loadReportFile(resolve(__dirname, '../..', path));
    const fileStarted = performance.now();
    await replayReport({
      events,
      projections: file.projections,
      report: file.report,
      params: window(file.report.name, 'month', year),
      pipeline: defaultPipeline,
      tmpDir: dirname(readsFile),
    });
    fileSeconds.push((performance.now() - fileStarted) / 1000);
  }
  await events.close();
  process.stdout.write(
    JSON.stringify({
      head,
      replaySeconds,
      eventsPerSecond: head / replaySeconds,
      replayRss,
      peakRss: process.resourceUsage().maxRSS * 1024,
      latencies,
      fileReplaySeconds: fileSeconds[0],
      fileEventsPerSecond: head / fileSeconds[0],
      declarativeEventsPerSecond: head / fileSeconds[1],
    }) + '\n',
  );
}

main().catch((error) => {
  process.stderr.write(`${(error as Error).stack ?? error}\n`);
  process.exit(1);
});
