import { Inject, Injectable, Optional } from '@nestjs/common';
import { collectDefaultMetrics, Gauge, Registry } from 'prom-client';
import type { EventStore } from '@chronicle/event-store';
import { KafkaRelay, registerRelayMetrics } from '@chronicle/messaging';
import { ReadModels } from '@chronicle/projector';
import { EVENT_STORE } from '@chronicle/shared';

/**
 * This app's Prometheus registry (one per app, not prom-client's global one, so several apps in
 * one process — the e2e tests — never collide): process metrics, the event store's head, each
 * projection's lag, and the relay's metrics when it runs in this process.
 */
@Injectable()
export class MetricsRegistry {
  readonly registry = new Registry();
  private defaultsCollected = false;

  constructor(
    @Inject(EVENT_STORE) store: EventStore,
    readModels: ReadModels,
    @Optional() @Inject(KafkaRelay) relay?: KafkaRelay | null,
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
    if (relay) registerRelayMetrics(this.registry, relay);
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
