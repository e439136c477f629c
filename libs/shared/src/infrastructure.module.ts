import { DynamicModule, Global, Inject, Module, OnApplicationShutdown } from '@nestjs/common';
import { join } from 'node:path';
import type { EventStore } from '@chronicle/event-store';
import { PersonalDataEventStore } from '@chronicle/personal-data';
import type { ReadStore } from '@chronicle/read-store';
import type { ChronicleConfig } from './config';
import { createEventStore } from './event-store.factory';
import { createReadStore } from './read-store.factory';
import { SqliteStateStore } from './state-store';
import { CONFIG, EVENT_STORE, PIPELINE, READ_STORE, SEALED_EVENT_STORE, STATE_STORE } from './tokens';

/** Thin wiring: the configuration and the adapters behind the ports, chosen by configuration. */
@Global()
@Module({})
export class InfrastructureModule implements OnApplicationShutdown {
  constructor(
    @Inject(EVENT_STORE) private readonly eventStore: EventStore,
    @Inject(STATE_STORE) private readonly stateStore: SqliteStateStore,
    @Inject(READ_STORE) private readonly readStore: ReadStore,
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
        { provide: STATE_STORE, useFactory: () => new SqliteStateStore(join(config.dataDir, 'state.db')) },
        { provide: READ_STORE, useFactory: () => createReadStore(config) },
      ],
      exports: [CONFIG, PIPELINE, EVENT_STORE, PersonalDataEventStore, SEALED_EVENT_STORE, STATE_STORE, READ_STORE],
    };
  }

  async onApplicationShutdown(): Promise<void> {
    await this.eventStore.close();
    await this.readStore.close();
    this.stateStore.close();
  }
}
