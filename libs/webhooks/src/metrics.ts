import { Gauge, Registry } from 'prom-client';
import type { DeliveryCounters, WebhookDelivery } from './webhook-delivery';

/**
 * The delivery's own figures, in the process that holds the webhooks role (since it took it). Each
 * subscription's lag is cluster-wide: `chronicle_role_lag_events{role="webhook:<id>"}`.
 */
export function registerWebhookMetrics(registry: Registry, delivery: WebhookDelivery): void {
  const gauge = (name: string, help: string, value: (c: DeliveryCounters) => number) =>
    new Gauge({
      name,
      help,
      labelNames: ['subscription'],
      registers: [registry],
      collect() {
        this.reset();
        for (const [subscription, counters] of delivery.counters) this.set({ subscription }, value(counters));
      },
    });
  gauge(
    'chronicle_webhook_delivered_events',
    'Events delivered (2xx) per subscription by this process since it took the webhooks role',
    (c) => c.delivered,
  );
  gauge(
    'chronicle_webhook_failed_attempts',
    'Failed delivery attempts (non-2xx, timeout, refused) per subscription by this process',
    (c) => c.failedAttempts,
  );
  gauge('chronicle_webhook_dead_letters', 'Batches this process moved to a subscription’s dead letters', (c) => c.deadLetters);
}
