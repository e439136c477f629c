import { matchesFilter } from './event-store';
import { pollingSubscription } from './polling-subscription';
import type {
  AppendResult,
  EventStore,
  FeedPage,
  ReadAllOptions,
  ReadStreamOptions,
  RecordedEvent,
  StreamHead,
  SubscribeOptions,
  Subscription,
} from './event-store';

/**
 * A read-only view of an event store as it was known at an instant: the global feed up to the
 * first event recorded after `knownAt` or past the head at `open` time, whichever comes first.
 * Appends made meanwhile, backdated ones included, are recorded later and stay out, so a replay
 * through the view gives the same figures today and next year. (Recording times are the store's
 * clock, in feed order; with several writers on SQLite their clocks should agree.)
 */
export class KnownAtEventStore implements EventStore {
  /** The position the view ends at: set once a read has met its end. */
  private endPosition?: number;
  private readonly endListeners: Array<(position: number) => void> = [];

  private constructor(
    private readonly store: EventStore,
    readonly knownAt: string,
    /** The store's head when the view was opened. */
    readonly head: number,
  ) {}

  static async open(store: EventStore, knownAt: string): Promise<KnownAtEventStore> {
    return new KnownAtEventStore(store, knownAt, await store.headPosition());
  }

  /** Resolves with the view's end position once a read reaches it. */
  reachedEnd(): Promise<number> {
    if (this.endPosition !== undefined) return Promise.resolve(this.endPosition);
    return new Promise((resolve) => this.endListeners.push(resolve));
  }

  async readAll(options: ReadAllOptions = {}): Promise<FeedPage> {
    const from = options.fromPosition ?? 0;
    if (this.endPosition !== undefined && from >= this.endPosition) return this.ended(from);
    // Unfiltered, so that the end is found where it is (the first event recorded too late, of any type),
    // and then every consumer stops at that same position whatever its filter.
    const page = await this.store.readAll({ fromPosition: from, maxCount: options.maxCount });
    const cut = page.events.findIndex((e) => e.globalPosition > this.head || e.recordedAt > this.knownAt);
    const kept = cut < 0 ? page.events : page.events.slice(0, cut);
    const events = options.filter ? kept.filter((e) => matchesFilter(e, options.filter)) : kept;
    if (cut >= 0) return this.ended(kept.at(-1)?.globalPosition ?? from, events);
    if (page.isEnd || page.checkpoint >= this.head) return this.ended(page.checkpoint, events);
    return { events, checkpoint: page.checkpoint, isEnd: false };
  }

  async headPosition(): Promise<number> {
    return this.endPosition ?? this.head;
  }

  subscribeToAll(options: SubscribeOptions = {}): Subscription {
    // Nothing is appended through a view: the poll only matters before a read has met the end.
    return pollingSubscription(
      (o) => this.readAll(o),
      () => () => undefined,
      { ...options, pollIntervalMs: 100 },
    );
  }

  readStream(streamId: string, options?: ReadStreamOptions): Promise<RecordedEvent[]> {
    return this.store
      .readStream(streamId, options)
      .then((events) => events.filter((e) => e.globalPosition <= this.head && e.recordedAt <= this.knownAt));
  }

  async streamRevision(streamId: string): Promise<number> {
    return (await this.readStream(streamId, { direction: 'backwards' })).at(0)?.streamRevision ?? -1;
  }

  async streamHead(streamId: string): Promise<StreamHead | undefined> {
    const [last] = await this.readStream(streamId, { direction: 'backwards' });
    return last && { revision: last.streamRevision, type: last.type };
  }

  append(): Promise<AppendResult> {
    return Promise.reject(new Error('a known-at view of the event store is read-only'));
  }

  /** The underlying store is the caller's: closing the view leaves it open. */
  async close(): Promise<void> {}

  private ended(checkpoint: number, events: RecordedEvent[] = []): FeedPage {
    if (this.endPosition === undefined) {
      this.endPosition = checkpoint;
      for (const listener of this.endListeners.splice(0)) listener(checkpoint);
    }
    return { events, checkpoint: this.endPosition, isEnd: true };
  }
}
