import { BadRequestException, Body, Controller, ForbiddenException, Get, HttpCode, Post, Query, Req } from '@nestjs/common';
import { QueryBus } from '@nestjs/cqrs';
import { ApiBearerAuth, ApiCreatedResponse, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { randomUUID } from 'node:crypto';
import { CommandContext, GoalMessage } from '@chronicle/commands';
import { parseIsoDateTime, streamIdOf } from '@chronicle/domain';
import { RequiresAccess } from '../auth/access';
import type { AuthenticatedRequest } from '../auth/api-key.guard';
import { ownerScopeOf } from '../auth/ownership';
import { Context } from '../http/command-context.decorator';
import { CommandResponse } from '../http/command-response';
import { CommandSender, compact } from '../http/command-sender';
import { found } from '../read/read-queries';
import { CancelGoalDto, GoalQueryDto, SetGoalDto } from './goal.dto';
import { GoalProgressQuery } from './goal.query';
import { IdParam } from '../http/ids';

const Id = () => IdParam();

@ApiTags('goals')
@ApiBearerAuth()
@Controller('goals')
export class GoalsController {
  constructor(
    private readonly commands: CommandSender,
    private readonly queries: QueryBus,
  ) {}

  /** A SMART goal: a KPI, a target, a deadline and optionally a segment (GET /reports/goals lists them). */
  @Post()
  @RequiresAccess('write')
  @ApiCreatedResponse({ type: CommandResponse })
  set(@Body() dto: SetGoalDto, @Context() context: CommandContext) {
    const { id, occurredAt: _, segment, ...goal } = dto;
    const narrowed = segment ? compact({ ...segment }) : {};
    const data = compact({ goalId: id ?? randomUUID(), ...goal, ...(Object.keys(narrowed).length > 0 ? { segment: narrowed } : {}) });
    return this.commands.send(new GoalMessage({ type: 'SetGoal', data, occurredAt: this.commands.occurredAt(dto) }, context));
  }

  /** Withdraws a goal before its deadline (`GoalCancelled`); it stays listed, with status `cancelled`. */
  @Post(':id/cancel')
  @HttpCode(200)
  @RequiresAccess('write')
  @ApiOkResponse({ type: CommandResponse })
  cancel(@Id() goalId: string, @Body() dto: CancelGoalDto, @Context() context: CommandContext) {
    const data = compact({ goalId, reason: dto.reason });
    return this.commands.send(new GoalMessage({ type: 'CancelGoal', data, occurredAt: this.commands.occurredAt(dto) }, context));
  }

  /**
   * Baseline, current value (computed by the KPI's report), target, linear projection at the
   * deadline, status. A goal shows its segment's figures: a caller limited to its own records (a
   * rep) reads only goals segmented on its own owner id, as it sets only those.
   */
  @Get(':id')
  @RequiresAccess('read')
  async get(@Id() goalId: string, @Query() query: GoalQueryDto, @Req() request: AuthenticatedRequest) {
    const asOfMs = query.asOf !== undefined ? parseIsoDateTime(query.asOf) : Date.now();
    if (Number.isNaN(asOfMs)) throw new BadRequestException('asOf: must be a valid ISO 8601 date or date-time');
    const scope = ownerScopeOf(request.principal);
    const goal = found(await this.queries.execute(new GoalProgressQuery(goalId, asOfMs)), streamIdOf('goal', goalId));
    if (scope !== undefined && goal.segment?.owner !== scope) {
      throw new ForbiddenException(
        `${streamIdOf('goal', goalId)} shows ${goal.segment?.owner ? "someone else's" : "the whole company's"} figures; role "${request.principal!.role}" may only read goals on its own (segment.owner = "${scope}")`,
      );
    }
    return goal;
  }
}
