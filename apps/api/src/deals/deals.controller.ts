import { streamIdOf } from '@chronicle/domain';
import { Body, Controller, Get, HttpCode, Patch, Post, Query, Req } from '@nestjs/common';
import { QueryBus } from '@nestjs/cqrs';
import { ApiBearerAuth, ApiCreatedResponse, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { randomUUID } from 'node:crypto';
import { CommandContext, DealMessage } from '@chronicle/commands';
import { RequiresAccess } from '../auth/access';
import type { AuthenticatedRequest } from '../auth/api-key.guard';
import { assertMayRead, ownerScopeOf, scopedOwnerFilter } from '../auth/ownership';
import { AsOfQuery, AssignOwnerDto } from '../customers/customer.dto';
import { Context } from '../http/command-context.decorator';
import { CommandResponse } from '../http/command-response';
import { CommandSender, compact } from '../http/command-sender';
import { ListDealsQuery } from '../read/list-queries.dto';
import { found, ReadModelQuery } from '../read/read-queries';
import { AggregateViews } from '../streams/aggregate-views';
import { ChangeStageDto, LoseDealDto, OpenDealDto, ReopenDealDto, UpdateDealDto, WinDealDto } from './deal.dto';
import { IdParam } from '../http/ids';
import { AnswersCsv } from '../http/csv';
import { ArchiveDto } from '../http/archive.dto';

const Id = () => IdParam();

@ApiTags('deals')
@ApiBearerAuth()
@Controller('deals')
export class DealsController {
  constructor(
    private readonly commands: CommandSender,
    private readonly views: AggregateViews,
    private readonly queries: QueryBus,
  ) {}

  @Post()
  @RequiresAccess('write')
  @ApiCreatedResponse({ type: CommandResponse })
  open(@Body() dto: OpenDealDto, @Context() context: CommandContext) {
    const { id, occurredAt: _, ownerId, source, ...deal } = dto;
    // An empty source is filled with the customer's by the handler.
    const data = compact({ dealId: id ?? randomUUID(), ...deal, ownerId: ownerId ?? context.actor, source: source ?? '' });
    return this.commands.send(new DealMessage({ type: 'OpenDeal', data, occurredAt: this.commands.occurredAt(dto) }, context));
  }

  @Post(':id/stage')
  @HttpCode(200)
  @RequiresAccess('write')
  @ApiOkResponse({ type: CommandResponse })
  stage(@Id() dealId: string, @Body() dto: ChangeStageDto, @Context() context: CommandContext) {
    const data = { dealId, stage: dto.stage };
    return this.commands.send(new DealMessage({ type: 'ChangeDealStage', data, occurredAt: this.commands.occurredAt(dto) }, context));
  }

  @Patch(':id')
  @RequiresAccess('write')
  @ApiOkResponse({ type: CommandResponse })
  update(@Id() dealId: string, @Body() dto: UpdateDealDto, @Context() context: CommandContext) {
    const data = compact({ dealId, amount: dto.amount, expectedCloseDate: dto.expectedCloseDate });
    return this.commands.send(new DealMessage({ type: 'UpdateDeal', data, occurredAt: this.commands.occurredAt(dto) }, context));
  }

  @Post(':id/win')
  @HttpCode(200)
  @RequiresAccess('write')
  @ApiOkResponse({ type: CommandResponse })
  win(@Id() dealId: string, @Body() dto: WinDealDto, @Context() context: CommandContext) {
    return this.commands.send(new DealMessage({ type: 'WinDeal', data: { dealId }, occurredAt: this.commands.occurredAt(dto) }, context));
  }

  @Post(':id/lose')
  @HttpCode(200)
  @RequiresAccess('write')
  @ApiOkResponse({ type: CommandResponse })
  lose(@Id() dealId: string, @Body() dto: LoseDealDto, @Context() context: CommandContext) {
    const data = { dealId, reason: dto.reason };
    return this.commands.send(new DealMessage({ type: 'LoseDeal', data, occurredAt: this.commands.occurredAt(dto) }, context));
  }

  /**
   * Reopens a won or lost deal (`DealReopened`): open again from now, and the close it undoes leaves
   * every report (a deal counts by its last close; docs/reports.md). Managers and admins only.
   */
  @Post(':id/reopen')
  @HttpCode(200)
  @RequiresAccess('manage')
  @ApiOkResponse({ type: CommandResponse })
  reopen(@Id() dealId: string, @Body() dto: ReopenDealDto, @Context() context: CommandContext) {
    const data = compact({ dealId, stage: dto.stage, reason: dto.reason });
    return this.commands.send(new DealMessage({ type: 'ReopenDeal', data, occurredAt: this.commands.occurredAt(dto) }, context));
  }

  /** Reassigns the deal (`DealOwnerAssigned`): managers and admins only. */
  @Post(':id/owner')
  @HttpCode(200)
  @RequiresAccess('manage')
  @ApiOkResponse({ type: CommandResponse })
  assignOwner(@Id() dealId: string, @Body() dto: AssignOwnerDto, @Context() context: CommandContext) {
    const data = { dealId, ownerId: dto.ownerId };
    return this.commands.send(new DealMessage({ type: 'AssignDealOwner', data, occurredAt: this.commands.occurredAt(dto) }, context));
  }

  /** Archives the deal (`DealArchived`): it leaves `GET /deals` (unless `?archived=true`); managers and admins only. */
  @Post(':id/archive')
  @HttpCode(200)
  @RequiresAccess('manage')
  @ApiOkResponse({ type: CommandResponse })
  archive(@Id() dealId: string, @Body() dto: ArchiveDto, @Context() context: CommandContext) {
    const data = compact({ dealId, reason: dto.reason });
    return this.commands.send(new DealMessage({ type: 'ArchiveDeal', data, occurredAt: this.commands.occurredAt(dto) }, context));
  }

  /** Restores an archived deal (`DealRestored`): listed again; managers and admins only. */
  @Post(':id/restore')
  @HttpCode(200)
  @RequiresAccess('manage')
  @ApiOkResponse({ type: CommandResponse })
  restore(@Id() dealId: string, @Body() dto: ArchiveDto, @Context() context: CommandContext) {
    const data = compact({ dealId, reason: dto.reason });
    return this.commands.send(new DealMessage({ type: 'RestoreDeal', data, occurredAt: this.commands.occurredAt(dto) }, context));
  }

  /** Filter by customer, owner, stage and status; newest first by default (the deals read model); a rep's own deals only. */
  @Get()
  @AnswersCsv({ list: 'items', file: 'deals' })
  @RequiresAccess('read')
  list(@Query() query: ListDealsQuery, @Req() request: AuthenticatedRequest) {
    return this.queries.execute(new ReadModelQuery('deals', { ...query, ownerId: scopedOwnerFilter(request, query.ownerId) }));
  }

  /** The deal now (the deals read model); with `?asOf=` folded from the stream up to that instant. */
  @Get(':id')
  @RequiresAccess('read')
  async get(@Id() dealId: string, @Query() query: AsOfQuery, @Req() request: AuthenticatedRequest) {
    const streamId = streamIdOf('deal', dealId);
    if (query.asOf === undefined) {
      const deal = found(await this.queries.execute(new ReadModelQuery('deal', dealId)), streamId);
      assertMayRead(request, streamId, deal.ownerId);
      return deal;
    }
    const authorize =
      ownerScopeOf(request.principal) === undefined
        ? undefined
        : (current: { ownerId?: string }) => assertMayRead(request, streamId, current.ownerId);
    const view = await this.views.dealView(dealId, query.asOf, authorize);
    return { id: dealId, ...view };
  }
}
