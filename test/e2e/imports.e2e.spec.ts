import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import request from 'supertest';
import {
  AssignmentProcessManager,
  FeedProcessManager,
  RulesProcessManager,
  ScoringProcessManager,
  StallProcessManager,
} from '@chronicle/commands';
import { streamIdOf } from '@chronicle/domain';
import type { RecordedEvent } from '@chronicle/event-store';
import { PersonalDataEventStore } from '@chronicle/personal-data';
import { repositoryRoot as root } from '../support/api-process';
import { client, expectNothingAppended } from '../support/http';
import { startTestApp, TestApp } from '../support/test-app';

/**
 * `POST /imports`: a file of customers, leads, deals or interactions with their own business
 * times; all rows validated as the API validates each record's body before anything is appended;
 * per-row, per-column errors; re-importing appends nothing twice; the events are the API's
 * (personal fields sealed), reports over the imported history count each row in its real period,
 * and `automation: false` leaves the imported history to itself.
 */

jest.setTimeout(60_000);

const example = (type: string) => readFileSync(join(root, 'examples', 'imports', `${type}.csv`), 'utf8');
const ADA = '5b0e8a52-3c1d-4f7e-9a61-0c2f4d8e1a01';
const DEAL = '7c1f9b63-4d2e-4a8f-8b72-1d3a5e9f2b01';

