import request from 'supertest';
import { randomUUID } from 'node:crypto';
import type { RecordedEvent } from '@chronicle/event-store';
import { startTestApp, TestApp } from '../support/test-app';

/**
 * One projection that throws on an event (here `goals`, on a GoalSet imported without a goal id)
 * stops alone: every other read model goes on past it, and the API says which projection is stopped
 * on which event (GET /projections, /metrics, /health) until an operator skips the event.
 */
describe('a read model stopped on an event it cannot project', () => {
  let t: TestApp;
  let poison: RecordedEvent;
  beforeAll(async () => {
    t = await startTestApp();
    const streamId = `goal-${randomUUID()}`;
    // Straight into the store, as a faulty import would: no command would accept it.
    await t.store.append(streamId, [
      {
        eventId: randomUUID(),
        type: 'GoalSet',
        data: { kpi: 'revenue', target: 1000 },
        metadata: { occurredAt: new Date().toISOString(), actor: 'importer', correlationId: 'import-1', causationId: 'import-1' },
      },
    ]);
    [poison] = await t.events(streamId);
  }, 60_000);
  afterAll(() => t?.close());

  const get = (path: string) => request(t.http).get(path).set(t.as('manager'));
  const projection = async (name: string) =>
    (await get('/projections').expect(200)).body.projections.find((p: { name: string }) => p.name === name);
  async function until<T>(what: string, check: () => Promise<T | undefined | false>, timeoutMs = 30_000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const value = await check();
      if (value) return value;
      if (Date.now() > deadline) throw new Error(`not reached in ${timeoutMs} ms: ${what}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  it('a new record is readable (200) while goals is failed; GET /projections shows the event, the error and the attempts, rising', async () => {
    const created = (await request(t.http).post('/customers').set(t.as('manager')).send({ name: 'Ada', source: 'web' }).expect(201)).body;
    // Read-your-writes waits for the live projections, not for the failed one.
    expect((await get(`/customers/${created.id}?minPosition=${created.position}`).expect(200)).body).toMatchObject({
      id: created.id,
      name: 'Ada',
    });

    const goals = await until('goals failed twice', async () => {
      const p = await projection('goals');
      return p.status === 'failed' && p.failure.attempts >= 2 && p;
    });
    expect(goals).toMatchObject({
      role: 'projection:goals',
      status: 'failed',
      failure: {
        eventId: poison.eventId,
        eventType: 'GoalSet',
        position: poison.globalPosition,
        error: expect.stringMatching(/goals: a document id must be a non-empty string/),
        firstFailedAt: expect.any(String),
        lastFailedAt: expect.any(String),
        nextRetryAt: expect.any(String),
      },
    });
    expect(goals.checkpoint).toBeLessThan(poison.globalPosition);
    // Every other projection is live past the event.
    const others = (await get('/projections').expect(200)).body.projections.filter((p: { name: string }) => p.name !== 'goals');
    for (const p of others)
      expect([p.name, p.status, p.failure, p.checkpoint >= created.position]).toEqual([p.name, 'live', undefined, true]);
  });

  it('/health stays 200 but says degraded, naming the role; /metrics shows it failed with its attempts', async () => {
    const health = await request(t.http).get('/health').expect(200);
    expect(health.body).toMatchObject({
      status: 'degraded',
      info: { eventStore: { status: 'up' }, roles: { status: 'up', failed: ['projection:goals'] } },
    });
    // The details (error messages, event ids) are not public: they are in GET /projections.
    expect(JSON.stringify(health.body)).not.toContain(poison.eventId);

    const metrics = (await request(t.http).get('/metrics').set(t.as('service')).expect(200)).text;
    expect(metrics).toMatch(/^chronicle_projection_failed\{projection="goals"\} 1$/m);
    expect(metrics).toMatch(/^chronicle_projection_failed\{projection="customers"\} 0$/m);
    expect(Number(/^chronicle_projection_failure_attempts\{projection="goals"\} (\d+)$/m.exec(metrics)?.[1])).toBeGreaterThanOrEqual(2);
    expect(metrics).toMatch(/^chronicle_role_failed\{role="projection:goals"\} 1$/m);
    expect(metrics).toMatch(/^chronicle_role_failed\{role="process-manager:acquisition"\} 0$/m);
  });

  it('refuses, with a message naming the problem, a skip of another event, a retry of a role that is not failed, a skip without a reason, an unknown name', async () => {
    const operate = (path: string, body?: object) =>
      request(t.http)
        .post(path)
        .set(t.as('manager'))
        .send(body ?? {});
    const other = await operate('/projections/goals/skip', { eventId: randomUUID(), reason: 'wrong one' }).expect(409);
    expect(other.body).toMatchObject({
      code: 'other-event',
      message: expect.stringContaining(
        `projection:goals is stopped on event ${poison.eventId} (GoalSet at position ${poison.globalPosition})`,
      ),
    });
    expect(other.body.message).toContain('only the event it is stopped on may be skipped');
    expect((await operate('/projections/customers/retry').expect(409)).body).toMatchObject({
      code: 'not-stopped',
      message: 'projection:customers is not stopped on any event: there is nothing to retry',
    });
    expect(
      (await operate('/projections/process-manager:acquisition/skip', { eventId: poison.eventId, reason: 'x' }).expect(409)).body.code,
    ).toBe('not-stopped');
    expect((await operate('/projections/goals/skip', { eventId: poison.eventId }).expect(400)).body.message).toMatch(/reason/);
    expect((await operate('/projections/no-such-thing/retry').expect(404)).body.message).toMatch(
      /no projection or process manager "no-such-thing"/,
    );
    await request(t.http).post('/projections/goals/skip').set(t.as('analyst')).send({ eventId: poison.eventId, reason: 'x' }).expect(403);
  });

  it('a retry reaches the projection at once (the event fails again: attempts rise)', async () => {
    const before = (await projection('goals')).failure.attempts;
    expect((await request(t.http).post('/projections/goals/retry').set(t.as('admin')).expect(202)).body).toEqual({
      projection: 'goals',
      status: 'retry requested',
      progress: '/projections',
    });
    await until('another attempt', async () => (await projection('goals')).failure?.attempts > before);
    expect((await projection('goals')).status).toBe('failed');
  });

  it('a skip of that event unblocks it, recorded with who and why; health and metrics are back to normal', async () => {
    const res = await request(t.http)
      .post('/projections/goals/skip')
      .set(t.as('manager'))
      .send({ eventId: poison.eventId, reason: 'imported without a goal id; set again by hand' })
      .expect(202);
    expect(res.body).toEqual({ projection: 'goals', status: 'skip requested', eventId: poison.eventId, progress: '/projections' });
    const head = await t.store.headPosition();
    const goals = await until('goals live at the head', async () => {
      const p = await projection('goals');
      return p.status === 'live' && p.checkpoint >= head && p;
    });
    expect(goals.failure).toBeUndefined();
    expect(goals.skipped).toEqual([
      {
        eventId: poison.eventId,
        eventType: 'GoalSet',
        position: poison.globalPosition,
        error: expect.stringMatching(/a document id must be a non-empty string/),
        reason: 'imported without a goal id; set again by hand',
        skippedBy: t.actors.manager,
        skippedAt: expect.any(String),
        version: 1,
      },
    ]);
    expect((await request(t.http).get('/health').expect(200)).body).toMatchObject({ status: 'ok', info: { roles: { failed: [] } } });
    const metrics = (await request(t.http).get('/metrics').set(t.as('service')).expect(200)).text;
    expect(metrics).toMatch(/^chronicle_projection_failed\{projection="goals"\} 0$/m);
    expect(metrics).toMatch(/^chronicle_projection_failure_attempts\{projection="goals"\} 0$/m);
    // A skip is only for the event it names: skipping it again is refused, as nothing is stopped.
    await request(t.http)
      .post('/projections/goals/skip')
      .set(t.as('manager'))
      .send({ eventId: poison.eventId, reason: 'again' })
      .expect(409);
  });
});
