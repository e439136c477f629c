import { BadRequestException, Body, Controller, Get, Param, ParseUUIDPipe, Post, Query } from '@nestjs/common';
import { QueryBus } from '@nestjs/cqrs';
import { ApiBearerAuth, ApiCreatedResponse, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { randomUUID } from 'node:crypto';
import { CommandContext, GoalMessage } from '@chronicle/commands';
import { parseIsoDateTime } from '@chronicle/domain';
import { RequiresAccess } from '../auth/access';
import { Context } from '../http/command-context.decorator';
import { CommandResponse } from '../http/command-response';
import { CommandSender, compact } from '../http/command-sender';
import { found } from '../read/read-queries';
import { GoalQueryDto, SetGoalDto } from './goal.dto';
import { GoalProgressQuery } from './goal.query';

const Id = () => Param('id', new ParseUUIDPipe());

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

  /** Baseline, current value (computed by the KPI's report), target, linear projection at the deadline, status. */
  @Get(':id')
  @RequiresAccess('read')
  async get(@Id() goalId: string, @Query() query: GoalQueryDto) {
    const asOfMs = query.asOf !== undefined ? parseIsoDateTime(query.asOf) : Date.now();
    if (Number.isNaN(asOfMs)) throw new BadRequestException('asOf: must be a valid ISO 8601 date or date-time');
    return found(await this.queries.execute(new GoalProgressQuery(goalId, asOfMs)), `goal-${goalId}`);
  }
}
