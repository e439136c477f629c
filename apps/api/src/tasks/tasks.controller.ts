import { streamIdOf } from '@chronicle/domain';
import { Body, Controller, Get, HttpCode, Patch, Post, Query, Req } from '@nestjs/common';
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
import { AssignOwnerDto } from '../customers/customer.dto';
import { CancelTaskDto, CompleteTaskDto, CreateTaskDto, UpdateTaskDto } from './task.dto';
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

  /** An owner's open, completed or cancelled tasks, soonest due first by default (the tasks read model). */
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

  /** Edits an open task's subject and/or due date (`TaskUpdated`); a rep only its own tasks. */
  @Patch(':id')
  @RequiresAccess('write')
  @ApiOkResponse({ type: CommandResponse })
  update(@IdParam() taskId: string, @Body() dto: UpdateTaskDto, @Context() context: CommandContext) {
    const dueAt = dto.dueAt === undefined ? undefined : isoInstant('dueAt', dto.dueAt);
    const data = compact({ taskId, subject: dto.subject, dueAt });
    return this.commands.send(new TaskMessage({ type: 'UpdateTask', data, occurredAt: this.commands.occurredAt(dto) }, context));
  }

  /** Cancels an open task (`TaskCancelled`): closed without being done; a rep only its own tasks. */
  @Post(':id/cancel')
  @HttpCode(200)
  @RequiresAccess('write')
  @ApiOkResponse({ type: CommandResponse })
  cancel(@IdParam() taskId: string, @Body() dto: CancelTaskDto, @Context() context: CommandContext) {
    const data = compact({ taskId, reason: dto.reason });
    return this.commands.send(new TaskMessage({ type: 'CancelTask', data, occurredAt: this.commands.occurredAt(dto) }, context));
  }

  /** Reassigns an open task (`TaskReassigned`): managers and admins only. */
  @Post(':id/owner')
  @HttpCode(200)
  @RequiresAccess('manage')
  @ApiOkResponse({ type: CommandResponse })
  assignOwner(@IdParam() taskId: string, @Body() dto: AssignOwnerDto, @Context() context: CommandContext) {
    const data = { taskId, ownerId: dto.ownerId };
    return this.commands.send(new TaskMessage({ type: 'ReassignTask', data, occurredAt: this.commands.occurredAt(dto) }, context));
  }
}
