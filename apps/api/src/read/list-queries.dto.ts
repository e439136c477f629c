import { ApiPropertyOptional } from '@nestjs/swagger';
import { Transform, Type } from 'class-transformer';
import { IsIn, IsInt, IsISO8601, IsOptional, IsString, Max, MaxLength, Min, MinLength } from 'class-validator';
import {
  CAMPAIGN_SORTS,
  CUSTOMER_SORTS,
  CUSTOMER_STATUSES,
  DEAL_SORTS,
  DEAL_STATUSES,
  DEFAULT_LIMIT,
  LEAD_SORTS,
  LEAD_STATUSES,
  MAX_LIMIT,
  TASK_SORTS,
  TASK_STATUSES,
} from '@chronicle/projections';
import { lowerCaseId } from '../http/ids';

/** A filter value: an id, a source, a region… */
const Filter = (description: string) => (target: object, key: string) => {
  ApiPropertyOptional({ description })(target, key);
  IsOptional()(target, key);
  IsString()(target, key);
  MinLength(1)(target, key);
  MaxLength(200)(target, key);
};

/** A filter on a record id: lower-cased as every id that comes in (../http/ids.ts). */
const IdFilter = (description: string) => (target: object, key: string) => {
  Filter(description)(target, key);
  Transform(({ value }) => lowerCaseId(value))(target, key);
};

const OneOf = (values: readonly string[], description?: string) => (target: object, key: string) => {
  ApiPropertyOptional({ enum: values, description })(target, key);
  IsOptional()(target, key);
  IsIn(values)(target, key);
};

export class LimitQuery {
  @ApiPropertyOptional({ default: DEFAULT_LIMIT, minimum: 1, maximum: MAX_LIMIT })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(MAX_LIMIT)
  limit?: number;
}

export class PageQuery extends LimitQuery {
  @ApiPropertyOptional({ default: 0, minimum: 0 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(0)
  offset?: number;
}

export class ListCustomersQuery extends PageQuery {
  @ApiPropertyOptional({ description: 'Case-insensitive substring of the name, email or company' })
  @IsOptional()
  @IsString()
  @MaxLength(200)
  q?: string;

  @OneOf(CUSTOMER_STATUSES) status?: string;
  @Filter('Owner (actor id)') ownerId?: string;
  @Filter('Acquisition channel') source?: string;
  @Filter('Region') region?: string;
  @Filter('Industry') industry?: string;
  @Filter('A tag set by a rule') tag?: string;
  @Filter('A campaign the customer is enrolled in') campaign?: string;
  @OneOf(['true', 'false'], 'Default `false`: the records not archived; `true`: the archived ones only') archived?: string;
  @OneOf(CUSTOMER_SORTS, 'Default `name`; `-` sorts descending') sort?: string;
}

export class ListDealsQuery extends PageQuery {
  @IdFilter('Customer id') customerId?: string;
  @Filter('Owner (actor id)') ownerId?: string;
  @Filter('A pipeline stage, or won / lost') stage?: string;
  @OneOf(DEAL_STATUSES) status?: string;
  @OneOf(['true', 'false'], 'Default `false`: the records not archived; `true`: the archived ones only') archived?: string;
  @OneOf(DEAL_SORTS, 'Default `-openedAt` (newest first)') sort?: string;
}

export class ListLeadsQuery extends PageQuery {
  @OneOf(LEAD_STATUSES) status?: string;
  @Filter('Lead source') source?: string;
  @Filter('Owner (actor id)') ownerId?: string;
  @IdFilter('Campaign id') campaignId?: string;
  @OneOf(['true', 'false'], 'Default `false`: the records not archived; `true`: the archived ones only') archived?: string;
  @OneOf(LEAD_SORTS, 'Default `-capturedAt` (newest first)') sort?: string;
}

export class ListTasksQuery extends PageQuery {
  @Filter('Owner (actor id)') ownerId?: string;
  @OneOf(TASK_STATUSES) status?: string;
  @IdFilter('Customer id') customerId?: string;
  @IdFilter('Deal id') dealId?: string;

  @ApiPropertyOptional({ description: 'ISO 8601: only tasks due strictly before this instant' })
  @IsOptional()
  @IsISO8601({ strict: true })
  dueBefore?: string;

  @OneOf(TASK_SORTS, 'Default `dueAt` (soonest first)') sort?: string;
}

export class ListCampaignsQuery extends PageQuery {
  @Filter("The campaign's channel") channel?: string;
  @OneOf(CAMPAIGN_SORTS, 'Default `-launchedAt` (newest first); `name` ignores case') sort?: string;
}

export class TimelineQuery extends LimitQuery {
  @ApiPropertyOptional({ description: "The previous page's `nextCursor` (older entries)" })
  @IsOptional()
  @IsString()
  @MaxLength(100)
  before?: string;
}
