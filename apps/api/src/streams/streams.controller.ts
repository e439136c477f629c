import { Controller, Get, Inject, NotFoundException, Param, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiPropertyOptional, ApiTags } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsIn, IsInt, IsOptional, Max, Min } from 'class-validator';
import { BadRequestException } from '@nestjs/common';
import type { EventStore, RecordedEvent } from '@chronicle/event-store';
import { EVENT_STORE } from '@chronicle/infrastructure';
import { RequiresAccess } from '../auth/access';
import { AnswersCsv } from '../http/csv';

export class AuditTrailQuery {
  @ApiPropertyOptional({ description: 'First revision to return (inclusive); default the first (forwards) or last (backwards)' })
  // Revisions are safe integers; a larger "integer" (1e308) would overflow EventStoreDB's uint64.
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(0)
  @Max(Number.MAX_SAFE_INTEGER)
  fromRevision?: number;

  @ApiPropertyOptional({ default: 100, maximum: 1000 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(1000)
  limit?: number;

  @ApiPropertyOptional({ enum: ['forwards', 'backwards'], default: 'forwards' })
  @IsOptional()
  @IsIn(['forwards', 'backwards'])
  direction?: 'forwards' | 'backwards';
}

/**
 * An event as the audit trail shows it: as read (upcast to the current schema, as every reader
 * sees it), and with the version it is stored with and whether it was upcast, so what is kept
 * and what is served can both be told (docs/schema-evolution.md).
 */
function asAudited({ storedSchemaVersion, ...event }: RecordedEvent) {
  return { ...event, storedSchemaVersion: storedSchemaVersion ?? event.schemaVersion, upcast: storedSchemaVersion !== undefined };
}

const STREAM_ID = /^[a-z][a-z0-9]*-[A-Za-z0-9_.-]{1,200}$/;

@ApiTags('audit trail')
@ApiBearerAuth()
@Controller('streams')
export class StreamsController {
  constructor(@Inject(EVENT_STORE) private readonly store: EventStore) {}

  /** The raw audit trail: every event of a stream with all its metadata, paginated. */
  @Get(':streamId/events')
  @AnswersCsv({ list: 'events', file: 'events' })
  @RequiresAccess('audit')
  async events(@Param('streamId') streamId: string, @Query() query: AuditTrailQuery) {
    if (!STREAM_ID.test(streamId)) throw new BadRequestException('streamId: must look like <category>-<id>, e.g. customer-<uuid>');
    const limit = query.limit ?? 100;
    const direction = query.direction ?? 'forwards';
    const events = await this.store.readStream(streamId, { direction, fromRevision: query.fromRevision, maxCount: limit + 1 });
    if (events.length === 0 && (await this.store.streamRevision(streamId)) < 0) {
      throw new NotFoundException(`${streamId} does not exist`);
    }
    const page = events.slice(0, limit).map(asAudited);
    const next = events.length > limit ? events[limit].streamRevision : null;
    return { streamId, direction, events: page, nextRevision: next };
  }
}