describe('POST /imports', () => {
  let t: TestApp;
  beforeAll(async () => void (t = await startTestApp()));
  afterAll(() => t.close());

  it('imports the example files as written, each record with its own business time; a re-run appends nothing', async () => {
    const manager = client(t, 'manager');
    const expected = { customers: [4, 4], leads: [3, 5], deals: [3, 3], interactions: [4, 4] };
    for (const [type, [rows, events]] of Object.entries(expected)) {
      const r = await manager.post('/imports', { type, content: example(type) });
      expect([r.status, r.body]).toMatchObject([201, { rows, appended: rows, events, skipped: 0, rejected: [] }]);
    }
    const ada = await manager.latest(`/customers/${ADA}`);
    expect(ada.body).toMatchObject({ name: 'Ada Lovelace', registeredAt: '2021-02-03T09:15:00.000Z', ownerId: 'rep-ada' });
    expect(ada.body.attributes).toEqual({ tier: 'gold' });
    // The same events the API writes: the API's types and fields, the importer as actor, its business time.
    const [registered] = await t.events(streamIdOf('customer', ADA));
    expect(registered).toMatchObject({ type: 'CustomerRegistered', actor: 'manager-user', occurredAt: '2021-02-03T09:15:00.000Z' });
    expect(registered.metadata).toEqual({ import: { type: 'customers', automation: true } });
    const deal = await manager.latest(`/deals/${DEAL}`);
    expect(deal.body).toMatchObject({ stage: 'proposal', amount: 24000, source: 'referral', ownerId: 'rep-ada' });
    // An owner left unsaid is the importer's, as for POST /customers.
    expect((await manager.latest('/customers/5b0e8a52-3c1d-4f7e-9a61-0c2f4d8e1a04')).body.ownerId).toBe('manager-user');
    const again = await expectNothingAppended(t, () =>
      Promise.all(Object.keys(expected).map((type) => manager.post('/imports', { type, content: example(type) }))),
    );
    expect(again.map((r) => [r.status, r.body.appended, r.body.skipped])).toEqual([
      [201, 0, 4],
      [201, 0, 3],
      [201, 0, 3],
      [201, 0, 4],
    ]);
  });

  it('refuses the whole file while any row is invalid: each problem by row and column, nothing appended', async () => {
    const content = [
      'customerId,type,direction,subject,durationMinutes,dealId',
      `${ADA},meeting,sideways,Review,abc,`,
      `00000000-0000-4000-8000-000000000000,call,inbound,Hello,5,`,
      `${ADA},call,inbound,Fine,5,`,
      `${ADA},call,inbound,Wrong deal,5,7c1f9b63-4d2e-4a8f-8b72-1d3a5e9f2b02`,
      `not-an-id,call,inbound,,,`,
    ].join('\n');
    const r = await expectNothingAppended(t, () => client(t, 'admin').post('/imports', { type: 'interactions', content }));
    expect(r.status).toBe(422);
    expect(r.body.message).toBe('4 of 5 rows are invalid: nothing was appended');
    const problems = r.body.rejected as Array<{ row: number; column?: string; message: string }>;
    expect(problems).toEqual(
      expect.arrayContaining([
        { row: 1, column: 'direction', message: 'direction must be one of the following values: inbound, outbound' },
        { row: 1, column: 'durationMinutes', message: 'durationMinutes must be a number conforming to the specified constraints' },
        { row: 2, column: 'customerId', message: 'customer-00000000-0000-4000-8000-000000000000 does not exist' },
        {
          row: 4,
          column: 'dealId',
          message: `deal-7c1f9b63-4d2e-4a8f-8b72-1d3a5e9f2b02 is a deal of another customer, not of customer-${ADA}`,
        },
        { row: 5, column: 'customerId', message: 'customerId must be a UUID' },
        { row: 5, column: 'subject', message: 'subject should not be empty' },
      ]),
    );
    expect(problems.some((p) => p.row === 3)).toBe(false);

    // With skipInvalid the valid row goes in, the others are listed.
    const skipped = await client(t, 'admin').post('/imports', { type: 'interactions', content, skipInvalid: true });
    expect([skipped.status, skipped.body.appended, new Set(skipped.body.rejected.map((p: { row: number }) => p.row))]).toEqual([
      201,
      1,
      new Set([1, 2, 4, 5]),
    ]);
  });

  it('refuses a deal of a customer that does not exist, an unknown column, a malformed file and NDJSON lines as the API refuses bodies', async () => {
    const admin = client(t, 'admin');
    const unknown = await admin.post('/imports', {
      type: 'deals',
      content: 'customerId,title,amount\n11111111-1111-4111-8111-111111111111,Licence,100\n',
    });
    expect([unknown.status, unknown.body.rejected]).toEqual([
      422,
      [{ row: 1, column: 'customerId', message: 'customer-11111111-1111-4111-8111-111111111111 does not exist' }],
    ]);
    const column = await admin.post('/imports', { type: 'customers', content: 'name,nickname\nAda,A\n' });
    expect([column.status, column.body.rejected[0]]).toMatchObject([422, { row: 0, column: 'nickname' }]);
    const unclosed = await admin.post('/imports', { type: 'customers', content: 'name\n"Ada\n' });
    expect([unclosed.status, unclosed.body.rejected[0].row]).toEqual([422, 0]);
    const ndjson = ['{"name":"Ok","source":"web"}', '{"name":null}', '[1]', '{"name":"A","attributes":{"a":1},"ownerId":""}', 'nope'].join(
      '\n',
    );
    const lines = await admin.post('/imports', { type: 'customers', format: 'ndjson', content: ndjson });
    expect(lines.status).toBe(422);
    expect(lines.body.rejected).toEqual([
      { row: 2, column: 'name', message: 'name must not be null' },
      { row: 3, message: 'must be a JSON object' },
      { row: 4, column: 'ownerId', message: 'ownerId should not be empty' },
      { row: 5, message: expect.stringMatching(/^not JSON/) },
    ]);
  });

  it('a report over an imported five-year history counts every row in its real period, exactly', async () => {
    const perYear = { 2021: 3, 2022: 1, 2023: 4, 2024: 1, 2025: 5 };
    const lines = Object.entries(perYear).flatMap(([year, n]) =>
      Array.from({ length: n }, (_, i) =>
        JSON.stringify({ name: `Lead ${year}-${i}`, source: 'import-test', occurredAt: `${year}-0${i + 1}-15T12:00:00Z` }),
      ),
    );
    const r = await client(t, 'manager').post('/imports', { type: 'leads', format: 'ndjson', content: lines.join('\n') });
    expect([r.status, r.body.appended]).toEqual([201, 14]);
    const report = await client(t, 'manager').get(
      `/reports/conversion?from=2021-01-01&to=2026-01-01&interval=year&groupBy=source&minPosition=${r.body.position}`,
    );
    expect(report.status).toBe(200);
    const captured = report.body.periods.map(
      (p: { bySource: Array<{ source: string; captured: number }> }) => p.bySource.find((s) => s.source === 'import-test')?.captured ?? 0,
    );
    expect(captured).toEqual(Object.values(perYear));
  });

  it('seals personal fields as the API does: the stored event holds ciphertext, the API reads plain fields', async () => {
    const content = 'name,email,phone,source,occurredAt\nMarie Curie,marie@example.com,+33 1 5555 0101,web,2022-02-02T10:00:00Z\n';
    const r = await client(t, 'manager').post('/imports', { type: 'customers', content, key: 'email' });
    expect(r.status).toBe(201);
    const id = r.body.importId as string;
    const [event] = (await t.store.readAll({ fromPosition: r.body.position - 1, maxCount: 1 })).events;
    expect(event.correlationId).toBe(id);
    const sealed = await t.app.get(PersonalDataEventStore).sealed.readStream(event.streamId);
    const stored = JSON.stringify(sealed[0].data);
    expect(stored).not.toContain('Marie');
    expect(stored).not.toContain('marie@example.com');
    expect((sealed[0].data as { sealed?: unknown }).sealed).toBeDefined();
    // The key column is not kept in plain text anywhere in the metadata either.
    expect(JSON.stringify(sealed[0].metadata)).not.toContain('marie');
    const view = await client(t, 'manager').latest(`/customers/${event.streamId.slice('customer-'.length)}`);
    expect(view.body).toMatchObject({ name: 'Marie Curie', email: 'marie@example.com', registeredAt: '2022-02-02T10:00:00.000Z' });
    // Keyed by e-mail: the same person with another spelling of the rest is the same row.
    const again = await client(t, 'manager').post('/imports', {
      type: 'customers',
      content: 'email,name,source\nmarie@example.com,Marie S. Curie,web\n',
      key: 'email',
    });
    expect([again.body.appended, again.body.skipped]).toEqual([0, 1]);
  });

  it('is for managers and admins; a body over 1 MB is a 413', async () => {
    const body = { type: 'customers', content: 'name,source\nA,web\n' };
    for (const role of ['rep', 'analyst', 'service'] as const) expect((await client(t, role).post('/imports', body)).status).toBe(403);
    const big = await request(t.http)
      .post('/imports')
      .set(t.as('admin'))
      .send({ type: 'customers', content: `name,source\n${'Someone,web\n'.repeat(100_000)}` });
    expect(big.status).toBe(413);
    expect((await client(t, 'admin').post('/imports', { type: 'tasks', content: 'x' })).status).toBe(400);
  });

  it('random bodies and files: never a 5xx, and a refusal appends nothing (the route is left out of fuzz.e2e: its answer is not a command result)', async () => {
    const manager = client(t, 'manager');
    const columns = fc.constantFrom(
      'name',
      'source',
      'email',
      'ownerId',
      'occurredAt',
      'customerId',
      'title',
      'amount',
      'type',
      'direction',
      'subject',
      'id',
      'x',
    );
    const cell = fc.oneof(
      fc.string({ maxLength: 12 }),
      fc.constantFrom('web', 'Ada', '2024-01-01', '12', '-1', 'call', 'outbound', '"', ',', ''),
    );
    const csv = fc
      .tuple(fc.uniqueArray(columns, { minLength: 1, maxLength: 5 }), fc.array(fc.array(cell, { maxLength: 6 }), { maxLength: 4 }))
      .map(([header, rows]) => [header.join(','), ...rows.map((r) => r.join(','))].join('\n'));
    const body = fc.record(
      {
        type: fc.oneof(fc.constantFrom('customers', 'leads', 'deals', 'interactions'), fc.jsonValue()),
        format: fc.oneof(fc.constantFrom('csv', 'ndjson'), fc.jsonValue()),
        content: fc.oneof(
          csv,
          fc.jsonValue().map((v) => JSON.stringify(v)),
          fc.jsonValue(),
        ),
        key: fc.oneof(columns, fc.jsonValue()),
        skipInvalid: fc.oneof(fc.boolean(), fc.jsonValue()),
        automation: fc.oneof(fc.boolean(), fc.jsonValue()),
        extra: fc.jsonValue(),
      },
      { requiredKeys: [] },
    );
    const seen = new Set<number>();
    await fc.assert(
      fc.asyncProperty(body, async (b) => {
        const head = await t.store.headPosition();
        const r = await manager.post('/imports', b);
        seen.add(r.status);
        expect([201, 400, 422]).toContain(r.status);
        if (r.status >= 400) {
          expect(await t.store.headPosition()).toBe(head);
          expect(r.body).toMatchObject({ statusCode: r.status, message: expect.anything() });
        }
      }),
      { numRuns: Number(process.env.FUZZ_RUNS ?? 150) },
    );
    expect(seen.has(400)).toBe(true);
  });
});

