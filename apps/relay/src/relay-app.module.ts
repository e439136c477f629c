import { DynamicModule, Global, Inject, Module, OnApplicationBootstrap, OnApplicationShutdown, OnModuleDestroy } from '@nestjs/common';
import type { RoleCoordinator, StateStore } from '@chronicle/cluster';
import type { EventStore } from '@chronicle/event-store';
import { RelayModule } from '@chronicle/messaging';
import {
  ChronicleConfig,
  clusterProviders,
  CONFIG,
  COORDINATOR,
  createSealedEventStore,
  SEALED_EVENT_STORE,
  STATE_STORE,
} from '@chronicle/infrastructure';

/**
 * Only the ports the relay needs — the event store, the state store (checkpoint, lease) and the
 * coordinator — rather than the whole InfrastructureModule: the relay never opens the read store.
 */
@Global()
@Module({})
class RelayInfrastructureModule implements OnApplicationBootstrap, OnModuleDestroy, OnApplicationShutdown {
  constructor(
    @Inject(SEALED_EVENT_STORE) private readonly eventStore: EventStore,
    @Inject(STATE_STORE) private readonly stateStore: StateStore,
    @Inject(COORDINATOR) private readonly coordinator: RoleCoordinator,
  ) {}

  static forRoot(config: ChronicleConfig): DynamicModule {
    return {
      module: RelayInfrastructureModule,
      providers: [
        { provide: CONFIG, useValue: config },
        // Sealed: personal fields travel on Kafka encrypted, and the relay needs no keys.
        { provide: SEALED_EVENT_STORE, useFactory: () => createSealedEventStore(config) },
        ...clusterProviders(config),
      ],
      exports: [CONFIG, SEALED_EVENT_STORE, STATE_STORE, COORDINATOR],
    };
  }

  async onApplicationBootstrap(): Promise<void> {
    await this.coordinator.start();
  }

  async onModuleDestroy(): Promise<void> {
    await this.coordinator.stop();
  }

  // After RelayModule stopped the relay (onModuleDestroy runs first).
  async onApplicationShutdown(): Promise<void> {
    await this.eventStore.close();
    await this.stateStore.close();
  }
}

/** The relay process: the event store's feed to Kafka, no HTTP. One relay holds the role; others stand by. */
@Module({})
export class RelayAppModule {
  static forRoot(config: ChronicleConfig): DynamicModule {
    return {
      module: RelayAppModule,
      imports: [RelayInfrastructureModule.forRoot(config), RelayModule.forRoot(config)],
    };
  }
}
