import { DynamicModule, Inject, Logger, Module, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import type { CheckpointStore, RoleCoordinator } from '@chronicle/cluster';
import type { EventStore } from '@chronicle/event-store';
import { ChronicleConfig, COORDINATOR, SEALED_EVENT_STORE, STATE_STORE } from '@chronicle/infrastructure';
import { DEFAULT_RELAY_CHECKPOINT, KafkaRelay } from '../kafka-relay';

/** The group of roles relay processes share: one role, one active relay, the others standing by. */
export const RELAY_GROUP = 'relay';

/**
 * Thin wiring: the Kafka relay as a role of this process (apps/relay, or the embedded `npm start`
 * when KAFKA_BROKERS is set), started by the RoleCoordinator when this process holds the role.
 * Needs SEALED_EVENT_STORE, STATE_STORE and COORDINATOR. Exports the KafkaRelay for status and metrics.
 */
@Module({})
export class RelayModule implements OnModuleInit, OnModuleDestroy {
  constructor(
    @Inject(KafkaRelay) private readonly relay: KafkaRelay,
    @Inject(COORDINATOR) private readonly coordinator: RoleCoordinator,
  ) {}

  static forRoot(config: ChronicleConfig): DynamicModule {
    const logger = new Logger('Relay');
    return {
      module: RelayModule,
      providers: [
        {
          provide: KafkaRelay,
          // The sealed store: personal fields travel on Kafka encrypted (docs/personal-data.md).
          inject: [SEALED_EVENT_STORE, STATE_STORE],
          useFactory: (events: EventStore, checkpoints: CheckpointStore) =>
            new KafkaRelay(events, checkpoints, {
              brokers: config.kafkaBrokers,
              topicPrefix: config.kafkaTopicPrefix,
              topicPartitions: config.kafkaTopicPartitions,
              replicationFactor: config.kafkaReplicationFactor,
              log: (level, message) => {
                if (level === 'info') logger.log(message);
                else if (level === 'warn') logger.warn(message);
                else if (level === 'error') logger.error(message);
                else logger.debug(message);
              },
            }),
        },
      ],
      exports: [KafkaRelay],
    };
  }

  // Registered while modules initialise; relaying starts (in the background, even while the broker
  // is unreachable) once the coordinator holds the role.
  onModuleInit(): void {
    this.relay.onLost = (reason) => this.coordinator.lost(DEFAULT_RELAY_CHECKPOINT, reason);
    this.coordinator.register(DEFAULT_RELAY_CHECKPOINT, RELAY_GROUP, this.relay.runner);
  }

  // Before InfrastructureModule closes the event store (onApplicationShutdown).
  async onModuleDestroy(): Promise<void> {
    await this.coordinator.stop();
    await this.relay.stop();
  }
}
