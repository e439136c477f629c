import { DynamicModule, Global, Inject, Module, OnApplicationShutdown } from '@nestjs/common';
import { join } from 'node:path';
import type { EventStore } from '@chronicle/event-store';
import { RelayModule } from '@chronicle/messaging';
import { ChronicleConfig, CONFIG, createSealedEventStore, SEALED_EVENT_STORE, SqliteStateStore, STATE_STORE } from '@chronicle/shared';

/**
 * Only the ports the relay needs — the event store and the checkpoint store — rather than the
 * whole InfrastructureModule: the relay never opens the read store (no MongoDB connection).
 */
@Global()
@Module({})
class RelayInfrastructureModule implements OnApplicationShutdown {
  constructor(
    @Inject(SEALED_EVENT_STORE) private readonly eventStore: EventStore,
    @Inject(STATE_STORE) private readonly stateStore: SqliteStateStore,
  ) {}

  static forRoot(config: ChronicleConfig): DynamicModule {
    return {
      module: RelayInfrastructureModule,
      providers: [
        { provide: CONFIG, useValue: config },
        // Sealed: personal fields travel on Kafka encrypted, and the relay needs no keys.
        { provide: SEALED_EVENT_STORE, useFactory: () => createSealedEventStore(config) },
        { provide: STATE_STORE, useFactory: () => new SqliteStateStore(join(config.dataDir, 'state.db')) },
      ],
      exports: [CONFIG, SEALED_EVENT_STORE, STATE_STORE],
    };
  }

  // After RelayModule stopped the relay (onModuleDestroy runs first).
  async onApplicationShutdown(): Promise<void> {
    await this.eventStore.close();
    this.stateStore.close();
  }
}

/** The relay process: the event store's feed to Kafka, no HTTP. */
@Module({})
export class RelayAppModule {
  static forRoot(config: ChronicleConfig): DynamicModule {
    return {
      module: RelayAppModule,
      imports: [RelayInfrastructureModule.forRoot(config), RelayModule.forRoot(config)],
    };
  }
}
