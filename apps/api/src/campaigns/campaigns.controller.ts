import { Body, Controller, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiCreatedResponse, ApiTags } from '@nestjs/swagger';
import { randomUUID } from 'node:crypto';
import { CampaignMessage, CommandContext } from '@chronicle/commands';
import { RequiresAccess } from '../auth/access';
import { Context } from '../http/command-context.decorator';
import { CommandResponse } from '../http/command-response';
import { CommandSender, compact } from '../http/command-sender';
import { LaunchCampaignDto, RecordSpendDto } from './campaign.dto';

@ApiTags('campaigns')
@ApiBearerAuth()
@Controller()
export class CampaignsController {
  constructor(private readonly commands: CommandSender) {}

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
