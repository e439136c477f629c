import { parse } from 'csv-parse/sync';
import request from 'supertest';
import { reports, TableRow } from '@chronicle/projections';
import { generateHistory } from '../../apps/cli/src/seed/generator';
import { appendHistory } from '../../apps/cli/src/seed/seed';
import { client } from '../support/http';
import { startTestApp, TestApp } from '../support/test-app';

/**
 * CSV on every report and list route (`?format=csv` or `Accept: text/csv`): the figures of the
 * JSON, one row per table row, RFC 4180, masked for an analyst exactly as the JSON is.
 */

let t: TestApp;
let admin: ReturnType<typeof client>;
let analyst: ReturnType<typeof client>;
let head: number;

const RANGE = 'from=2025-01-01&to=2026-12-01&interval=quarter';
const CURRENT_STATE = ['forecast', 'customer-value'];
const cell = (value: TableRow[string] | undefined) => (value === null || value === undefined ? '' : String(value));
const parseCsv = (text: string): Record<string, string>[] => parse(text, { columns: true });

beforeAll(async () => {
  t = await startTestApp();
  admin = client(t, 'admin');
  analyst = client(t, 'analyst');
  await appendHistory(t.store, generateHistory({ events: 3_000, seed: 7, years: 2, end: new Date('2026-12-01T00:00:00Z') }));
  head = await t.store.headPosition();
}, 60_000);
afterAll(() => t?.close());