describe('POST /imports with automation: false', () => {
  let t: TestApp;
  let dir: string;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'chronicle-e2e-import-pipeline-'));
    const pipeline = join(dir, 'pipeline.json');
    writeFileSync(
      pipeline,
      JSON.stringify({
        stages: [
          { name: 'qualification', probability: 0.1, stallAfterDays: 7 },
          { name: 'proposal', probability: 0.5 },
        ],
      }),
    );
    const assignment = join(dir, 'assignment.json');
    writeFileSync(assignment, JSON.stringify({ strategy: 'round-robin', reps: [{ id: 'rep-a' }, { id: 'rep-b' }] }));
    t = await startTestApp({
      env: { AUTOMATION: 'on', PIPELINE_FILE: pipeline, ASSIGNMENT_FILE: assignment, STALL_CHECK_SECONDS: '3600' },
    });
  });
  afterAll(async () => {
    await t.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Every automation process manager at the head, and the head no longer moving. */
  const settle = async () => {
    for (let round = 0; round < 20; round++) {
      const head = await t.store.headPosition();
      for (const type of [ScoringProcessManager, AssignmentProcessManager, RulesProcessManager, StallProcessManager]) {
        const pm = t.app.get<FeedProcessManager>(type);
        if (pm.isRunning) await pm.caughtUp(20_000);
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
      if ((await t.store.headPosition()) === head) return;
    }
    throw new Error('process managers did not settle');
  };

  it('imports history the automation does not act on (scoring, assignment, rules, stall checks); the same rows with automation are acted on', async () => {
    const admin = client(t, 'admin');
    const leads = ['a1a1a1a1-0000-4000-8000-000000000001', 'a1a1a1a1-0000-4000-8000-000000000002'];
    const customer = 'c1c1c1c1-0000-4000-8000-000000000001';
    const deals = ['d1d1d1d1-0000-4000-8000-000000000001', 'd1d1d1d1-0000-4000-8000-000000000002'];
    const leadRow = (i: number) => `id,name,source,occurredAt\n${leads[i]},Lead ${i},web,2021-05-05T10:00:00Z\n`;
    const dealRow = (i: number) =>
      `id,customerId,title,amount,occurredAt\n${deals[i]},${customer},Deal ${i},5000,2021-06-0${i + 1}T10:00:00Z\n`;
    const ok = async (body: object) => {
      const r = await admin.post('/imports', body);
      expect([r.status, r.body.appended]).toEqual([201, 1]);
    };
    await ok({
      type: 'customers',
      content: `id,name,source,occurredAt\n${customer},Old Customer,web,2021-05-01T10:00:00Z\n`,
      automation: false,
    });
    await ok({ type: 'leads', content: leadRow(0), automation: false });
    await ok({ type: 'deals', content: dealRow(0), automation: false });
    const [captured] = await t.events(streamIdOf('lead', leads[0]));
    expect(captured.metadata).toEqual({ import: { type: 'leads', automation: false } });
    await settle();
    const headBefore = await t.store.headPosition();
    expect(await t.app.get(StallProcessManager).sweep()).toBe(0);
    expect(await t.store.headPosition()).toBe(headBefore);
    // The same rows with automation: scored, a follow-up task for the deal, and a stall task.
    await ok({ type: 'leads', content: leadRow(1) });
    await ok({ type: 'deals', content: dealRow(1) });
    await settle();
    const scored = await Promise.all(
      leads.map(async (id) => (await t.events(streamIdOf('lead', id))).some((e) => e.type === 'LeadScored')),
    );
    expect(scored).toEqual([false, true]);
    // Round-robin: the imported lead was neither assigned nor counted, so the live one gets the first turn.
    const owners = await Promise.all(
      leads.map(async (id) =>
        (await t.events(streamIdOf('lead', id)))
          .filter((e) => e.type === 'LeadAssigned')
          .map((e) => (e.data as { ownerId: string }).ownerId),
      ),
    );
    expect(owners).toEqual([[], ['rep-a']]);
    const tasksOf = async () => {
      const page = await t.store.readAll({ filter: { categories: ['task'] }, maxCount: 1000 });
      return page.events.map((e: RecordedEvent) => (e.data as { dealId?: string }).dealId);
    };
    expect((await tasksOf()).filter((d) => d === deals[0])).toEqual([]);
    expect((await tasksOf()).filter((d) => d === deals[1]).length).toBeGreaterThan(0);
    expect(await t.app.get(StallProcessManager).sweep()).toBe(1);
  });
});
