import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { ArrayMaxSize, IsArray, IsIn, IsInt, IsOptional, IsString, Max, MaxLength, Min, MinLength } from 'class-validator';
import { Categories, schemaVersions } from '@chronicle/domain';

const EVENT_TYPES = Object.keys(schemaVersions);
const URL_MAX = 2000;

/** A filter list of known names; an empty list is no filter (on PATCH: removes it). */
const FilterList = (values: readonly string[], what: string) => (target: object, key: string) => {
  ApiPropertyOptional({ type: [String], description: `Only these ${what} (${values.length} known); absent or empty: all` })(target, key);
  IsOptional()(target, key);
  IsArray()(target, key);
  ArrayMaxSize(values.length)(target, key);
  IsIn(values, { each: true, message: `${key}: each must be one of the ${what}: ${values.join(', ')}` })(target, key);
};

export class CreateWebhookDto {
  @ApiProperty({
    example: 'https://hooks.example.com/chronicle',
    description: 'http or https; public addresses only unless WEBHOOK_ALLOWED_HOSTS names it',
  })
  @IsString()
  @MaxLength(URL_MAX)
  url!: string;

  @FilterList(EVENT_TYPES, 'event types') eventTypes?: string[];
  @FilterList(Categories, 'stream categories') categories?: string[];

  @ApiPropertyOptional({
    description: 'The HMAC-SHA256 signing secret (16–200 characters); default: a new random one, shown once in the answer',
  })
  @IsOptional()
  @IsString()
  @MinLength(16)
  @MaxLength(200)
  secret?: string;
}

export class UpdateWebhookDto {
  @ApiPropertyOptional() @IsOptional() @IsString() @MaxLength(URL_MAX) url?: string;
  @FilterList(EVENT_TYPES, 'event types') eventTypes?: string[];
  @FilterList(Categories, 'stream categories') categories?: string[];
  @ApiPropertyOptional({ enum: ['active', 'paused'] }) @IsOptional() @IsIn(['active', 'paused']) status?: 'active' | 'paused';
}

export class ReplayWebhookDto {
  @ApiProperty({ description: 'Deliver again every event after this position (0: the whole history)' })
  @IsInt()
  @Min(0)
  @Max(Number.MAX_SAFE_INTEGER)
  fromPosition!: number;
}