describe('reports as CSV', () => {
  it('GET /reports lists every report with its tables, the default first', async () => {
    const list = await admin.get('/reports');
    expect(list.body.reports.map((r: { name: string; tables: string[] }) => [r.name, r.tables])).toEqual(
      reports.map((r) => [r.name, Object.keys(r.tables)]),
    );
    // The catalogue itself as CSV: a row per report, its lists as JSON cells.
    const csv = parseCsv((await admin.get('/reports?format=csv')).text);
    expect(csv.map((r) => [r.name, JSON.parse(r.tables)])).toEqual(reports.map((r) => [r.name, Object.keys(r.tables)]));
  });

  it('every table of every report holds the JSON figures, row by row and column by column', async () => {
    let tables = 0;
    for (const report of reports) {
      // One instant for both requests: the current-state reports and the pipeline default to now.
      const asOf = new Date().toISOString();
      const params = `${RANGE}&asOf=${asOf}${report.groupBy?.length ? `&groupBy=${report.groupBy[0]}` : ''}&minPosition=${head}`;
      const json = await admin.get(`/reports/${report.name}?${params}`);
      expect(json.status).toBe(200);
      for (const [name, table] of Object.entries(report.tables)) {
        const csv = await admin.get(`/reports/${report.name}?${params}&format=csv&table=${name}`);
        expect([report.name, name, csv.status, csv.headers['content-type']]).toEqual([report.name, name, 200, 'text/csv; charset=utf-8']);
        const expected = (table as (body: unknown) => TableRow[])(json.body);
        const rows = parseCsv(csv.text);
        // The current-state reports answer at the instant they are asked (asOf = now), each request its own.
        if (CURRENT_STATE.includes(report.name)) for (const row of [...rows, ...expected]) delete row.asOf;
        expect(rows).toHaveLength(expected.length);
        expect(rows).toEqual(expected.map((row) => Object.fromEntries(Object.keys(rows[0] ?? {}).map((c) => [c, cell(row[c])]))));
        // Every column of the JSON rows is in the header (no figure dropped).
        for (const row of expected) for (const column of Object.keys(row)) expect(Object.keys(rows[0])).toContain(column);
        tables++;
      }
    }
    expect(tables).toBe(reports.reduce((n, r) => n + Object.keys(r.tables).length, 0));
  });

  it('the pipeline as CSV: its stages, one row each, numbers unformatted, header as documented', async () => {
    const asOf = new Date().toISOString();
    const json = await admin.get(`/reports/pipeline?asOf=${asOf}&minPosition=${head}`);
    const csv = await admin.get(`/reports/pipeline?asOf=${asOf}&format=csv`);
    const [header, ...lines] = csv.text.split('\r\n').filter((line) => line !== '');
    expect(header).toBe('stage,deals,value,weightedValue,avgAgeDays');
    expect(lines).toEqual(
      json.body.stages.map((s: Record<string, number | string | null>) =>
        [s.stage, s.deals, s.value, s.weightedValue, s.avgAgeDays ?? ''].map(String).join(','),
      ),
    );
    expect(json.body.stages.some((s: { deals: number }) => s.deals > 0)).toBe(true);
    expect(csv.headers['content-disposition']).toBe('attachment; filename="pipeline.csv"');
    const totals = await admin.get(`/reports/pipeline?asOf=${asOf}&format=csv&table=totals`);
    expect(totals.headers['content-disposition']).toBe('attachment; filename="pipeline-totals.csv"');
    expect(parseCsv(totals.text)).toEqual([
      Object.fromEntries(Object.entries({ asOf: json.body.asOf, ...json.body.totals }).map(([k, v]) => [k, cell(v as number)])),
    ]);
  });

  it('Accept: text/csv asks for CSV; JSON stays the default, and format= wins over Accept', async () => {
    const url = `/reports/cac?${RANGE}`;
    const byAccept = await admin.get(url, { Accept: 'text/csv' });
    expect([byAccept.headers['content-type'], byAccept.headers.vary]).toEqual(['text/csv; charset=utf-8', 'Accept']);
    expect(byAccept.text.startsWith('start,end,spend,newCustomers,cac\r\n')).toBe(true);
    for (const accept of ['application/json, text/csv', 'text/csv;q=0.5, application/json', '*/*', 'text/*']) {
      expect([accept, (await admin.get(url, { Accept: accept })).headers['content-type']]).toEqual([
        accept,
        'application/json; charset=utf-8',
      ]);
    }
    expect((await admin.get(url, { Accept: 'text/csv, application/json;q=0.9' })).headers['content-type']).toBe('text/csv; charset=utf-8');
    expect((await admin.get(`${url}&format=json`, { Accept: 'text/csv' })).body.periods).toHaveLength(8);
  });

  it('an analyst gets the masked names of the JSON, and no name in clear', async () => {
    const clear = await admin.get(`/reports/customer-value?limit=20&minPosition=${head}`);
    const masked = await analyst.get(`/reports/customer-value?limit=20`);
    const csv = await analyst.get(`/reports/customer-value?limit=20&format=csv`);
    const names = parseCsv(csv.text).map((r) => r.name);
    expect(names).toEqual(masked.body.top.map((c: { name: string }) => c.name));
    expect(names.every((n) => /^.\*\*\*$/u.test(n))).toBe(true);
    for (const { name } of clear.body.top as { name: string }[]) expect(csv.text).not.toContain(name);
  });

  it('a wrong format or table is a 400 naming it; an unknown report a 404; a rep a 403, never a CSV', async () => {
    const bad = await admin.get('/reports/pipeline?format=xml');
    expect([bad.status, bad.body.message]).toEqual([400, 'format: must be csv or json']);
    const table = await admin.get('/reports/pipeline?format=csv&table=owners');
    expect([table.status, table.body.message]).toEqual([400, 'table: "owners" is not a table of pipeline; tables: stages, totals']);
    const twice = await admin.get('/reports/pipeline?format=csv&table=stages&table=totals');
    expect([twice.status, twice.body.message]).toEqual([400, 'table: must be given once']);
    const unknown = await admin.get('/reports/nope?format=csv');
    expect([unknown.status, unknown.headers['content-type']]).toEqual([404, 'application/json; charset=utf-8']);
    const rep = await client(t, 'rep').get('/reports/pipeline?format=csv');
    expect([rep.status, rep.headers['content-type']]).toEqual([403, 'application/json; charset=utf-8']);
    // Elsewhere format is an unknown query parameter, refused as any other.
    const customerId = (await admin.get('/customers?limit=1')).body.items[0].id as string;
    const jsonOnly = await admin.get(`/customers/${customerId}?format=csv`);
    expect([jsonOnly.status, jsonOnly.body.message]).toEqual([400, expect.stringContaining('format')]);
    // A bad parameter of the report itself is the report's 400, in JSON.
    const range = await admin.get('/reports/churn?from=2025-02-01&to=2025-01-01&format=csv');
    expect([range.status, range.body.message]).toEqual([400, 'from: must be before to']);
  });
});

