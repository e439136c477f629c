import { DynamicModule, Inject, Logger, Module, OnModuleDestroy, OnModuleInit, Optional } from '@nestjs/common';
import type { CheckpointStore, RoleCoordinator } from '@chronicle/cluster';
import type { EventStore } from '@chronicle/event-store';
import { ChronicleConfig, COORDINATOR, SEALED_EVENT_STORE, STATE_STORE } from '@chronicle/infrastructure';
import { WebhookUrlPolicy } from '../url-policy';
import { createWebhookStore } from './webhook-store.factory';
import { WebhookDelivery, WEBHOOKS_ROLE } from '../webhook-delivery';
import type { WebhookStore } from '../webhook-store';

export const WEBHOOK_STORE = Symbol('WebhookStore');
/** The background consumers' group the role belongs to (shared with the projections and process managers). */
export const WEBHOOKS_GROUP = 'projector';

/**
 * Thin wiring: the webhook store and URL policy for the API's routes, and — where the background
 * consumers run (`deliver`) — the delivery as the `webhooks` role, started by the RoleCoordinator
 * when this process holds it. Needs SEALED_EVENT_STORE (personal fields travel sealed, as on
 * Kafka), STATE_STORE and COORDINATOR.
 */
@Module({})
export class WebhooksModule implements OnModuleInit, OnModuleDestroy {
  constructor(
    @Inject(WEBHOOK_STORE) private readonly store: WebhookStore,
    @Inject(COORDINATOR) private readonly coordinator: RoleCoordinator,
    @Optional() @Inject(WebhookDelivery) private readonly delivery?: WebhookDelivery | null,
  ) {}

  static forRoot(config: ChronicleConfig, options: { deliver: boolean }): DynamicModule {
    const logger = new Logger('Webhooks');
    const settings = config.webhooks;
    return {
      module: WebhooksModule,
      providers: [
        { provide: WEBHOOK_STORE, useFactory: () => createWebhookStore(config) },
        { provide: WebhookUrlPolicy, useValue: new WebhookUrlPolicy(settings.allowedHosts) },
        ...(options.deliver
          ? [
              {
                provide: WebhookDelivery,
                inject: [SEALED_EVENT_STORE, STATE_STORE, WEBHOOK_STORE, WebhookUrlPolicy],
                useFactory: (events: EventStore, checkpoints: CheckpointStore, store: WebhookStore, policy: WebhookUrlPolicy) =>
                  new WebhookDelivery(events, checkpoints, store, {
                    policy,
                    maxAttempts: settings.maxAttempts,
                    retryBaseMs: settings.retryBaseMs,
                    retryMaxMs: settings.retryMaxMs,
                    timeoutMs: settings.timeoutMs,
                    batchSize: settings.batchSize,
                    log: (level, message) => {
                      if (level === 'info') logger.log(message);
                      else if (level === 'warn') logger.warn(message);
                      else if (level === 'error') logger.error(message);
                      else logger.debug(message);
                    },
                  }),
              },
            ]
          : []),
      ],
      exports: [WEBHOOK_STORE, WebhookUrlPolicy, ...(options.deliver ? [WebhookDelivery] : [])],
    };
  }

  onModuleInit(): void {
    if (!this.delivery) return;
    this.delivery.onLost = (reason) => this.coordinator.lost(WEBHOOKS_ROLE, reason);
    this.coordinator.register(WEBHOOKS_ROLE, WEBHOOKS_GROUP, this.delivery.runner);
  }

  // Before InfrastructureModule closes the stores (onApplicationShutdown).
  async onModuleDestroy(): Promise<void> {
    await this.delivery?.stop();
    await this.store.close();
  }
}
