import { Controller, Get, HttpCode, NotFoundException, Param, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { ReadModels } from '@chronicle/projector';
import { RequiresAccess } from '../auth/access';
import { ClusterStatus } from '../cluster/cluster-status';
import { Actor } from '../http/command-context.decorator';

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
   * rebuilding) and holder (the process working its role: worker, host, pid, fencing token,
   * since when); the same for the process managers; and the processes of the cluster.
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
}
