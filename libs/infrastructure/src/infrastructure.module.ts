import { DynamicModule, Global, Inject, Module, OnApplicationBootstrap, OnApplicationShutdown, OnModuleDestroy } from '@nestjs/common';
import type { RoleCoordinator, StateStore } from '@chronicle/cluster';
import type { EventStore } from '@chronicle/event-store';
import { PersonalDataEventStore } from '@chronicle/personal-data';
import type { ReadStore } from '@chronicle/read-store';
import type { ChronicleConfig } from './config';
import { createEventStore } from './event-store.factory';
import { createReadStore } from './read-store.factory';
import { clusterProviders } from './state-store.factory';
import { CONFIG, COORDINATOR, EVENT_STORE, PIPELINE, READ_STORE, SEALED_EVENT_STORE, STATE_STORE } from './tokens';

/**
 * Thin wiring: the configuration and the adapters behind the ports, chosen by configuration, and
 * the RoleCoordinator. Roles are registered by the modules that work them (projector, process
 * managers, relay) while modules initialise; the coordinator joins the cluster once the app has
 * bootstrapped, and leaves it (releasing every lease) before the stores close.
 */
@Global()
@Module({})
export class InfrastructureModule implements OnApplicationBootstrap, OnModuleDestroy, OnApplicationShutdown {
  constructor(
    @Inject(EVENT_STORE) private readonly eventStore: EventStore,
    @Inject(STATE_STORE) private readonly stateStore: StateStore,
    @Inject(READ_STORE) private readonly readStore: ReadStore,
    @Inject(COORDINATOR) private readonly coordinator: RoleCoordinator,
  ) {}

  static forRoot(config: ChronicleConfig): DynamicModule {
    return {
      module: InfrastructureModule,
      providers: [
        { provide: CONFIG, useValue: config },
        { provide: PIPELINE, useValue: config.pipeline },
        { provide: EVENT_STORE, useFactory: () => createEventStore(config) },
        { provide: PersonalDataEventStore, useExisting: EVENT_STORE },
        { provide: SEALED_EVENT_STORE, useFactory: (events: PersonalDataEventStore) => events.sealed, inject: [EVENT_STORE] },
        { provide: READ_STORE, useFactory: () => createReadStore(config) },
        ...clusterProviders(config),
      ],
      exports: [CONFIG, PIPELINE, EVENT_STORE, PersonalDataEventStore, SEALED_EVENT_STORE, STATE_STORE, READ_STORE, COORDINATOR],
    };
  }

  async onApplicationBootstrap(): Promise<void> {
    if (this.coordinator.views().length > 0) await this.coordinator.start();
  }

  async onModuleDestroy(): Promise<void> {
    await this.coordinator.stop();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.eventStore.close();
    await this.readStore.close();
    await this.stateStore.close();
  }
}
