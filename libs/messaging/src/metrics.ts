import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { KafkaRelay, PublishedPage } from './kafka-relay';

/**
 * Registers the relay's Prometheus metrics in `registry`: lag and checkpoint are read when
 * scraped; published events and page latency are recorded as pages are acknowledged.
 */
export function registerRelayMetrics(registry: Registry, relay: KafkaRelay): void {
  new Gauge({
    name: 'chronicle_relay_lag_events',
    help: 'Events in the store not yet acknowledged by Kafka (head - relay checkpoint)',
    registers: [registry],
    async collect() {
      const status = await relay.status();
      this.set(status.lag);
    },
  });
  new Gauge({
    name: 'chronicle_relay_checkpoint_position',
    help: 'Global position of the last event acknowledged by Kafka',
    registers: [registry],
    collect() {
      this.set(relay.checkpoint);
    },
  });
  new Gauge({
    name: 'chronicle_relay_broker_connected',
    help: '1 while the last attempt to reach the Kafka broker succeeded',
    registers: [registry],
    async collect() {
      this.set((await relay.status()).connected ? 1 : 0);
    },
  });
  const published = new Counter({
    name: 'chronicle_relay_published_events_total',
    help: 'Events published to Kafka and acknowledged (duplicates from resends included)',
    registers: [registry],
  });
  const failures = new Counter({
    name: 'chronicle_relay_failed_attempts_total',
    help: 'Pages that failed and were resent from the checkpoint',
    registers: [registry],
  });
  const latency = new Histogram({
    name: 'chronicle_relay_batch_seconds',
    help: 'Time to publish one page of the feed until the broker acknowledged it and the checkpoint was stored',
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
  relay.on('published', (page: PublishedPage) => {
    published.inc(page.events);
    latency.observe(page.seconds);
  });
  relay.on('failed', () => failures.inc());
}
