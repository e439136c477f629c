import { BadRequestException } from '@nestjs/common';
import { ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, IsOptional, IsString, Max, MaxLength, Min } from 'class-validator';
import { Categories, schemaVersions } from '@chronicle/domain';
import type { EventFilter } from '@chronicle/event-store';

export const FEED_DEFAULT_LIMIT = 100;
export const FEED_MAX_LIMIT = 1000;

export class EventFeedQuery {
  @ApiPropertyOptional({ description: "The position to continue after (exclusive): a page's `checkpoint`; default 0, the start" })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(0)
  @Max(Number.MAX_SAFE_INTEGER)
  after?: number;

  @ApiPropertyOptional({ description: 'Comma-separated event types (e.g. `DealWon,DealLost`); default every type' })
  @IsOptional()
  @IsString()
  @MaxLength(2000)
  types?: string;

  @ApiPropertyOptional({ description: `Comma-separated stream categories (${Categories.join(', ')}); default every category` })
  @IsOptional()
  @IsString()
  @MaxLength(200)
  categories?: string;

  @ApiPropertyOptional({ default: FEED_DEFAULT_LIMIT, minimum: 1, maximum: FEED_MAX_LIMIT, description: 'Events per page (JSON only)' })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(FEED_MAX_LIMIT)
  limit?: number;
}

const EVENT_TYPES: readonly string[] = Object.keys(schemaVersions);

function list(
  field: string,
  text: string | undefined,
  known: readonly string[],
  what: { one: string; many: string },
): string[] | undefined {
  if (text === undefined) return undefined;
  const values = [...new Set(text.split(',').map((value) => value.trim()))];
  if (values.some((value) => value === ''))
    throw new BadRequestException(`${field}: a comma-separated list of ${what.many} without empty entries`);
  const unknown = values.find((value) => !known.includes(value));
  if (unknown !== undefined)
    throw new BadRequestException(`${field}: "${unknown.slice(0, 100)}" is not ${what.one}; ${what.many}: ${known.join(', ')}`);
  return values;
}

/** The store's filter for the query's `types` and `categories` (each checked against the ones there are). */
export function feedFilter(query: EventFeedQuery): EventFilter | undefined {
  const types = list('types', query.types, EVENT_TYPES, { one: 'an event type', many: 'event types' });
  const categories = list('categories', query.categories, Categories, { one: 'a stream category', many: 'stream categories' });
  return types || categories ? { ...(types && { types }), ...(categories && { categories }) } : undefined;
}
