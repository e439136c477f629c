import { streamIdOf } from '@chronicle/domain';
import {
  Body,
  Controller,
  Delete,
  Get,
  HttpCode,
  Patch,
  Post,
  Query,
  Req,
  ServiceUnavailableException,
  UseInterceptors,
} from '@nestjs/common';
import { QueryBus } from '@nestjs/cqrs';
import { ApiBearerAuth, ApiCreatedResponse, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { randomUUID } from 'node:crypto';
import { CommandContext, CommandResult, CustomerMessage } from '@chronicle/commands';
import { DEFAULT_CUSTOMER_SORT, duplicatesProjection } from '@chronicle/projections';
import { RequiresAccess } from '../auth/access';
import type { AuthenticatedRequest } from '../auth/api-key.guard';
import { assertMayRead, ownerScopeOf, scopedOwnerFilter } from '../auth/ownership';
import { PersonalData, refuseSearchWhenMasked, sortWhenMasked } from '../auth/personal-data';
import { Context } from '../http/command-context.decorator';
import { CommandResponse } from '../http/command-response';
import { CommandSender, compact } from '../http/command-sender';
import { ListCustomersQuery, TimelineQuery } from '../read/list-queries.dto';
import { found, ReadModelQuery } from '../read/read-queries';
import { AggregateViews } from '../streams/aggregate-views';
import {
  AsOfQuery,
  AssignOwnerDto,
  ChurnCustomerDto,
  LogInteractionDto,
  MergeCustomerDto,
  ReactivateCustomerDto,
  RecordPurchaseDto,
  RegisterCustomerDto,
  UpdateCustomerDto,
} from './customer.dto';
import { IdParam } from '../http/ids';
import { AnswersCsv } from '../http/csv';
import { MinPositionInterceptor } from '../read/min-position.interceptor';
import { DuplicatesQuery } from './duplicates.dto';
import { ArchiveDto } from '../http/archive.dto';

const Id = () => IdParam();

@ApiTags('customers')
@ApiBearerAuth()
@Controller('customers')
export class CustomersController {
  constructor(
    private readonly commands: CommandSender,
    private readonly views: AggregateViews,
    private readonly queries: QueryBus,
  ) {}

  @Post()
  @RequiresAccess('write')
  @ApiCreatedResponse({ type: CommandResponse })
  register(@Body() dto: RegisterCustomerDto, @Context() context: CommandContext): Promise<CommandResult> {
    const { id, occurredAt: _, source, ownerId, ...profile } = dto;
    // An owner left unsaid is decided by the command's spec (the caller's, or left to auto-assignment).
    const data = compact({ customerId: id ?? randomUUID(), ...profile, source: source ?? 'direct', ownerId });
    return this.commands.send(
      new CustomerMessage({ type: 'RegisterCustomer', data, occurredAt: this.commands.occurredAt(dto) }, context, true),
    );
  }

  @Patch(':id')
  @RequiresAccess('write')
  @ApiOkResponse({ type: CommandResponse })
  update(@Id() customerId: string, @Body() dto: UpdateCustomerDto, @Context() context: CommandContext) {
    const { occurredAt: _, expectedRevision: __, ...changes } = dto;
    const data = compact({ customerId, ...changes });
    return this.commands.send(
      new CustomerMessage({ type: 'UpdateCustomerProfile', data, occurredAt: this.commands.occurredAt(dto) }, context),
    );
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
    return this.commands.send(
      new CustomerMessage({ type: 'ReactivateCustomer', data, occurredAt: this.commands.occurredAt(dto) }, context),
    );
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

  /**
   * GDPR erasure by crypto-shredding: destroys the customer's personal-data key (and those of every
   * lead that became them) and appends CustomerPersonalDataErased. Their personal fields and the
   * free text about them then read as erased everywhere, Kafka included; reports keep every count and sum.
   */
  @Delete(':id/personal-data')
  @HttpCode(200)
  @RequiresAccess('erase')
  @ApiOkResponse({ type: CommandResponse })
  erase(@Id() customerId: string, @Context() context: CommandContext) {
    const command = { type: 'EraseCustomerPersonalData' as const, data: { customerId }, occurredAt: this.commands.occurredAt({}) };
    return this.commands.send(new CustomerMessage(command, context));
  }

  /** Archives the customer (`CustomerArchived`): it leaves `GET /customers` (unless `?archived=true`); managers and admins only. */
  @Post(':id/archive')
  @HttpCode(200)
  @RequiresAccess('manage')
  @ApiOkResponse({ type: CommandResponse })
  archive(@Id() customerId: string, @Body() dto: ArchiveDto, @Context() context: CommandContext) {
    const data = compact({ customerId, reason: dto.reason });
    return this.commands.send(new CustomerMessage({ type: 'ArchiveCustomer', data, occurredAt: this.commands.occurredAt(dto) }, context));
  }

  /** Restores an archived customer (`CustomerRestored`): listed again; managers and admins only. */
  @Post(':id/restore')
  @HttpCode(200)
  @RequiresAccess('manage')
  @ApiOkResponse({ type: CommandResponse })
  restore(@Id() customerId: string, @Body() dto: ArchiveDto, @Context() context: CommandContext) {
    const data = compact({ customerId, reason: dto.reason });
    return this.commands.send(new CustomerMessage({ type: 'RestoreCustomer', data, occurredAt: this.commands.occurredAt(dto) }, context));
  }

  /**
   * Merges the customer into `intoId` (`CustomerMerged`, docs/merging.md): its deals, purchases,
   * interactions, tasks, tags and campaigns count for the survivor; managers and admins only.
   */
  @Post(':id/merge')
  @HttpCode(200)
  @RequiresAccess('manage')
  @ApiOkResponse({ type: CommandResponse })
  merge(@Id() customerId: string, @Body() dto: MergeCustomerDto, @Context() context: CommandContext) {
    const data = compact({ customerId, intoId: dto.intoId, reason: dto.reason });
    return this.commands.send(new CustomerMessage({ type: 'MergeCustomer', data, occurredAt: this.commands.occurredAt(dto) }, context));
  }

  /** Undoes the customer's merge (`CustomerUnmerged`): every figure returns to what it was without it; managers and admins only. */
  @Post(':id/unmerge')
  @HttpCode(200)
  @RequiresAccess('manage')
  @ApiOkResponse({ type: CommandResponse })
  unmerge(@Id() customerId: string, @Body() dto: ArchiveDto, @Context() context: CommandContext) {
    const data = compact({ customerId, reason: dto.reason });
    return this.commands.send(new CustomerMessage({ type: 'UnmergeCustomer', data, occurredAt: this.commands.occurredAt(dto) }, context));
  }

  /** Reassigns the customer (`CustomerOwnerAssigned`): managers and admins only. */
  @Post(':id/owner')
  @HttpCode(200)
  @RequiresAccess('manage')
  @ApiOkResponse({ type: CommandResponse })
  assignOwner(@Id() customerId: string, @Body() dto: AssignOwnerDto, @Context() context: CommandContext) {
    const data = { customerId, ownerId: dto.ownerId };
    return this.commands.send(
      new CustomerMessage({ type: 'AssignCustomerOwner', data, occurredAt: this.commands.occurredAt(dto) }, context),
    );
  }

  /** Search, filter and paginate (the customers read model); a rep's list holds only its own customers. */
  @Get()
  @AnswersCsv({ list: 'items', file: 'customers' })
  @RequiresAccess('read')
  @PersonalData('page')
  list(@Query() query: ListCustomersQuery, @Req() request: AuthenticatedRequest) {
    refuseSearchWhenMasked(request, query.q);
    const sort = sortWhenMasked(request, query.sort, DEFAULT_CUSTOMER_SORT, 'registeredAt');
    return this.queries.execute(new ReadModelQuery('customers', { ...query, sort, ownerId: scopedOwnerFilter(request, query.ownerId) }));
  }

  /**
   * Candidate duplicate customers (the duplicates read model): pairs with the reasons they match
   * (same email, phone, or name and company, compared as keyed hashes) and a score, strongest
   * first. Managers and admins only (`manage`): a pair tells that two people share an email or a
   * phone, which analysts (masked) and reps (their own records) may not learn. Declared before
   * `:id`, so that `duplicates` is not taken for an id.
   */
  @Get('duplicates')
  @RequiresAccess('manage')
  @UseInterceptors(MinPositionInterceptor)
  duplicates(@Query() query: DuplicatesQuery) {
    if (!duplicatesProjection.keyed)
      throw new ServiceUnavailableException(
        'the duplicates search needs DUPLICATES_KEY (at least 32 characters) in production; see the README',
      );
    return this.queries.execute(new ReadModelQuery('duplicates', query));
  }

  /**
   * The current profile, lifecycle, owner and totals (the customers read model); with `?asOf=`
   * the state folded from the stream up to that instant, with its revision.
   */
  @Get(':id')
  @RequiresAccess('read')
  @PersonalData('record')
  async get(@Id() customerId: string, @Query() query: AsOfQuery, @Req() request: AuthenticatedRequest) {
    const streamId = streamIdOf('customer', customerId);
    if (query.asOf === undefined) {
      const customer = found(await this.queries.execute(new ReadModelQuery('customer', customerId)), streamId);
      assertMayRead(request, streamId, customer.ownerId);
      // A merged customer answers with a pointer to its survivor (docs/merging.md).
      if (customer.mergedInto) return { id: customerId, mergedInto: customer.mergedInto, mergedAt: customer.mergedAt };
      return customer;
    }
    // Who may see a past state is decided by the current owner (a former owner no longer may).
    const authorize =
      ownerScopeOf(request.principal) === undefined
        ? undefined
        : (current: { ownerId?: string }) => assertMayRead(request, streamId, current.ownerId);
    const view = await this.views.customer(customerId, query.asOf, authorize);
    return { id: customerId, ...view };
  }

  /** Interactions, deals, purchases and lifecycle events, newest first, by cursor. */
  @Get(':id/timeline')
  @AnswersCsv({ list: 'items', file: 'timeline' })
  @RequiresAccess('read')
  @PersonalData('timeline')
  async timeline(@Id() customerId: string, @Query() query: TimelineQuery, @Req() request: AuthenticatedRequest) {
    const customer = found(await this.queries.execute(new ReadModelQuery('customer', customerId)), streamIdOf('customer', customerId));
    assertMayRead(request, streamIdOf('customer', customerId), customer.ownerId);
    return this.queries.execute(new ReadModelQuery('customerTimeline', customerId, query));
  }
}
