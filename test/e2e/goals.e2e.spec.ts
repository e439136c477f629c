import { randomUUID } from 'node:crypto';
import { client, expectNothingAppended } from '../support/http';
import { startTestApp, TestApp } from '../support/test-app';

/**
 * Goals over HTTP: the same record scope as every other record (a rep sets, reads and cancels only
 * goals on its own figures), deadlines within what a goal's figures can be computed over, goals
 * stored before that limit still answered, and cancellation.
 */

let t: TestApp;
let manager: ReturnType<typeof client>;
let rep: ReturnType<typeof client>;

beforeAll(async () => {
  t = await startTestApp();
  manager = client(t, 'manager');
  rep = client(t, 'rep');
});
afterAll(() => t?.close());

const deadline = new Date(Date.now() + 90 * 86_400_000).toISOString();

describe('goals', () => {
  it('a rep sets only goals segmented on its own owner id (403 otherwise, nothing appended)', async () => {
    const own = await rep.post('/goals', { kpi: 'winRate', target: 0.5, deadline, segment: { owner: t.actors.rep } });
    expect(own.status).toBe(201);
    for (const body of [
      { kpi: 'winRate', target: 0.5, deadline },
      { kpi: 'newRevenue', target: 1000, deadline, segment: { owner: 'someone-else' } },
      { kpi: 'churnRate', target: 0.1, deadline },
      { kpi: 'cac', target: 100, deadline, segment: { channel: 'web' } },
    ]) {
      const refused = await expectNothingAppended(t, () => rep.post('/goals', body));
      expect([refused.status, refused.body.message]).toEqual([403, expect.stringContaining('segment.owner')]);
    }
  });

  it("a rep reads only goals on its own figures: another owner's or the company's are a 403", async () => {
    const own = (await rep.post('/goals', { kpi: 'newRevenue', target: 1000, deadline, segment: { owner: t.actors.rep } })).body;
    const company = (await manager.post('/goals', { kpi: 'winRate', target: 0.3, deadline })).body;
    const other = (await manager.post('/goals', { kpi: 'newRevenue', target: 5000, deadline, segment: { owner: 'someone-else' } })).body;
    const head = `minPosition=${other.position}`;
    expect((await rep.get(`/goals/${own.id}?${head}`)).status).toBe(200);
    const refused = await rep.get(`/goals/${company.id}?${head}`);
    expect([refused.status, refused.body.message]).toEqual([403, expect.stringContaining("the whole company's figures")]);
    expect((await rep.get(`/goals/${other.id}?${head}`)).body).toMatchObject({
      statusCode: 403,
      message: expect.stringContaining("someone else's figures"),
    });
    // Managers and analysts see every goal; a missing goal is still a 404 for a rep.
    expect((await manager.get(`/goals/${other.id}?${head}`)).status).toBe(200);
    expect((await client(t, 'analyst').get(`/goals/${company.id}?${head}`)).status).toBe(200);
    expect((await rep.get(`/goals/${randomUUID()}`)).status).toBe(404);
  });

  it('a deadline more than 3653 days after the goal is set is a 400 naming the field', async () => {
    const far = await expectNothingAppended(t, () =>
      manager.post('/goals', { kpi: 'churnRate', target: 0.05, deadline: '2041-01-01T00:00:00Z' }),
    );
    expect([far.status, far.body.message]).toEqual([400, expect.stringMatching(/^deadline: .*3653 days/)]);
  });

  it('goals stored before that limit (deadline decades ahead) are answered, never a 500', async () => {
    // As a store written before the limit holds them: appended without the decider.
    const ids: string[] = [];
    for (const kpi of ['churnRate', 'cac', 'conversionRate', 'salesCycleDays', 'newRevenue', 'winRate']) {
      const goalId = randomUUID();
      ids.push(goalId);
      const occurredAt = new Date().toISOString();
      await t.store.append(`goal-${goalId}`, [
        {
          eventId: randomUUID(),
          type: 'GoalSet',
          data: { goalId, kpi, target: 0.1, deadline: '2041-06-30T00:00:00.000Z' },
          metadata: { occurredAt, actor: 'manager-user', correlationId: randomUUID(), causationId: randomUUID() },
        },
      ]);
    }
    for (const id of ids) {
      const view = await manager.latest(`/goals/${id}`);
      expect([view.status, view.body.deadline]).toEqual([200, '2041-06-30T00:00:00.000Z']);
    }
    const report = await client(t, 'analyst').latest('/reports/goals');
    expect(report.status).toBe(200);
    expect(report.body.goals.filter((g: { id: string }) => ids.includes(g.id))).toHaveLength(ids.length);
  });

  it('POST /goals/:id/cancel withdraws a goal (GoalCancelled): shown as cancelled, once, by whom and why', async () => {
    const goal = (await manager.post('/goals', { kpi: 'winRate', target: 0.4, deadline, name: 'Q3 win rate' })).body;
    const cancelled = await manager.post(`/goals/${goal.id}/cancel`, { reason: 'territories redrawn' });
    expect([cancelled.status, cancelled.body.revision]).toEqual([200, 1]);
    expect((await t.events(`goal-${goal.id}`)).map((e) => [e.type, e.data])).toEqual([
      ['GoalSet', expect.objectContaining({ goalId: goal.id })],
      ['GoalCancelled', { goalId: goal.id, reason: 'territories redrawn' }],
    ]);
    const view = await manager.get(`/goals/${goal.id}?minPosition=${cancelled.body.position}`);
    expect(view.body).toMatchObject({
      status: 'cancelled',
      projected: null,
      cancelled: { by: t.actors.manager, reason: 'territories redrawn', at: expect.any(String) },
    });
    const report = await client(t, 'analyst').latest('/reports/goals');
    expect(report.body.goals.find((g: { id: string }) => g.id === goal.id)).toMatchObject({ status: 'cancelled' });

    const again = await expectNothingAppended(t, () => manager.post(`/goals/${goal.id}/cancel`, {}));
    expect([again.status, again.body.message]).toEqual([422, expect.stringContaining('was cancelled')]);
    expect((await manager.post(`/goals/${randomUUID()}/cancel`, {})).status).toBe(404);
  });

  it("a rep cancels its own goals, not the company's", async () => {
    const own = (await rep.post('/goals', { kpi: 'winRate', target: 0.5, deadline, segment: { owner: t.actors.rep } })).body;
    const company = (await manager.post('/goals', { kpi: 'winRate', target: 0.3, deadline })).body;
    const refused = await expectNothingAppended(t, () => rep.post(`/goals/${company.id}/cancel`, {}));
    expect(refused.status).toBe(403);
    expect((await rep.post(`/goals/${own.id}/cancel`, {})).status).toBe(200);
  });
});
