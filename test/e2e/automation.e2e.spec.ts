import Database from 'better-sqlite3';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { randomUUID } from 'node:crypto';
import {
  AssignmentProcessManager,
  FeedProcessManager,
  RulesProcessManager,
  ScoringProcessManager,
  StallProcessManager,
} from '@chronicle/commands';
import type { RecordedEvent } from '@chronicle/event-store';
import { client } from '../support/http';
import { startTestApp, TestApp } from '../support/test-app';

/**
 * Sales automation over HTTP: fair assignment under concurrency, the seed's ≥ 500 follow-up rule,
 * lead scoring, stalled deals and SMART goals — and every side effect exactly once when the
 * process managers run again over the same history.
 */

jest.setTimeout(60_000);

const DAY = 86_400_000;
const managers = [ScoringProcessManager, AssignmentProcessManager, RulesProcessManager, StallProcessManager];

async function settle(t: TestApp): Promise<void> {
  // Reactions append events other managers react to: wait until all of them stand still at the head.
  for (let round = 0; round < 20; round++) {
    const head = await t.store.headPosition();
    for (const type of managers) {
      const pm = t.app.get<FeedProcessManager>(type);
      if (pm.isRunning) await pm.caughtUp(20_000);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
    if ((await t.store.headPosition()) === head) return;
  }
  throw new Error('process managers did not settle');
}

async function allEvents(t: TestApp): Promise<RecordedEvent[]> {
  const events: RecordedEvent[] = [];
  for (let from = 0; ;) {
    const page = await t.store.readAll({ fromPosition: from, maxCount: 1000 });
    events.push(...page.events);
    if (page.isEnd || page.checkpoint <= from) return events;
    from = page.checkpoint;
  }
}

const ofType = (events: RecordedEvent[], type: string) => events.filter((e) => e.type === type);

/** Closes the app, forgets every process manager's checkpoint, and starts it again on the same data. */
async function rerunFromScratch(t: TestApp, env: NodeJS.ProcessEnv): Promise<TestApp> {
  await t.close();
  const db = new Database(join(t.dataDir, 'state.db'));
  const reset = db.prepare("DELETE FROM checkpoints WHERE name LIKE 'process-manager:%'").run();
  db.close();
  expect(reset.changes).toBeGreaterThanOrEqual(3);
  const again = await startTestApp({ dataDir: t.dataDir, env });
  await settle(again);
  // The re-run did happen: the managers ran over the whole history again.
  const running = managers.map((type) => again.app.get<FeedProcessManager>(type)).filter((pm) => pm.isRunning);
  expect(running.length).toBeGreaterThanOrEqual(3);
  for (const pm of running) expect(pm.checkpoint).toBeGreaterThan(0);
  return again;
}

describe('automation', () => {
  const dirs: string[] = [];
  const configDir = mkdtempSync(join(tmpdir(), 'chronicle-automation-'));
  const file = (name: string, content: unknown) => {
    const path = join(configDir, name);
    writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content, null, 2));
    return path;
  };
  afterAll(() => {
    rmSync(configDir, { recursive: true, force: true });
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  describe('round-robin assignment', () => {
    const env = () => ({
      EVENT_STORE: 'sqlite',
      AUTOMATION: 'on',
      ASSIGNMENT_FILE: file('rr.json', { strategy: 'round-robin', reps: [{ id: 'rep-a' }, { id: 'rep-b' }, { id: 'rep-c' }] }),
    });
    let t: TestApp;
    beforeAll(async () => {
      const dataDir = mkdtempSync(join(tmpdir(), 'chronicle-e2e-rr-'));
      dirs.push(dataDir);
      t = await startTestApp({ dataDir, env: env() });
    });
    afterAll(() => t.close());

    it('100 leads captured concurrently over 3 reps → 34/33/33, each with strategy and reason; a manager override stays; a re-run appends nothing', async () => {
      const api = client(t, 'manager');
      const responses = await Promise.all(Array.from({ length: 100 }, (_, i) => api.post('/leads', { name: `Lead ${i}`, source: 'web' })));
      expect(responses.every((r) => r.status === 201)).toBe(true);
      await settle(t);
      let events = await allEvents(t);
      const assigned = ofType(events, 'LeadAssigned');
      expect(assigned).toHaveLength(100);
      const perRep = (list: RecordedEvent[]) =>
        list.reduce<Record<string, number>>((m, e) => {
          const owner = (e.data as { ownerId: string }).ownerId;
          return { ...m, [owner]: (m[owner] ?? 0) + 1 };
        }, {});
      expect(perRep(assigned)).toEqual({ 'rep-a': 34, 'rep-b': 33, 'rep-c': 33 });
      // In feed order of capture: a, b, c, a, …
      const captured = ofType(events, 'LeadCaptured').map((e) => (e.data as { leadId: string }).leadId);
      const ownerOf = new Map(
        assigned.map((e) => [(e.data as { leadId: string }).leadId, e.data as { ownerId: string; strategy: string; reason: string }]),
      );
      expect(captured.slice(0, 6).map((id) => ownerOf.get(id)!.ownerId)).toEqual(['rep-a', 'rep-b', 'rep-c', 'rep-a', 'rep-b', 'rep-c']);
      expect(ownerOf.get(captured[4])).toMatchObject({ strategy: 'round-robin', reason: 'round-robin turn 2 of 3' });
      expect(
        assigned.every(
          (e) =>
            e.actor === 'system:process-manager' &&
            e.causationId ===
              events.find(
                (c) => c.type === 'LeadCaptured' && (c.data as { leadId: string }).leadId === (e.data as { leadId: string }).leadId,
              )!.eventId,
        ),
      ).toBe(true);

      // The fairness report and the leads list agree.
      const now = new Date();
      const fairness = await client(t, 'analyst').latest(
        `/reports/assignments?interval=day&from=${new Date(now.getTime() - DAY).toISOString()}&to=${new Date(now.getTime() + DAY).toISOString()}`,
      );
      expect(fairness.status).toBe(200);
      expect(fairness.body.total).toEqual({
        reps: [
          { ownerId: 'rep-a', assigned: 34, leads: 34, customers: 0, automatic: 34 },
          { ownerId: 'rep-b', assigned: 33, leads: 33, customers: 0, automatic: 33 },
          { ownerId: 'rep-c', assigned: 33, leads: 33, customers: 0, automatic: 33 },
        ],
        spread: 1,
      });
      expect((await api.latest('/leads?ownerId=rep-b&limit=1')).body.total).toBe(33);

      // An unowned customer is assigned too (turn 101 → rep-b); a manager overrides a lead.
      const customer = await api.post('/customers', { name: 'Unowned Ltd', source: 'web', region: 'emea' });
      const override = await client(t, 'manager').post(`/leads/${captured[0]}/assign`, { ownerId: 'rep-z' });
      expect(override.status).toBe(200);
      await settle(t);
      const customerEvents = await t.events(`customer-${customer.body.id}`);
      expect(customerEvents.map((e) => e.type)).toEqual(['CustomerRegistered', 'CustomerOwnerAssigned']);
      expect(customerEvents[1].data).toMatchObject({ ownerId: 'rep-b', strategy: 'round-robin' });

      // Exactly once: every process manager from position 0 again, over the same history.
      events = await allEvents(t);
      t = await rerunFromScratch(t, env());
      const after = await allEvents(t);
      expect(after.length).toBe(events.length);
      expect(after.map((e) => e.eventId)).toEqual(events.map((e) => e.eventId));
      const lead0 = await t.events(`lead-${captured[0]}`);
      expect(lead0.filter((e) => e.type === 'LeadAssigned').map((e) => (e.data as { ownerId: string }).ownerId)).toEqual([
        'rep-a',
        'rep-z',
      ]);
    });
  });

  describe('territory assignment with least-busy within', () => {
    let t: TestApp;
    beforeAll(async () => {
      const assignment = {
        strategy: 'territory',
        reps: [{ id: 'eu1' }, { id: 'eu2' }, { id: 'fin' }, { id: 'us' }, { id: 'away', available: false }],
        territories: [
          { region: ['emea'], reps: ['eu1', 'eu2'] },
          { industry: ['finance'], reps: ['fin', 'away'] },
        ],
        within: 'least-busy',
      };
      t = await startTestApp({
        env: { AUTOMATION: 'on', ASSIGNMENT_FILE: file('territory.json', assignment), RULES_FILE: file('no-rules.json', { rules: [] }) },
      });
    });
    afterAll(() => t.close());

    it('the first matching territory, its least busy rep (open leads and deals), all reps as the fallback', async () => {
      const api = client(t, 'manager');
      const customer = (await api.post('/customers', { name: 'Acme', source: 'web', ownerId: 'eu1' })).body.id as string;
      for (const title of ['One', 'Two'])
        expect((await api.post('/deals', { customerId: customer, title, amount: 100, ownerId: 'eu1' })).status).toBe(201);
      const owners: string[] = [];
      const reasons: string[] = [];
      for (const attributes of [
        { region: 'emea' },
        { region: 'EMEA', industry: 'finance' },
        { region: 'emea' },
        { region: 'na', industry: 'finance' },
        { region: 'apac' },
      ]) {
        const lead = await api.post('/leads', { name: 'Lead', source: 'web', attributes });
        await settle(t); // one at a time: each choice sees the previous one
        const assigned = (await t.events(`lead-${lead.body.id}`)).find((e) => e.type === 'LeadAssigned')!.data as {
          ownerId: string;
          strategy: string;
          reason: string;
        };
        owners.push(assigned.ownerId);
        reasons.push(assigned.reason);
        expect(assigned.strategy).toBe('territory');
      }
      // eu1 has 2 open deals: eu2, eu2; then 2–2, the first listed: eu1; finance (away is on leave): fin;
      // no territory: every rep, us has nothing open.
      expect(owners).toEqual(['eu2', 'eu2', 'eu1', 'fin', 'us']);
      expect(reasons[0]).toBe('territory 1 (region emea), least busy: 0 open leads and deals');
      expect(reasons[4]).toBe('no territory matched: fallback to all reps, least busy: 0 open leads and deals');
    });
  });

  describe('follow-up rules, scoring, stalled deals and goals (default rules and scoring model)', () => {
    const env = () => ({
      EVENT_STORE: 'sqlite',
      AUTOMATION: 'on',
      PIPELINE_FILE: file('pipeline.json', {
        stages: [
          { name: 'qualification', probability: 0.1, stallAfterDays: 7 },
          { name: 'proposal', probability: 0.5 },
        ],
      }),
      STALL_CHECK_SECONDS: '3600',
    });
    let t: TestApp;
    beforeAll(async () => {
      const dataDir = mkdtempSync(join(tmpdir(), 'chronicle-e2e-rules-'));
      dirs.push(dataDir);
      t = await startTestApp({ dataDir, env: env() });
    });
    afterAll(() => t.close());

    it('the seed rule: exact call tasks for deals opened at or changed to ≥ 500, nurture below; exactly once on a re-run', async () => {
      const api = client(t, 'manager');
      const c1 = (await api.post('/customers', { name: 'Ada', source: 'web', ownerId: 'rep-1' })).body.id as string;
      const c2 = (await api.post('/customers', { name: 'Bob', source: 'web', ownerId: 'rep-2' })).body.id as string;
      const open = async (customerId: string, amount: number, ownerId: string, occurredAt: string) =>
        (await api.post('/deals', { customerId, title: `Deal ${amount}`, amount, ownerId, occurredAt })).body.id as string;
      // Fri 2024-03-01 10:00 → due Mon 2024-03-04 10:00.
      const big = await open(c1, 500, 'rep-1', '2024-03-01T10:00:00.000Z');
      const small = await open(c1, 499.99, 'rep-1', '2024-03-04T09:00:00.000Z');
      const grows = await open(c2, 100, 'rep-2', '2024-03-05T09:00:00.000Z');
      expect((await api.patch(`/deals/${grows}`, { amount: 800, occurredAt: '2024-03-06T15:00:00.000Z' })).status).toBe(200); // Wed → Thu
      expect((await api.patch(`/deals/${grows}`, { amount: 900, occurredAt: '2024-03-07T15:00:00.000Z' })).status).toBe(200); // stays ≥ 500: nothing
      const tiny = await open(c2, 50, 'rep-2', '2024-03-08T09:00:00.000Z');
      await settle(t);

      const events = await allEvents(t);
      const tasks = ofType(events, 'TaskCreated').map((e) => e.data as Record<string, unknown>);
      expect(
        tasks.map(({ taskId: _, reason: __, ...task }) => task).sort((a, b) => String(a.dueAt).localeCompare(String(b.dueAt))),
      ).toEqual([
        { ownerId: 'rep-1', subject: 'Call the lead', dueAt: '2024-03-04T10:00:00.000Z', customerId: c1, dealId: big },
        { ownerId: 'rep-2', subject: 'Call the lead', dueAt: '2024-03-07T15:00:00.000Z', customerId: c2, dealId: grows },
      ]);
      expect(tasks.every((task) => String(task.reason).startsWith('rule "call-the-lead" on Deal'))).toBe(true);
      // Below 500: the customer is enrolled in the nurture campaign (once per customer), never a task.
      const enrolled = ofType(events, 'CustomerEnrolled').map((e) => e.data as Record<string, unknown>);
      expect(enrolled.map((e) => [e.customerId, e.campaign])).toEqual([
        [c1, 'nurture'],
        [c2, 'nurture'],
      ]);
      expect(tasks.some((task) => task.dealId === small || task.dealId === tiny)).toBe(false);
      // The enrolment shows on the customer, filters the list, and is on the timeline.
      const nurtured = await client(t, 'manager').latest('/customers?campaign=nurture');
      // By name: Ada, then Bob.
      expect(nurtured.body.items.map((c: { id: string; campaigns: string[] }) => [c.id, c.campaigns])).toEqual([
        [c1, ['nurture']],
        [c2, ['nurture']],
      ]);
      expect((await api.get('/customers?campaign=winback')).body.total).toBe(0);
      expect((await api.get('/customers?campaign=')).status).toBe(400);
      const timeline = (await api.get(`/customers/${c1}/timeline?limit=50`)).body.items as Array<{ kind: string; details: object }>;
      expect(timeline.filter((e) => e.kind === 'campaign').map((e) => e.details)).toEqual([
        { campaign: 'nurture', reason: expect.any(String) },
      ]);
      expect(timeline.filter((e) => e.kind === 'task').map((e) => e.details)).toEqual([
        expect.objectContaining({ subject: 'Call the lead', dealId: big, ownerId: 'rep-1' }),
      ]);
      const listed = await client(t, 'manager').latest('/tasks?ownerId=rep-1');
      expect(listed.body.items.map((task: { subject: string; dealId: string }) => [task.subject, task.dealId])).toEqual([
        ['Call the lead', big],
      ]);
      expect(listed.body.items[0].reason).toMatch(/^rule "call-the-lead" on DealOpened /);

      // Stalled: opened 10 days ago in qualification (limit 7 days) → one task for its owner; the next check adds none.
      const stale = await open(c1, 20, 'rep-1', new Date(Date.now() - 10 * DAY).toISOString());
      await settle(t);
      const stall = t.app.get(StallProcessManager);
      expect(await stall.sweep()).toBe(5); // the deals above were opened in March 2024: all stalled in qualification
      expect(await stall.sweep()).toBe(0);
      const stallTasks = ofType(await allEvents(t), 'TaskCreated').filter((e) =>
        String((e.data as { reason: string }).reason).startsWith('stalled'),
      );
      expect(stallTasks.map((e) => (e.data as { dealId: string }).dealId).sort()).toEqual([big, small, grows, tiny, stale].sort());
      expect(stallTasks.find((e) => (e.data as { dealId: string }).dealId === stale)!.data).toMatchObject({
        ownerId: 'rep-1',
        subject: 'Deal stalled in qualification for more than 7 days',
      });
      const pipeline = await client(t, 'analyst').latest('/reports/pipeline');
      expect(pipeline.body.stages.map((s: { stage: string; deals: number; stalled: number }) => [s.stage, s.deals, s.stalled])).toEqual([
        ['qualification', 5, 5],
        ['proposal', 0, 0],
      ]);

      // Exactly once: a re-run from position 0 (the stall check included) appends nothing.
      const before = await allEvents(t);
      t = await rerunFromScratch(t, env());
      expect(await t.app.get(StallProcessManager).sweep()).toBe(0);
      const after = await allEvents(t);
      expect(after.map((e) => e.eventId)).toEqual(before.map((e) => e.eventId));
    });

    it('lead scoring: re-scored on every interaction with reasons, sorted by score, judged by band against conversions', async () => {
      const api = client(t, 'manager');
      const capture = async (name: string, attributes: Record<string, unknown>) =>
        (await api.post('/leads', { name, source: 'web', attributes })).body.id as string;
      const hot = await capture('Hot', { industry: 'software', jobTitle: 'Chief Revenue Officer', companySize: 500 }); // 15 + 15 + 10 = 40
      const cold = await capture('Cold', { industry: 'retail' }); // 0
      const warm = await capture('Warm', { region: 'emea' }); // 5
      const now = Date.now();
      // Two form submissions: one just now (10), one 30 days ago (half-life 30 days: 5).
      expect(
        (await api.post(`/leads/${hot}/interactions`, { type: 'form-submission', occurredAt: new Date(now - 30 * DAY).toISOString() }))
          .status,
      ).toBe(201);
      expect(
        (await api.post(`/leads/${hot}/interactions`, { type: 'form-submission', occurredAt: new Date(now).toISOString() })).status,
      ).toBe(201);
      expect((await api.post(`/leads/${warm}/interactions`, { type: 'email-replied' })).status).toBe(201);
      expect((await api.post(`/leads/${warm}/interactions`, { type: 'fax' })).status).toBe(400);
      await settle(t);
      const scored = (await t.events(`lead-${hot}`))
        .filter((e) => e.type === 'LeadScored')
        .map((e) => e.data as { score: number; reasons: string[] });
      expect(scored.map((s) => s.score)).toEqual([40, 50, 55]);
      expect(scored[2].reasons).toEqual([
        'industry in [software, saas, fintech]: +15',
        'jobTitle contains "chief": +15',
        'companySize ≥ 200: +10',
        'form-submission ×2: +15',
      ]);
      const list = await api.latest('/leads?sort=-score&limit=3');
      expect(list.body.items.map((l: { id: string; score: number }) => [l.id, l.score])).toEqual([
        [hot, 55],
        [warm, 13],
        [cold, 0],
      ]);

      await api.post(`/leads/${hot}/convert`, {});
      const from = new Date(now - DAY).toISOString();
      const to = new Date(now + DAY).toISOString();
      const bands = await client(t, 'analyst').latest(`/reports/lead-scores?from=${from}&to=${to}`);
      expect(bands.status).toBe(200);
      expect(bands.body.bands).toEqual(
        [
          { band: 'cold', min: 0, leads: 2, converted: 0, conversionRate: 0 },
          { band: 'warm', min: 30, leads: 0, converted: 0, conversionRate: null },
          { band: 'hot', min: 60, leads: 0, converted: 0, conversionRate: null },
          { band: 'unscored', min: null, leads: 0, converted: 0, conversionRate: null },
        ].map((b) => (b.band === 'warm' ? { ...b, leads: 1, converted: 1, conversionRate: 1 } : b)),
      );
    });

    it('goals: POST /goals validates (400 naming the field), GET /goals/:id shows the progress, GET /reports/goals lists them', async () => {
      const api = client(t, 'manager');
      expect((await api.post('/goals', { kpi: 'happiness', target: 1, deadline: '2030-01-01T00:00:00Z' })).body.message).toMatch(/kpi/);
      expect((await api.post('/goals', { kpi: 'winRate', target: -1, deadline: '2030-01-01T00:00:00Z' })).status).toBe(400);
      const past = await api.post('/goals', { kpi: 'winRate', target: 0.5, deadline: '2020-01-01T00:00:00Z' });
      expect([past.status, past.body.message]).toEqual([400, expect.stringMatching(/deadline/)]);
      const segment = await api.post('/goals', { kpi: 'cac', target: 10, deadline: '2030-01-01T00:00:00Z', segment: { owner: 'rep-1' } });
      expect([segment.status, segment.body.message]).toEqual([400, expect.stringMatching(/segment\.owner/)]);
      expect((await client(t, 'analyst').post('/goals', { kpi: 'cac', target: 10, deadline: '2030-01-01T00:00:00Z' })).status).toBe(403);

      // Set on Mar 1 2024 for March (31 days; baseline: the 31 days before); the deals above were opened in March, none won: revenue 0.
      const created = await api.post('/goals', {
        kpi: 'newRevenue',
        target: 1000,
        deadline: '2024-04-01T00:00:00Z',
        name: 'March revenue',
        occurredAt: '2024-03-01T08:00:00Z',
      });
      expect(created.status).toBe(201);
      expect(created.body.streamId).toBe(`goal-${created.body.id}`);
      const view = await api.get(`/goals/${created.body.id}?asOf=2024-03-16T12:00:00Z&minPosition=${created.body.position}`);
      expect(view.status).toBe(200);
      expect(view.body).toMatchObject({
        id: created.body.id,
        name: 'March revenue',
        kpi: 'newRevenue',
        target: 1000,
        baseline: { from: '2024-01-30T00:00:00.000Z', to: '2024-03-01T00:00:00.000Z', value: 0 },
        current: { from: '2024-03-01T00:00:00.000Z', to: '2024-03-16T12:00:00.000Z', value: 0 },
        projected: 0,
        status: 'off-track',
        elapsed: 0.5,
      });
      expect((await api.get(`/goals/${randomUUID()}`)).status).toBe(404);
      expect((await api.get(`/goals/${created.body.id}?asOf=yesterday`)).status).toBe(400);
      const report = await client(t, 'analyst').latest('/reports/goals');
      expect(report.body.goals.map((g: { id: string; status: string }) => [g.id, g.status])).toEqual([[created.body.id, 'missed']]);
    });
  });

  it('a bad rules file stops start-up with a message naming the variable and the line', async () => {
    const rules = file(
      'bad-rules.json',
      '{\n  "rules": [\n    { "name": "typo", "on": ["DealOpenned"], "then": [{ "action": "tag", "tag": "x" }] }\n  ]\n}\n',
    );
    const child = spawn(process.execPath, ['-r', '@swc-node/register', 'apps/api/src/main.ts'], {
      cwd: resolve(__dirname, '../..'),
      env: { ...process.env, RULES_FILE: rules, DATA_DIR: configDir, PORT: '0', LOG_LEVEL: 'silent' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk) => (stderr += chunk));
    const code = await new Promise<number | null>((done) => child.on('exit', (c) => done(c)));
    expect(code).toBe(2);
    expect(stderr).toContain(
      `Invalid configuration: RULES_FILE="${rules}": line 3: rules[0]: "typo": on: "DealOpenned" is not an event type`,
    );
  });
});
