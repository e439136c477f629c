import { Body, Controller, Get, Post, Query } from '@nestjs/common';
import { QueryBus } from '@nestjs/cqrs';
import { ApiBearerAuth, ApiCreatedResponse, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { randomUUID } from 'node:crypto';
import { CampaignMessage, CommandContext } from '@chronicle/commands';
import { RequiresAccess } from '../auth/access';
import { Context } from '../http/command-context.decorator';
import { CommandResponse } from '../http/command-response';
import { CommandSender, compact } from '../http/command-sender';
import { AnswersCsv } from '../http/csv';
import { ListCampaignsQuery } from '../read/list-queries.dto';
import { ReadModelQuery } from '../read/read-queries';
import { LaunchCampaignDto, RecordSpendDto } from './campaign.dto';

@ApiTags('campaigns')
@ApiBearerAuth()
@Controller()
export class CampaignsController {
  constructor(
    private readonly commands: CommandSender,
    private readonly queries: QueryBus,
  ) {}

  /**
   * Campaigns with their lifetime figures (the campaigns read model). `read`, not `manage`: whoever
   * reads records may see the campaigns their leads name. Campaigns have no owner, so the list is the
   * same for every role (a rep's is not narrowed) and holds no personal data (nothing to mask).
   */
  @Get('campaigns')
  @AnswersCsv({ list: 'items', file: 'campaigns' })
  @RequiresAccess('read')
  @ApiOkResponse({ description: '{ items, total, limit, offset }; figures as in docs/reports.md "campaigns", over all time' })
  list(@Query() query: ListCampaignsQuery) {
    return this.queries.execute(new ReadModelQuery('campaigns', query));
  }

  @Post('campaigns')
  @RequiresAccess('manage')
  @ApiCreatedResponse({ type: CommandResponse })
  launch(@Body() dto: LaunchCampaignDto, @Context() context: CommandContext) {
    const { id, occurredAt: _, ...campaign } = dto;
    const data = compact({ campaignId: id ?? randomUUID(), ...campaign });
    return this.commands.send(new CampaignMessage({ type: 'LaunchCampaign', data, occurredAt: this.commands.occurredAt(dto) }, context));
  }

  @Post('spend')
  @RequiresAccess('manage')
  @ApiCreatedResponse({ type: CommandResponse, description: 'Stored in the campaign stream, or in spend-<channel> (spend-unattributed)' })
  spend(@Body() dto: RecordSpendDto, @Context() context: CommandContext) {
    const { id, occurredAt: _, ...spend } = dto;
    const data = compact({ spendId: id ?? randomUUID(), ...spend });
    return this.commands.send(new CampaignMessage({ type: 'RecordSpend', data, occurredAt: this.commands.occurredAt(dto) }, context));
  }
}
