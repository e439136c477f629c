import { DynamicModule, Inject, Logger, Module, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import type { EventStore } from '@chronicle/event-store';
import { ChronicleConfig, CheckpointStore, SEALED_EVENT_STORE, STATE_STORE } from '@chronicle/shared';
import { KafkaRelay } from '../kafka-relay';

/**
 * Thin wiring: runs the Kafka relay in this process (apps/relay, or the embedded `npm start`
 * when KAFKA_BROKERS is set). Needs SEALED_EVENT_STORE and STATE_STORE (InfrastructureModule).
 * Exports the KafkaRelay for status and metrics.
 */
@Module({})
export class RelayModule implements OnApplicationBootstrap, OnModuleDestroy {
  constructor(@Inject(KafkaRelay) private readonly relay: KafkaRelay) {}

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

  // Started in the background: the app comes up even while the broker is unreachable.
  async onApplicationBootstrap(): Promise<void> {
    await this.relay.start();
  }

  // Before InfrastructureModule closes the event store (onApplicationShutdown).
  async onModuleDestroy(): Promise<void> {
    await this.relay.stop();
  }
}
