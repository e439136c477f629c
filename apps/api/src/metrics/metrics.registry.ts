import { Inject, Injectable, Optional } from '@nestjs/common';
import { collectDefaultMetrics, Gauge, Registry } from 'prom-client';
import type { EventStore } from '@chronicle/event-store';
import { DEFAULT_RELAY_CHECKPOINT, KafkaRelay, registerRelayMetrics } from '@chronicle/messaging';
import { ReadModels } from '@chronicle/projector';
import { registerWebhookMetrics, WebhookDelivery } from '@chronicle/webhooks';
import { EVENT_STORE } from '@chronicle/infrastructure';
import { ClusterStatus } from '../cluster/cluster-status';

/**
 * This app's Prometheus registry (one per app, not prom-client's global one, so several apps in
 * one process — the e2e tests — never collide): process metrics, the event store's head, each
 * projection's lag and failure, every role's lease, lag and failure, and the relay's and the webhook
 * delivery's metrics when they run in this process.
 */
@Injectable()
export class MetricsRegistry {
  readonly registry = new Registry();
  private defaultsCollected = false;

  constructor(
    @Inject(EVENT_STORE) store: EventStore,
    readModels: ReadModels,
    cluster: ClusterStatus,
    @Optional() @Inject(KafkaRelay) relay?: KafkaRelay | null,
    @Optional() @Inject(WebhookDelivery) webhooks?: WebhookDelivery | null,
  ) {
    new Gauge({
      name: 'chronicle_event_store_head_position',
      help: 'Global position of the last event in the event store',
      registers: [this.registry],
      async collect() {
        this.set(await store.headPosition());
      },
    });
    new Gauge({
      name: 'chronicle_projection_lag_events',
      help: 'Events in the store not yet applied by a projection (head - checkpoint)',
      labelNames: ['projection'],
      registers: [this.registry],
      async collect() {
        for (const p of await readModels.info()) this.set({ projection: p.name }, p.lag);
      },
    });
    // Every role of the cluster, from the shared stores: the same on every API process.
    new Gauge({
      name: 'chronicle_role_fencing_token',
      help: "The fencing token of a role's current lease (it grows by one with every new holder)",
      labelNames: ['role'],
      registers: [this.registry],
      async collect() {
        this.reset();
        for (const [role, holder] of await cluster.leases()) this.set({ role }, holder.token);
      },
    });
    new Gauge({
      name: 'chronicle_role_lease_changes',
      help: 'How often a role has passed to another holder (its fencing token minus one)',
      labelNames: ['role'],
      registers: [this.registry],
      async collect() {
        this.reset();
        for (const [role, holder] of await cluster.leases()) this.set({ role }, holder.token - 1);
      },
    });
    new Gauge({
      name: 'chronicle_role_lag_events',
      help: "Events in the store after a role's checkpoint (projections, process managers, relay)",
      labelNames: ['role'],
      registers: [this.registry],
      async collect() {
        this.reset();
        for (const p of await cluster.projections()) this.set({ role: p.role }, p.lag);
        for (const c of await cluster.consumers()) this.set({ role: c.role }, c.lag);
      },
    });
    // A projection is failed while its live generation or its rebuild is stopped on an event.
    const projectionFailures = async () => {
      const failures = await readModels.failures();
      return readModels.projectionNames.map((name) => [name, Math.max(0, ...(failures.get(name) ?? []).map((f) => f.attempts))] as const);
    };
    new Gauge({
      name: 'chronicle_projection_failed',
      help: 'Whether a projection is stopped on an event it throws on (1) or not (0); details in GET /projections',
      labelNames: ['projection'],
      registers: [this.registry],
      async collect() {
        for (const [projection, attempts] of await projectionFailures()) this.set({ projection }, attempts > 0 ? 1 : 0);
      },
    });
    new Gauge({
      name: 'chronicle_projection_failure_attempts',
      help: 'Attempts so far at the event a projection is stopped on (0 when it is not)',
      labelNames: ['projection'],
      registers: [this.registry],
      async collect() {
        for (const [projection, attempts] of await projectionFailures()) this.set({ projection }, attempts);
      },
    });
    // Every role that can stop on an event: projections and process managers (not the relay).
    const roleFailures = async () => {
      const [failed, leases] = await Promise.all([cluster.failedRoles(), cluster.leases()]);
      const attempts = new Map<string, number>([...leases.keys()].filter((r) => r !== DEFAULT_RELAY_CHECKPOINT).map((r) => [r, 0]));
      for (const { role, failure } of failed) attempts.set(role, Math.max(attempts.get(role) ?? 0, failure.attempts));
      return attempts;
    };
    new Gauge({
      name: 'chronicle_role_failed',
      help: 'Whether a role (projection, process manager) is stopped on an event (1) or not (0)',
      labelNames: ['role'],
      registers: [this.registry],
      async collect() {
        this.reset();
        for (const [role, attempts] of await roleFailures()) this.set({ role }, attempts > 0 ? 1 : 0);
      },
    });
    new Gauge({
      name: 'chronicle_role_failure_attempts',
      help: 'Attempts so far at the event a role is stopped on (0 when it is not)',
      labelNames: ['role'],
      registers: [this.registry],
      async collect() {
        this.reset();
        for (const [role, attempts] of await roleFailures()) this.set({ role }, attempts);
      },
    });
    new Gauge({
      name: 'chronicle_cluster_workers',
      help: 'Processes heard from within two lease timeouts, per group of roles (projector, relay)',
      labelNames: ['group'],
      registers: [this.registry],
      async collect() {
        this.reset();
        const counts = new Map<string, number>();
        for (const w of await cluster.workers()) for (const g of w.groups) counts.set(g, (counts.get(g) ?? 0) + 1);
        for (const [group, n] of counts) this.set({ group }, n);
      },
    });
    if (relay) registerRelayMetrics(this.registry, relay);
    if (webhooks) registerWebhookMetrics(this.registry, webhooks);
  }

  async scrape(): Promise<string> {
    // Default process metrics start with the first scrape: no collectors in apps nobody scrapes.
    if (!this.defaultsCollected) {
      collectDefaultMetrics({ register: this.registry });
      this.defaultsCollected = true;
    }
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
