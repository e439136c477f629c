import fc from 'fast-check';
import { MongoReadStore } from '@chronicle/read-store';
import type { ReportParams } from './common/report';
import { projections as builtIn, reports as builtInReports } from './index';
import { listCampaigns, listCustomers, listDeals, listLeads, listTasks, customerTimeline } from './queries';
import { historyArbitrary } from './testing/random-history';
import { reportParamsArbitrary } from './testing/report-params';
import { project, Projected } from './testing/harness';
import { dropDatabase, freshDatabase, urlFor } from '../test/support/mongo-test';
import { dumpReadModels } from '../test/support/read-model-dump';
import { loadReportFile } from './replay/report-file';

// The declarative examples too: their cells and lookups are documents of their own shape.
const declarative = ['meetings-per-rep', 'average-discount-by-source', 'calls-before-won'].map((name) =>
  loadReportFile(`examples/declarative-reports/${name}.json`),
);
const projections = [...builtIn, ...declarative.flatMap((file) => file.projections)];
const reports = [...builtInReports, ...declarative.map((file) => file.report)];

// Every built-in projection (and the declarative examples) on the MongoDB read-store adapter against a real Mongo-wire server
// (FerretDB from the integration tier, or MONGO_URL): for random histories, every read model,
// every report and every list query equal what the embedded store gives for the same events.

async function everyQuery(p: Projected, params: ReportParams[]) {
  const results: Record<string, unknown> = {};
  for (const report of reports) {
    for (const [i, base] of params.entries()) {
      for (const groupBy of [undefined, ...(report.groupBy ?? [])]) {
        const result = (await report.run({ ...base, groupBy }, p.context)) as { asOf?: string };
        // Reports of the current state only (forecast, customer value) stamp the time they ran.
        if (result.asOf !== undefined && result.asOf !== base.asOf) result.asOf = 'now';
        results[`${report.name}#${i}#${groupBy ?? ''}`] = result;
      }
    }
  }
  results.customers = await listCustomers(p.readModels, { sort: '-revenue', limit: 200 });
  results.customersSearch = await listCustomers(p.readModels, { q: 'a', status: 'active', limit: 20 });
  results.deals = await listDeals(p.readModels, { status: 'open', sort: 'amount', limit: 200 });
  results.leads = await listLeads(p.readModels, { sort: '-capturedAt', limit: 200 });
  results.tasks = await listTasks(p.readModels, { status: 'open', limit: 200 });
  results.campaigns = await listCampaigns(p.readModels, { sort: 'name', limit: 200 });
  const someCustomer = (results.customers as { items: { id: string }[] }).items[0];
  if (someCustomer) results.timeline = await customerTimeline(p.readModels, someCustomer.id, { limit: 20 });
  return results;
}

jest.setTimeout(600_000);

describe('built-in projections on MongoDB (FerretDB) equal the embedded store', () => {
  it('property: same read models, reports and list queries for random histories', async () => {
    await fc.assert(
      fc.asyncProperty(
        historyArbitrary({ minSteps: 100, maxSteps: 200 }),
        fc.array(reportParamsArbitrary(), { minLength: 2, maxLength: 2 }),
        async (history, params) => {
          const database = freshDatabase('chronicle_proj');
          const embedded = await project(history, projections);
          const mongo = await project(history, projections, { readStore: () => MongoReadStore.connect(urlFor(database)) });
          try {
            const a = await dumpReadModels(embedded.readStore, embedded.eventStore, projections);
            expect(Object.values(a).reduce((n, docs) => n + docs.length, 0)).toBeGreaterThan(10); // not an empty comparison
            expect(await dumpReadModels(mongo.readStore, mongo.eventStore, projections)).toEqual(a);
            expect(await everyQuery(mongo, params)).toEqual(await everyQuery(embedded, params));
          } finally {
            await embedded.close();
            await mongo.close();
            await dropDatabase(database);
          }
        },
      ),
      { numRuns: 8, endOnFailure: true, seed: process.env.FC_SEED ? Number(process.env.FC_SEED) : undefined },
    );
  });
});
