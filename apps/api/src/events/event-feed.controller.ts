import { BadRequestException, Controller, Get, Query, Req, Res } from '@nestjs/common';
import { Inject } from '@nestjs/common';
import { ApiBearerAuth, ApiHeader, ApiOkResponse, ApiProduces, ApiTags } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { EventStore } from '@chronicle/event-store';
import { SEALED_EVENT_STORE } from '@chronicle/infrastructure';
import { toEnvelope } from '@chronicle/messaging';
import { RequiresAccess } from '../auth/access';
import { EventFeedQuery, FEED_DEFAULT_LIMIT, feedFilter } from './event-feed.query';
import { EventFeedStreams } from './event-feed.streams';
import { assertFeedPosition, refusingUnknownPosition } from './feed-position';

const POSITION = /^\d{1,15}$/;

@ApiTags('audit trail')
@ApiBearerAuth()
@Controller('events')
export class EventFeedController {
  constructor(
    @Inject(SEALED_EVENT_STORE) private readonly store: EventStore,
    private readonly streams: EventFeedStreams,
  ) {}

  /**
   * The global feed, every stream in append order, each event in the Kafka envelope (version 1)
   * with its personal fields sealed as on Kafka. JSON: one page after `after`, and the `checkpoint`
   * to continue after. `Accept: text/event-stream`: the same events, then each new one live.
   */
  @Get()
  @RequiresAccess('audit')
  @ApiProduces('application/json', 'text/event-stream')
  @ApiHeader({ name: 'Last-Event-ID', required: false, description: 'Live feed: resume after this position (instead of `after`)' })
  @ApiOkResponse({ description: '{ events: [envelope…], checkpoint, isEnd }, or a text/event-stream' })
  async feed(@Query() query: EventFeedQuery, @Req() request: FastifyRequest, @Res() reply: FastifyReply) {
    const filter = feedFilter(query);
    if (request.headers.accept?.includes('text/event-stream')) {
      const lastEventId = request.headers['last-event-id'];
      if (lastEventId !== undefined && (typeof lastEventId !== 'string' || !POSITION.test(lastEventId)))
        throw new BadRequestException('Last-Event-ID: must be an event position (the id of the last event received)');
      const after = lastEventId !== undefined ? Number(lastEventId) : (query.after ?? 0);
      await assertFeedPosition(this.store, after, lastEventId !== undefined ? 'Last-Event-ID' : 'after');
      this.streams.follow(request, reply, after, filter);
      return;
    }
    const page = await this.store
      .readAll({ fromPosition: query.after ?? 0, maxCount: query.limit ?? FEED_DEFAULT_LIMIT, filter })
      .catch(refusingUnknownPosition('after'));
    return reply.send({ events: page.events.map(toEnvelope), checkpoint: page.checkpoint, isEnd: page.isEnd });
  }
}
