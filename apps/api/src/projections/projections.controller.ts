import { Body, ConflictException, Controller, Get, HttpCode, NotFoundException, Param, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { FailureRequestAction, FailureRequestRefused } from '@chronicle/cluster';
import { processManagerRoles } from '@chronicle/commands';
import { ReadModels } from '@chronicle/projector';
import { RequiresAccess } from '../auth/access';
import { ClusterStatus } from '../cluster/cluster-status';
import { Actor } from '../http/command-context.decorator';
import { SkipEventDto } from './skip-event.dto';

@ApiTags('operations')
@ApiBearerAuth()
@Controller('projections')
export class ProjectionsController {
  constructor(
    private readonly readModels: ReadModels,
    private readonly cluster: ClusterStatus,
  ) {}

  /**
   * Each projection's checkpoint, lag behind the event store's head, status (live / building /
   * rebuilding / failed, with the event it is stopped on and the events skipped) and holder (the
   * process working its role: worker, host, pid, fencing token, since when); the same for the
   * process managers; and the processes of the cluster.
   */
  @Get()
  @RequiresAccess('audit')
  async list() {
    const [projectorRunning, projections, processManagers, workers] = await Promise.all([
      this.readModels.projectorAlive(),
      this.cluster.projections(),
      this.cluster.processManagers(),
      this.cluster.workers(),
    ]);
    return { projectorRunning, projections, processManagers, workers };
  }

  /** Rebuilds a projection from position 0 into a fresh generation; the current one serves until the swap. */
  @Post(':name/rebuild')
  @HttpCode(202)
  @RequiresAccess('operate')
  async rebuild(@Param('name') name: string, @Actor() actor: string) {
    const known = (await this.readModels.info()).map((p) => p.name);
    if (!known.includes(name)) throw new NotFoundException(`no projection "${name}"; projections: ${known.join(', ')}`);
    await this.readModels.requestRebuild(name, actor);
    return { projection: name, status: 'rebuild requested', progress: '/projections' };
  }

  /**
   * A projection or process manager (`process-manager:<name>`) stopped on an event attempts it again
   * now, rather than at its next attempt; 409 when it is not stopped on any event.
   */
  @Post(':name/retry')
  @HttpCode(202)
  @RequiresAccess('operate')
  async retry(@Param('name') name: string, @Actor() actor: string) {
    await this.request(name, 'retry', actor);
    return { projection: name, status: 'retry requested', progress: '/projections' };
  }

  /**
   * A projection or process manager stopped on an event passes over it: recorded with who and why
   * (`skipped` in GET /projections). Only the event it is stopped on may be skipped (409 otherwise).
   */
  @Post(':name/skip')
  @HttpCode(202)
  @RequiresAccess('operate')
  async skip(@Param('name') name: string, @Body() body: SkipEventDto, @Actor() actor: string) {
    await this.request(name, 'skip', actor, body);
    return { projection: name, status: 'skip requested', eventId: body.eventId, progress: '/projections' };
  }

  /** Leaves the request for whichever process works the role, once it is known to apply. */
  private async request(name: string, action: FailureRequestAction, actor: string, skip?: SkipEventDto): Promise<void> {
    const projections = (await this.readModels.info()).map((p) => p.name);
    const processManagers: readonly string[] = processManagerRoles;
    try {
      if (projections.includes(name))
        await this.readModels.requestFailureAction(name, action, actor, skip && { eventId: skip.eventId, reason: skip.reason });
      else if (processManagers.includes(name))
        await this.cluster.requestProcessManagerAction(name, action, actor, skip && { eventId: skip.eventId, reason: skip.reason });
      else
        throw new NotFoundException(
          `no projection or process manager "${name}"; projections: ${projections.join(', ')}; process managers: ${processManagers.join(', ')}`,
        );
    } catch (error) {
      if (error instanceof FailureRequestRefused) throw new ConflictException({ message: error.message, code: error.code });
      throw error;
    }
  }
}
