import { Controller, Get, HttpCode, NotFoundException, Param, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { ReadModels } from '@chronicle/projector';
import { RequiresAccess } from '../auth/access';
import { Actor } from '../http/command-context.decorator';

@ApiTags('operations')
@ApiBearerAuth()
@Controller('projections')
export class ProjectionsController {
  constructor(private readonly readModels: ReadModels) {}

  /** Each projection's checkpoint, lag behind the event store's head, and status (live / building / rebuilding). */
  @Get()
  @RequiresAccess('audit')
  async list() {
    return { projectorRunning: await this.readModels.projectorAlive(), projections: await this.readModels.info() };
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
