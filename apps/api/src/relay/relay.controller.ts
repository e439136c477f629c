import { Controller, Get, Inject, Optional } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { KafkaRelay } from '@chronicle/messaging';
import { ChronicleConfig, CONFIG } from '@chronicle/shared';
import { RequiresAccess } from '../auth/access';

@ApiTags('operations')
@ApiBearerAuth()
@Controller('relay')
export class RelayController {
  constructor(
    @Inject(CONFIG) private readonly config: ChronicleConfig,
    @Optional() @Inject(KafkaRelay) private readonly relay?: KafkaRelay | null,
  ) {}

  /** The Kafka relay in this process: checkpoint, lag behind the event store's head, events/s, broker connection, last error. */
  @Get()
  @RequiresAccess('audit')
  async status() {
    if (this.relay) return { running: true, ...(await this.relay.status()) };
    const reason =
      this.config.kafkaBrokers.length === 0
        ? 'KAFKA_BROKERS is not set: the relay is off'
        : 'the relay runs in its own process (apps/relay), not in this API process (RUN_PROJECTOR=false)';
    return { running: false, reason };
  }
}
