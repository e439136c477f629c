import request from 'supertest';
import { projections } from '@chronicle/projections';
import { startTestApp, TestApp } from '../support/test-app';

/** GET /metrics (Prometheus) and GET /relay with the relay off (KAFKA_BROKERS unset); the relay itself is in libs/messaging/src/kafka-relay.int.spec.ts. */
describe('operations: /metrics and /relay', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  }, 60_000);
  afterAll(() => t.close());

  it('serves Prometheus metrics to roles with audit access only', async () => {
    await request(t.http).get('/metrics').expect(401);
    await request(t.http).get('/metrics').set(t.as('rep')).expect(403);
    await request(t.http).post('/customers').set(t.as('rep')).send({ name: 'Ada', source: 'web' }).expect(201);
    const res = await request(t.http).get('/metrics').set(t.as('service')).expect(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(res.text).toMatch(/^chronicle_event_store_head_position [1-9]\d*$/m);
    expect(res.text).toMatch(/^# TYPE chronicle_projection_lag_events gauge$/m);
    for (const name of projections.map((p) => p.name))
      expect(res.text).toMatch(new RegExp(`^chronicle_projection_lag_events\\{projection="${name}"\\} \\d+$`, 'm'));
    expect(res.text).toMatch(/^process_cpu_user_seconds_total /m);
    expect(res.text).toMatch(/^nodejs_eventloop_lag_seconds /m);
    // No relay in this process: no relay series.
    expect(res.text).not.toMatch(/chronicle_relay_/);
    // A second scrape works too (default metrics are registered once).
    await request(t.http).get('/metrics').set(t.as('admin')).expect(200);
  });

  it("shows every role's holder, fencing token and lag: this process holds them all (GET /projections, /metrics)", async () => {
    const { position } = (await request(t.http).post('/customers').set(t.as('manager')).send({ name: 'Bea', source: 'web' }).expect(201))
      .body;
    const body = (await request(t.http).get(`/projections?minPosition=${position}`).set(t.as('service')).expect(200)).body;
    const pid = process.pid; // the test app runs in this process
    expect(body.projections.map((p: { name: string }) => p.name)).toEqual(projections.map((p) => p.name));
    for (const p of body.projections) {
      expect(p).toMatchObject({ role: `projection:${p.name}`, status: 'live', holder: { token: 1, pid, released: false } });
      expect(Date.parse(p.holder.since)).not.toBeNaN();
    }
    // AUTOMATION is off in this suite: only the acquisition process manager runs.
    expect(body.processManagers).toEqual([
      {
        role: 'process-manager:acquisition',
        status: 'live',
        holder: expect.objectContaining({ token: 1, pid }),
        checkpoint: expect.any(Number),
        lag: expect.any(Number),
      },
    ]);
    expect(body.workers).toEqual([
      expect.objectContaining({
        pid,
        groups: ['projector'],
        roles: expect.arrayContaining(['projection:customers', 'process-manager:acquisition']),
      }),
    ]);
    const metrics = (await request(t.http).get('/metrics').set(t.as('service')).expect(200)).text;
    expect(metrics).toMatch(/^chronicle_role_fencing_token\{role="projection:customers"\} 1$/m);
    expect(metrics).toMatch(/^chronicle_role_lease_changes\{role="process-manager:acquisition"\} 0$/m);
    expect(metrics).toMatch(/^chronicle_role_lag_events\{role="projection:deals"\} \d+$/m);
    expect(metrics).toMatch(/^chronicle_cluster_workers\{group="projector"\} 1$/m);
    // Nothing is stopped on an event: every projection and process manager reports 0.
    expect(metrics).toMatch(/^chronicle_role_failed\{role="process-manager:acquisition"\} 0$/m);
    for (const name of projections.map((p) => p.name))
      expect(metrics).toMatch(new RegExp(`^chronicle_projection_failed\\{projection="${name}"\\} 0$`, 'm'));
  });

  it('reports the relay as off when KAFKA_BROKERS is not set', async () => {
    await request(t.http).get('/relay').set(t.as('analyst')).expect(403);
    const res = await request(t.http).get('/relay').set(t.as('service')).expect(200);
    expect(res.body).toEqual({ running: false, reason: expect.stringMatching(/KAFKA_BROKERS/) });
  });
});
