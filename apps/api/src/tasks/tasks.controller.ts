import { streamIdOf } from '@chronicle/domain';
import { Body, Controller, Get, HttpCode, Post, Query, Req } from '@nestjs/common';
import { QueryBus } from '@nestjs/cqrs';
import { ApiBearerAuth, ApiCreatedResponse, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { randomUUID } from 'node:crypto';
import { CommandContext, TaskMessage } from '@chronicle/commands';
import { RequiresAccess } from '../auth/access';
import type { AuthenticatedRequest } from '../auth/api-key.guard';
import { assertMayRead, scopedOwnerFilter } from '../auth/ownership';
import { PersonalData } from '../auth/personal-data';
import { Context } from '../http/command-context.decorator';
import { CommandResponse } from '../http/command-response';
import { CommandSender, compact, isoInstant } from '../http/command-sender';
import { ListTasksQuery } from '../read/list-queries.dto';
import { found, ReadModelQuery } from '../read/read-queries';
import { CompleteTaskDto, CreateTaskDto } from './task.dto';
import { IdParam } from '../http/ids';
import { AnswersCsv } from '../http/csv';

@ApiTags('tasks')
@ApiBearerAuth()
@Controller('tasks')
export class TasksController {
  constructor(
    private readonly commands: CommandSender,
    private readonly queries: QueryBus,
  ) {}

  /** An owner's open or completed tasks, soonest due first by default (the tasks read model). */
  @Get()
  @AnswersCsv({ list: 'items', file: 'tasks' })
  @RequiresAccess('read')
  @PersonalData('taskPage')
  list(@Query() query: ListTasksQuery, @Req() request: AuthenticatedRequest) {
    return this.queries.execute(new ReadModelQuery('tasks', { ...query, ownerId: scopedOwnerFilter(request, query.ownerId) }));
  }

  @Get(':id')
  @RequiresAccess('read')
  @PersonalData('task')
  async get(@IdParam() taskId: string, @Req() request: AuthenticatedRequest) {
    const task = found(await this.queries.execute(new ReadModelQuery('task', taskId)), streamIdOf('task', taskId));
    assertMayRead(request, streamIdOf('task', taskId), task.ownerId);
    return task;
  }

  @Post()
  @RequiresAccess('write')
  @ApiCreatedResponse({ type: CommandResponse })
  create(@Body() dto: CreateTaskDto, @Context() context: CommandContext) {
    const { id, occurredAt: _, ownerId, dueAt, ...task } = dto;
    const data = compact({ taskId: id ?? randomUUID(), ownerId: ownerId ?? context.actor, dueAt: isoInstant('dueAt', dueAt), ...task });
    return this.commands.send(new TaskMessage({ type: 'CreateTask', data, occurredAt: this.commands.occurredAt(dto) }, context));
  }

  @Post(':id/complete')
  @HttpCode(200)
  @RequiresAccess('write')
  @ApiOkResponse({ type: CommandResponse })
  complete(@IdParam() taskId: string, @Body() dto: CompleteTaskDto, @Context() context: CommandContext) {
    const data = compact({ taskId, outcome: dto.outcome });
    return this.commands.send(new TaskMessage({ type: 'CompleteTask', data, occurredAt: this.commands.occurredAt(dto) }, context));
  }
}
