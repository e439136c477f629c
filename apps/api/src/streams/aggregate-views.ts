import { BadRequestException, Inject, Injectable, NotFoundException } from '@nestjs/common';
import {
  customerDecider,
  CustomerState,
  dealDecider,
  DealState,
  DomainEvent,
  fold,
  parseIsoDateTime,
  Pipeline,
  streamIdOf,
} from '@chronicle/domain';
import type { EventStore, RecordedEvent } from '@chronicle/event-store';
import { toDomainEvent } from '@chronicle/commands';
import { EVENT_STORE, PIPELINE } from '@chronicle/infrastructure';

export interface AggregateView<S> {
  streamId: string;
  /** Revision of the last event folded. */
  revision: number;
  asOf: string | null;
  state: S;
}

/**
 * State folded straight from the stream, optionally up to an instant of business time
 * (`?asOf=`): the events that occurred at or before it, in stream order (bi-temporal).
 */
@Injectable()
export class AggregateViews {
  private readonly deal;

  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(PIPELINE) pipeline: Pipeline,
  ) {
    this.deal = dealDecider(pipeline);
  }

  /** `authorize` sees the record's current state (who owns it now), before anything of its past is folded. */
  customer(id: string, asOf?: string, authorize?: (current: CustomerState) => void) {
    return this.view(streamIdOf('customer', id), customerDecider, asOf, authorize);
  }

  dealView(id: string, asOf?: string, authorize?: (current: DealState) => void) {
    return this.view(streamIdOf('deal', id), this.deal, asOf, authorize);
  }

  private async view<S extends { exists: boolean }, E extends DomainEvent>(
    streamId: string,
    decider: { initialState(): S; evolve(s: S, e: E): S },
    asOf?: string,
    authorize?: (current: S) => void,
  ): Promise<AggregateView<Omit<S, 'exists'>>> {
    // Read as the domain reads business time: a date-time without offset is UTC, never the server's zone.
    const limit = asOf === undefined ? undefined : parseIsoDateTime(asOf);
    if (Number.isNaN(limit)) throw new BadRequestException('asOf: must be an ISO 8601 date or date-time');
    const all = await this.store.readStream(streamId);
    if (authorize) {
      const current = fold(
        decider,
        all.map((e) => toDomainEvent<E>(e)),
      );
      if (!current.exists) throw new NotFoundException(`${streamId} does not exist`);
      authorize(current);
    }
    const events = all.filter((e: RecordedEvent) => limit === undefined || Date.parse(e.occurredAt) <= limit);
    const { exists, ...state } = fold(
      decider,
      events.map((e) => toDomainEvent<E>(e)),
    );
    if (!exists) {
      throw new NotFoundException(asOf === undefined ? `${streamId} does not exist` : `${streamId} did not exist at ${asOf}`);
    }
    return {
      streamId,
      revision: events[events.length - 1].streamRevision,
      asOf: asOf === undefined ? null : new Date(limit!).toISOString(),
      state,
    };
  }
}
