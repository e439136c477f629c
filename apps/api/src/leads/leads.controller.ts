import { streamIdOf } from '@chronicle/domain';
import { Body, Controller, Delete, Get, HttpCode, Post, Query, Req } from '@nestjs/common';
import { QueryBus } from '@nestjs/cqrs';
import { ApiBearerAuth, ApiCreatedResponse, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { randomUUID } from 'node:crypto';
import { CommandContext, LeadMessage } from '@chronicle/commands';
import { RequiresAccess } from '../auth/access';
import type { AuthenticatedRequest } from '../auth/api-key.guard';
import { assertMayRead, ownerScopeOf, scopedOwnerFilter } from '../auth/ownership';
import { PersonalData } from '../auth/personal-data';
import { Context } from '../http/command-context.decorator';
import { CommandResponse } from '../http/command-response';
import { CommandSender, compact } from '../http/command-sender';
import { ListLeadsQuery } from '../read/list-queries.dto';
import { found, ReadModelQuery } from '../read/read-queries';
import { AssignLeadDto, CaptureLeadDto, ConvertLeadDto, DisqualifyLeadDto, LogLeadInteractionDto, QualifyLeadDto } from './lead.dto';
import { IdParam } from '../http/ids';
import { AnswersCsv } from '../http/csv';
import { ArchiveDto } from '../http/archive.dto';

const Id = () => IdParam();

@ApiTags('leads')
@ApiBearerAuth()
@Controller('leads')
export class LeadsController {
  constructor(
    private readonly commands: CommandSender,
    private readonly queries: QueryBus,
  ) {}

  /** Filter by status, source, owner and campaign; newest first by default (the leads read model). */
  @Get()
  @AnswersCsv({ list: 'items', file: 'leads' })
  @RequiresAccess('read')
  @PersonalData('page')
  list(@Query() query: ListLeadsQuery, @Req() request: AuthenticatedRequest) {
    return this.queries.execute(new ReadModelQuery('leads', { ...query, ownerId: scopedOwnerFilter(request, query.ownerId) }));
  }

  @Get(':id')
  @RequiresAccess('read')
  @PersonalData('record')
  async get(@Id() leadId: string, @Req() request: AuthenticatedRequest) {
    const lead = found(await this.queries.execute(new ReadModelQuery('lead', leadId)), streamIdOf('lead', leadId));
    assertMayRead(request, streamIdOf('lead', leadId), lead.ownerId);
    return lead;
  }

  @Post()
  @RequiresAccess('write')
  @ApiCreatedResponse({ type: CommandResponse })
  capture(@Body() dto: CaptureLeadDto, @Context() context: CommandContext, @Req() request: AuthenticatedRequest) {
    const { id, occurredAt: _, ownerId, ...lead } = dto;
    const data = compact({ leadId: id ?? randomUUID(), ...lead });
    // A rep's lead is its own; others capture unassigned leads unless they name an owner.
    const owner = ownerId ?? ownerScopeOf(request.principal);
    return this.commands.send(new LeadMessage({ type: 'CaptureLead', data, occurredAt: this.commands.occurredAt(dto) }, context, owner));
  }

  @Post(':id/qualify')
  @HttpCode(200)
  @RequiresAccess('write')
  @ApiOkResponse({ type: CommandResponse })
  qualify(@Id() leadId: string, @Body() dto: QualifyLeadDto, @Context() context: CommandContext) {
    return this.commands.send(
      new LeadMessage({ type: 'QualifyLead', data: { leadId }, occurredAt: this.commands.occurredAt(dto) }, context),
    );
  }

  @Post(':id/disqualify')
  @HttpCode(200)
  @RequiresAccess('write')
  @ApiOkResponse({ type: CommandResponse })
  disqualify(@Id() leadId: string, @Body() dto: DisqualifyLeadDto, @Context() context: CommandContext) {
    const data = { leadId, reason: dto.reason };
    return this.commands.send(new LeadMessage({ type: 'DisqualifyLead', data, occurredAt: this.commands.occurredAt(dto) }, context));
  }

  @Post(':id/convert')
  @HttpCode(200)
  @RequiresAccess('write')
  @ApiOkResponse({ type: CommandResponse, description: 'The lead; the customer it became is `customer-<customerId>` in its audit trail' })
  convert(@Id() leadId: string, @Body() dto: ConvertLeadDto, @Context() context: CommandContext) {
    const data = { leadId, customerId: dto.customerId ?? randomUUID() };
    return this.commands.send(new LeadMessage({ type: 'ConvertLead', data, occurredAt: this.commands.occurredAt(dto) }, context));
  }

  /** Reassigns the lead (`LeadAssigned`): managers and admins only. */
  @Post(':id/assign')
  @HttpCode(200)
  @RequiresAccess('manage')
  @ApiOkResponse({ type: CommandResponse })
  assign(@Id() leadId: string, @Body() dto: AssignLeadDto, @Context() context: CommandContext) {
    const data = { leadId, ownerId: dto.ownerId, strategy: 'manual' };
    return this.commands.send(new LeadMessage({ type: 'AssignLead', data, occurredAt: this.commands.occurredAt(dto) }, context));
  }

  /** Archives the lead (`LeadArchived`): it leaves `GET /leads` (unless `?archived=true`); managers and admins only. */
  @Post(':id/archive')
  @HttpCode(200)
  @RequiresAccess('manage')
  @ApiOkResponse({ type: CommandResponse })
  archive(@Id() leadId: string, @Body() dto: ArchiveDto, @Context() context: CommandContext) {
    const data = compact({ leadId, reason: dto.reason });
    return this.commands.send(new LeadMessage({ type: 'ArchiveLead', data, occurredAt: this.commands.occurredAt(dto) }, context));
  }

  /** Restores an archived lead (`LeadRestored`): listed again; managers and admins only. */
  @Post(':id/restore')
  @HttpCode(200)
  @RequiresAccess('manage')
  @ApiOkResponse({ type: CommandResponse })
  restore(@Id() leadId: string, @Body() dto: ArchiveDto, @Context() context: CommandContext) {
    const data = compact({ leadId, reason: dto.reason });
    return this.commands.send(new LeadMessage({ type: 'RestoreLead', data, occurredAt: this.commands.occurredAt(dto) }, context));
  }

  /** Crypto-shredding of a lead's personal data (see `DELETE /customers/:id/personal-data`). */
  @Delete(':id/personal-data')
  @HttpCode(200)
  @RequiresAccess('erase')
  @ApiOkResponse({ type: CommandResponse })
  erase(@Id() leadId: string, @Context() context: CommandContext) {
    const command = { type: 'EraseLeadPersonalData' as const, data: { leadId }, occurredAt: this.commands.occurredAt({}) };
    return this.commands.send(new LeadMessage(command, context));
  }

  /** Lead behaviour for scoring; the scoring process manager re-scores the lead on it. */
  @Post(':id/interactions')
  @RequiresAccess('write')
  @ApiCreatedResponse({ type: CommandResponse })
  logInteraction(@Id() leadId: string, @Body() dto: LogLeadInteractionDto, @Context() context: CommandContext) {
    const data = compact({ leadId, interactionId: dto.id ?? randomUUID(), type: dto.type, subject: dto.subject });
    return this.commands.send(new LeadMessage({ type: 'LogLeadInteraction', data, occurredAt: this.commands.occurredAt(dto) }, context));
  }
}
