import { Inject, Injectable, OnModuleDestroy, ServiceUnavailableException } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { once } from 'node:events';
import type { OutgoingHttpHeaders } from 'node:http';
import type { EventFilter, EventStore } from '@chronicle/event-store';
import { SEALED_EVENT_STORE } from '@chronicle/infrastructure';
import { toEnvelope } from '@chronicle/messaging';

/** Open live feeds per process: each holds a subscription (and, on the embedded store, a poller). */
export const MAX_FEED_STREAMS = 200;
/** A comment line this often keeps proxies and the server's idle timeout from closing a quiet stream. */
export const HEARTBEAT_MS = 15_000;
/** What an EventSource waits before it reconnects (it resumes with Last-Event-ID). */
const RETRY_MS = 2_000;

/**
 * The live event feed as Server-Sent Events: every event after a position, then each new one as
 * it is appended, in global order; the SSE `id` is the event's global position, so a client that
 * reconnects with `Last-Event-ID` resumes after the last event it received.
 */
@Injectable()
export class EventFeedStreams implements OnModuleDestroy {
  private readonly open = new Set<() => void>();

  constructor(@Inject(SEALED_EVENT_STORE) private readonly store: EventStore) {}

  get size(): number {
    return this.open.size;
  }

  follow(request: FastifyRequest, reply: FastifyReply, after: number, filter: EventFilter | undefined): void {
    if (this.open.size >= MAX_FEED_STREAMS)
      throw new ServiceUnavailableException(
        `at most ${MAX_FEED_STREAMS} live feeds per server are open; retry, or page with GET /events?after=`,
      );
    reply.hijack();
    const raw = reply.raw;
    // The headers the hooks set on the reply (correlation id, security headers), then the stream's.
    raw.writeHead(200, {
      ...(reply.getHeaders() as OutgoingHttpHeaders),
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      // Reverse proxies (nginx) would otherwise hold events back to fill a buffer.
      'x-accel-buffering': 'no',
    });
    // The stream is quiet between events by design: the heartbeat, not the socket timeout, tells a dead client.
    request.raw.socket.setTimeout(0);
    raw.write(`retry: ${RETRY_MS}\n\n`);
    const subscription = this.store.subscribeToAll({ fromPosition: after, filter, maxBatch: 500 });
    const heartbeat = setInterval(() => raw.write(': keep-alive\n\n'), HEARTBEAT_MS);
    const started = Date.now();
    let sent = 0;
    let stopped = false;
    const stop = () => {
      if (stopped) return;
      stopped = true;
      clearInterval(heartbeat);
      this.open.delete(stop);
      void subscription.close();
      raw.end();
    };
    this.open.add(stop);
    raw.on('close', stop);
    const closed = once(raw, 'close');
    void (async () => {
      try {
        for await (const page of subscription) {
          for (const event of page.events) {
            sent++;
            // A slow reader is not buffered without bound: wait until it drained (or went away).
            if (!raw.write(`id: ${event.globalPosition}\ndata: ${JSON.stringify(toEnvelope(event))}\n\n`))
              await Promise.race([once(raw, 'drain'), closed]);
            if (stopped) return;
          }
        }
      } catch (error) {
        if (!stopped) request.log.warn({ err: error }, 'live event feed ended on an error; the client resumes with Last-Event-ID');
      } finally {
        stop();
        request.log.info(
          { method: 'GET', route: '/events', status: 200, stream: true, events: sent, durationMs: Date.now() - started },
          'request',
        );
      }
    })();
  }

  /** Shutdown ends every live feed (its client reconnects elsewhere with Last-Event-ID), so closing the server does not wait for them. */
  onModuleDestroy(): void {
    for (const stop of [...this.open]) stop();
  }
}