describe('lists as CSV', () => {
  it('GET /customers: one row per item, the same names, nested fields as dotted columns', async () => {
    const json = await admin.get(`/customers?limit=25&minPosition=${head}`);
    const csv = await admin.get('/customers?limit=25&format=csv');
    expect(csv.headers['content-disposition']).toBe('attachment; filename="customers.csv"');
    const rows = parseCsv(csv.text);
    expect(rows.map((r) => [r.id, r.name, r.status])).toEqual(json.body.items.map((c: Record<string, string>) => [c.id, c.name, c.status]));
    expect(rows).toHaveLength(25);
    expect(rows[0]['totals.revenue']).toBe(String(json.body.items[0].totals.revenue));
  });

  it("an analyst's customer list is masked exactly as the JSON", async () => {
    const masked = await analyst.get('/customers?limit=30');
    const rows = parseCsv((await analyst.get('/customers?limit=30&format=csv')).text);
    expect(rows.map((r) => [r.name, r.email ?? ''])).toEqual(
      masked.body.items.map((c: Record<string, string | undefined>) => [c.name, c.email ?? '']),
    );
    const clear = await admin.get('/customers?limit=30');
    const text = (await analyst.get('/customers?limit=30&format=csv')).text;
    for (const c of clear.body.items as { name: string }[]) expect(text).not.toContain(c.name);
  });

  it('deals, leads, tasks, a timeline and the audit trail answer CSV too', async () => {
    for (const kind of ['deals', 'leads', 'tasks']) {
      const json = await admin.get(`/${kind}?limit=20`);
      const rows = parseCsv((await admin.get(`/${kind}?limit=20&format=csv`)).text);
      expect([kind, rows.map((r) => r.id)]).toEqual([kind, json.body.items.map((i: { id: string }) => i.id)]);
    }
    const customerId = (await admin.get('/customers?limit=1')).body.items[0].id as string;
    const timeline = await admin.get(`/customers/${customerId}/timeline`);
    const timelineRows = parseCsv((await admin.get(`/customers/${customerId}/timeline?format=csv`)).text);
    expect(timelineRows).toHaveLength(timeline.body.items.length);
    const events = await admin.get(`/streams/customer-${customerId}/events`);
    const eventRows = parseCsv((await admin.get(`/streams/customer-${customerId}/events`, { Accept: 'text/csv' })).text);
    expect(eventRows.map((r) => [r.eventId, r.type])).toEqual(events.body.events.map((e: Record<string, string>) => [e.eventId, e.type]));
    expect(eventRows[0]['data.customerId']).toBe(customerId);
  });

  it('text a spreadsheet would run as a formula is defused', async () => {
    const created = await admin.post('/customers', { name: '=HYPERLINK("http://evil.example")', source: 'web' });
    const rows = parseCsv((await admin.get(`/customers?limit=200&format=csv&minPosition=${created.body.position}`)).text);
    expect(rows.find((r) => r.id === created.body.id)?.name).toBe(`'=HYPERLINK("http://evil.example")`);
  });

  it('a list that matches nothing answers an empty CSV body', async () => {
    const none = await admin.get('/deals?ownerId=nobody&format=csv');
    expect([none.status, none.headers['content-type'], none.text]).toEqual([200, 'text/csv; charset=utf-8', '']);
  });
});

describe('CSV and the query string', () => {
  it('format and table are not query parameters of the list itself (a table on a list is refused by the list)', async () => {
    const list = await request(t.http).get('/customers?table=x').set(t.as('admin'));
    expect(list.status).toBe(400);
    expect(list.body.message).toContain('table');
  });
});
