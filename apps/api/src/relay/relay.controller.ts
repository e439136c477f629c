import { Controller, Get, Inject, Optional } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { KafkaRelay } from '@chronicle/messaging';
import { ChronicleConfig, CONFIG } from '@chronicle/infrastructure';
import { RequiresAccess } from '../auth/access';
import { ClusterStatus } from '../cluster/cluster-status';

@ApiTags('operations')
@ApiBearerAuth()
@Controller('relay')
export class RelayController {
  constructor(
    @Inject(CONFIG) private readonly config: ChronicleConfig,
    private readonly cluster: ClusterStatus,
    @Optional() @Inject(KafkaRelay) private readonly relay?: KafkaRelay | null,
  ) {}

  /**
   * The Kafka relay: `lease` is the relay role as the cluster shares it (holder with its fencing
   * token and since when, stored checkpoint, lag behind the head), wherever it runs; when this
   * process relays, its own figures too (events/s, broker connection, last error).
   */
  @Get()
  @RequiresAccess('audit')
  async status() {
    if (this.config.kafkaBrokers.length === 0) return { running: false, reason: 'KAFKA_BROKERS is not set: the relay is off' };
    const lease = await this.cluster.relay();
    if (this.relay) {
      const here = await this.relay.status();
      if (here.state !== 'stopped') return { running: true, ...here, lease };
      return { running: false, reason: 'this process stands by: another relay process holds the relay role', lease };
    }
    return {
      running: false,
      reason: 'the relay runs in its own process (apps/relay), not in this API process (RUN_PROJECTOR=false)',
      lease,
    };
  }
}
