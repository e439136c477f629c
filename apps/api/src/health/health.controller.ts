import { Controller, Get, Inject } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { HealthCheck, HealthCheckService, HealthIndicatorService } from '@nestjs/terminus';
import type { EventStore } from '@chronicle/event-store';
import { EVENT_STORE } from '@chronicle/infrastructure';
import { Public } from '../auth/access';
import { ClusterStatus } from '../cluster/cluster-status';

/** How long /health waits for the shared state (roles stopped on an event) before answering without it. */
const ROLES_TIMEOUT_MS = 1000;

@ApiTags('operations')
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly indicator: HealthIndicatorService,
    @Inject(EVENT_STORE) private readonly store: EventStore,
    private readonly cluster: ClusterStatus,
  ) {}

  /**
   * Open without credentials, for load balancers and orchestrators. 503 when the event store cannot
   * be reached (this process can take no command). A projection or process manager stopped on an
   * event does not take the API out of rotation: 200 with `status: "degraded"` and the failed roles
   * in `info.roles.failed` (their details in GET /projections); the same when the shared state
   * cannot be read in time (`info.roles.unknown`).
   */
  @Get()
  @Public()
  @HealthCheck()
  async check() {
    const result = await this.health.check([
      async () => {
        const check = this.indicator.check('eventStore');
        try {
          return check.up({ headPosition: await this.store.headPosition() });
        } catch (error) {
          return check.down({ message: (error as Error).message });
        }
      },
      async () => {
        // Always "up": a failed role degrades the answer, it never makes it a 503.
        const check = this.indicator.check('roles');
        try {
          const failed = await this.withTimeout(this.cluster.failedRoles());
          return check.up({ failed: [...new Set(failed.map((f) => f.role))].sort() });
        } catch (error) {
          return check.up({ failed: [], unknown: `the shared state could not be read: ${(error as Error).message}` });
        }
      },
    ]);
    const roles = result.info?.roles as { failed: string[]; unknown?: string } | undefined;
    return roles && (roles.failed.length > 0 || roles.unknown) ? { ...result, status: 'degraded' as const } : result;
  }

  private withTimeout<T>(promise: Promise<T>): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>(
      (_, reject) => (timer = setTimeout(() => reject(new Error(`no answer within ${ROLES_TIMEOUT_MS} ms`)), ROLES_TIMEOUT_MS)),
    );
    return Promise.race([promise, late]).finally(() => clearTimeout(timer));
  }
}
