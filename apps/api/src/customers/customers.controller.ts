import { Body, Controller, Get, HttpCode, Inject, Param, ParseUUIDPipe, Patch, Post, Query, Req } from '@nestjs/common';
import { QueryBus } from '@nestjs/cqrs';
import { ApiBearerAuth, ApiCreatedResponse, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { randomUUID } from 'node:crypto';
import { CommandContext, CommandResult, CustomerMessage } from '@chronicle/commands';
import { ChronicleConfig, CONFIG } from '@chronicle/shared';
import { RequiresAccess } from '../auth/access';
import type { AuthenticatedRequest } from '../auth/api-key.guard';
import { PersonalData, refuseSearchWhenMasked } from '../auth/personal-data';
import { Context } from '../http/command-context.decorator';
import { CommandResponse } from '../http/command-response';
import { CommandSender, compact } from '../http/command-sender';
import { ListCustomersQuery, TimelineQuery } from '../read/list-queries.dto';
import { found, ReadModelQuery } from '../read/read-queries';
import { AggregateViews } from '../streams/aggregate-views';
import {
  AsOfQuery,
  ChurnCustomerDto,
  LogInteractionDto,
  ReactivateCustomerDto,
  RecordPurchaseDto,
  RegisterCustomerDto,
  UpdateCustomerDto,
} from './customer.dto';

const Id = () => Param('id', new ParseUUIDPipe());

@ApiTags('customers')
@ApiBearerAuth()
@Controller('customers')
export class CustomersController {
  constructor(
    private readonly commands: CommandSender,
    private readonly views: AggregateViews,
    private readonly queries: QueryBus,
    @Inject(CONFIG) private readonly config: ChronicleConfig,
  ) {}

  @Post()
  @RequiresAccess('write')
  @ApiCreatedResponse({ type: CommandResponse })
  register(@Body() dto: RegisterCustomerDto, @Context() context: CommandContext): Promise<CommandResult> {
    const { id, occurredAt: _, source, ownerId, ...profile } = dto;
    // With auto-assignment of customers on, one without an owner is left to the assignment process manager.
    const autoAssign = this.config.automation && this.config.assignment.strategy !== 'off' && this.config.assignment.customers;
    const data = compact({ customerId: id ?? randomUUID(), ...profile, source: source ?? 'direct', ownerId: ownerId ?? (autoAssign ? undefined : context.actor) });
    return this.commands.send(new CustomerMessage({ type: 'RegisterCustomer', data, occurredAt: this.commands.occurredAt(dto) }, context));
  }

  @Patch(':id')
  @RequiresAccess('write')
  @ApiOkResponse({ type: CommandResponse })
  update(@Id() customerId: string, @Body() dto: UpdateCustomerDto, @Context() context: CommandContext) {
    const { occurredAt: _, expectedRevision: __, ...changes } = dto;
    const data = compact({ customerId, ...changes });
    return this.commands.send(new CustomerMessage({ type: 'UpdateCustomerProfile', data, occurredAt: this.commands.occurredAt(dto) }, context));
  }

  @Post(':id/churn')
  @HttpCode(200)
  @RequiresAccess('write')
  @ApiOkResponse({ type: CommandResponse })
  churn(@Id() customerId: string, @Body() dto: ChurnCustomerDto, @Context() context: CommandContext) {
    const data = { customerId, reason: dto.reason };
    return this.commands.send(new CustomerMessage({ type: 'ChurnCustomer', data, occurredAt: this.commands.occurredAt(dto) }, context));
  }

  @Post(':id/reactivate')
  @HttpCode(200)
  @RequiresAccess('write')
  @ApiOkResponse({ type: CommandResponse })
  reactivate(@Id() customerId: string, @Body() dto: ReactivateCustomerDto, @Context() context: CommandContext) {
    const data = compact({ customerId, reason: dto.reason });
    return this.commands.send(new CustomerMessage({ type: 'ReactivateCustomer', data, occurredAt: this.commands.occurredAt(dto) }, context));
  }

  @Post(':id/purchases')
  @RequiresAccess('write')
  @ApiCreatedResponse({ type: CommandResponse })
  purchase(@Id() customerId: string, @Body() dto: RecordPurchaseDto, @Context() context: CommandContext) {
    const data = compact({ customerId, purchaseId: dto.id ?? randomUUID(), amount: dto.amount, description: dto.description });
    return this.commands.send(new CustomerMessage({ type: 'RecordPurchase', data, occurredAt: this.commands.occurredAt(dto) }, context));
  }

  @Post(':id/interactions')
  @RequiresAccess('write')
  @ApiCreatedResponse({ type: CommandResponse })
  interaction(@Id() customerId: string, @Body() dto: LogInteractionDto, @Context() context: CommandContext) {
    const { id, occurredAt: _, expectedRevision: __, ...interaction } = dto;
    const data = compact({ customerId, interactionId: id ?? randomUUID(), ...interaction });
    return this.commands.send(new CustomerMessage({ type: 'LogInteraction', data, occurredAt: this.commands.occurredAt(dto) }, context));
  }

  /** Search, filter and paginate (the customers read model). */
  @Get()
  @RequiresAccess('read')
  @PersonalData('page')
  list(@Query() query: ListCustomersQuery, @Req() request: AuthenticatedRequest) {
    refuseSearchWhenMasked(request, query.q);
    return this.queries.execute(new ReadModelQuery('customers', query));
  }

  /**
   * The current profile, lifecycle, owner and totals (the customers read model); with `?asOf=`
   * the state folded from the stream up to that instant, with its revision.
   */
  @Get(':id')
  @RequiresAccess('read')
  @PersonalData('record')
  async get(@Id() customerId: string, @Query() query: AsOfQuery) {
    if (query.asOf === undefined) return found(await this.queries.execute(new ReadModelQuery('customer', customerId)), `customer-${customerId}`);
    const view = await this.views.customer(customerId, query.asOf);
    return { id: customerId, ...view };
  }

  /** Interactions, deals, purchases and lifecycle events, newest first, by cursor. */
  @Get(':id/timeline')
  @RequiresAccess('read')
  @PersonalData('timeline')
  async timeline(@Id() customerId: string, @Query() query: TimelineQuery) {
    found(await this.queries.execute(new ReadModelQuery('customer', customerId)), `customer-${customerId}`);
    return this.queries.execute(new ReadModelQuery('customerTimeline', customerId, query));
  }
}
