import { ERASURE_OF, erasedFields, personalDataSubject, personalFieldsOf } from '@chronicle/domain';
import type {
  AppendOptions,
  AppendResult,
  EventStore,
  FeedPage,
  NewEvent,
  ReadAllOptions,
  ReadStreamOptions,
  RecordedEvent,
  StreamHead,
  SubscribeOptions,
  Subscription,
} from '@chronicle/event-store';
import { open, seal } from './cipher';
import type { KeyLookup, KeyStore } from './key-store';

/** How an event's personal fields are stored: sealed together under the subject's key. */
export interface SealedFields {
  subject: string;
  /** Names of the fields inside, so an erased event still says which fields it had. */
  fields: string[];
  /** `seal(key, subject, JSON of the fields)`. */
  data: string;
}

export const isSealed = (data: unknown): data is { sealed: SealedFields } =>
  typeof data === 'object' && data !== null && typeof (data as { sealed?: SealedFields }).sealed?.data === 'string';

/** Keys are cached this long; an erasure seen by this process (appended or read) evicts at once. */
const KEY_TTL_MS = 60_000;
const MAX_CACHED_KEYS = 100_000;

/**
 * The event store as the application sees it: personal fields (libs/domain personal-data.ts:
 * identity, attributes, and free text about a customer or lead) are sealed on append, each event
 * type's under its person's key, and opened on every read, so deciders, projections and the audit trail
 * work with plain fields, while the store, its backups and Kafka (the relay reads the inner,
 * sealed store) only ever hold ciphertext. After an erasure the fields open as erased.
 */
export class PersonalDataEventStore implements EventStore {
  private readonly keys = new Map<string, { key: Buffer | 'erased'; until: number }>();
  /** The last append still waiting for a key (see append). */
  private preparing?: Promise<unknown>;

  constructor(
    /** The store as stored: personal fields sealed. */
    readonly sealed: EventStore,
    private readonly keyStore: KeyStore,
  ) {}

  /**
   * Appends reach the inner store in the order they were called (the embedded store commits
   * queued appends in FIFO order; the seed relies on it): with every key cached, at once; else
   * after the keys of this and every earlier waiting append are there.
   */
  append(streamId: string, events: NewEvent[], options?: AppendOptions): Promise<AppendResult> {
    const ready = this.preparing ? undefined : this.sealWithCachedKeys(events);
    if (ready) return this.appendSealed(streamId, events, ready, options);
    const prepared = (this.preparing ?? Promise.resolve()).then(() => this.sealAll(events));
    const settled: Promise<unknown> = prepared.catch(() => undefined);
    this.preparing = settled;
    void settled.then(() => {
      if (this.preparing === settled) this.preparing = undefined;
    });
    return prepared.then((stored) => this.appendSealed(streamId, events, stored, options));
  }

  private async appendSealed(streamId: string, events: NewEvent[], stored: NewEvent[], options?: AppendOptions): Promise<AppendResult> {
    const result = await this.sealed.append(streamId, stored, options);
    this.noteErasures(events);
    return result;
  }

  /** The events as stored, or undefined when a key is not in the cache. */
  private sealWithCachedKeys(events: NewEvent[]): NewEvent[] | undefined {
    const stored: NewEvent[] = [];
    for (const event of events) {
      const subject = personalDataSubject(event.type, event.data);
      if (!subject) {
        stored.push(event);
        continue;
      }
      const key = this.cachedKey(subject);
      if (!key) return undefined;
      stored.push({ ...event, data: this.sealFields(event.data as Record<string, unknown>, personalFieldsOf(event.type), subject, key) });
    }
    return stored;
  }

  private async sealAll(events: NewEvent[]): Promise<NewEvent[]> {
    for (const event of events) {
      const subject = personalDataSubject(event.type, event.data);
      if (subject && !this.cachedKey(subject)) this.remember(subject, await this.keyStore.obtain(subject));
    }
    // Undefined only if the cache let a key go meanwhile: then fetch it again.
    return this.sealWithCachedKeys(events) ?? this.sealAll(events);
  }

  async readStream(streamId: string, options?: ReadStreamOptions): Promise<RecordedEvent[]> {
    return this.openAll(await this.sealed.readStream(streamId, options));
  }

  streamRevision(streamId: string): Promise<number> {
    return this.sealed.streamRevision(streamId);
  }

  /** Types are never sealed: nothing to open. */
  streamHead(streamId: string): Promise<StreamHead | undefined> {
    return this.sealed.streamHead(streamId);
  }

  async readAll(options?: ReadAllOptions): Promise<FeedPage> {
    const page = await this.sealed.readAll(options);
    return { ...page, events: await this.openAll(page.events) };
  }

  headPosition(): Promise<number> {
    return this.sealed.headPosition();
  }

  subscribeToAll(options?: SubscribeOptions): Subscription {
    const inner = this.sealed.subscribeToAll(options);
    const openAll = (events: RecordedEvent[]) => this.openAll(events);
    return {
      close: () => inner.close(),
      async *[Symbol.asyncIterator]() {
        for await (const page of inner) yield { ...page, events: await openAll(page.events) };
      },
    };
  }

  /** Closes the store and the key store (this store owns both). */
  async close(): Promise<void> {
    await this.sealed.close();
    await this.keyStore.close();
  }

  /**
   * Makes sure the keys of these events' subjects are cached, those never made made in one write
   * (a bulk import appends thousands of new people at once): their appends then seal at once.
   * Returns the subjects whose personal data was erased (an append for them is refused).
   */
  async prepareKeys(events: Array<Pick<NewEvent, 'type' | 'data'>>): Promise<Set<string>> {
    const subjects = new Set<string>();
    for (const event of events) {
      const subject = personalDataSubject(event.type, event.data);
      if (subject && !this.cachedKey(subject)) subjects.add(subject);
    }
    const erased = new Set<string>();
    if (subjects.size === 0) return erased;
    for (const [subject, key] of await this.keyStore.obtainMany([...subjects])) {
      this.remember(subject, key);
      if (key === 'erased') erased.add(subject);
    }
    return erased;
  }

  /** A subject's key as a consumer of sealed events needs it (the key endpoint): a key, 'erased', or undefined. */
  async keyOf(subject: string): Promise<KeyLookup> {
    return (await this.keyStore.findMany([subject])).get(subject);
  }

  /** Destroys the subject's key (the erasure itself; the caller then appends the erasure event). */
  async erase(subject: string): Promise<void> {
    await this.keyStore.destroy(subject);
    this.remember(subject, 'erased');
  }

  private sealFields(data: Record<string, unknown>, fields: readonly string[], subject: string, key: Buffer): Record<string, unknown> {
    const rest: Record<string, unknown> = {};
    const personal: Record<string, unknown> = {};
    for (const [field, value] of Object.entries(data)) {
      if (fields.includes(field) && value !== undefined) personal[field] = value;
      else rest[field] = value;
    }
    const sealed: SealedFields = { subject, fields: Object.keys(personal), data: seal(key, subject, JSON.stringify(personal)) };
    return { ...rest, sealed };
  }

  private async openAll(events: RecordedEvent[]): Promise<RecordedEvent[]> {
    this.noteErasures(events);
    const missing = new Set<string>();
    const now = Date.now();
    for (const event of events) {
      if (!isSealed(event.data)) continue;
      const cached = this.keys.get(event.data.sealed.subject);
      if (!cached || cached.until < now) missing.add(event.data.sealed.subject);
    }
    if (missing.size > 0) {
      for (const [subject, key] of await this.keyStore.findMany([...missing])) this.remember(subject, key);
    }
    return events.map((event) => (isSealed(event.data) ? { ...event, data: this.openFields(event.data) } : event));
  }

  private openFields(data: { sealed: SealedFields }): Record<string, unknown> {
    const { sealed, ...rest } = data;
    const key = this.keys.get(sealed.subject)?.key;
    if (key instanceof Buffer) return { ...rest, ...(JSON.parse(open(key, sealed.subject, sealed.data)) as Record<string, unknown>) };
    // Erased (or a key store that lost the key): the fields read as erased, never as ciphertext.
    return { ...rest, ...erasedFields(Object.fromEntries(sealed.fields.map((f) => [f, true]))) };
  }

  /** A cached live key; an erased subject counts as not cached, so the key store's refusal is what the caller sees. */
  private cachedKey(subject: string): Buffer | undefined {
    const cached = this.keys.get(subject);
    return cached?.key instanceof Buffer && cached.until >= Date.now() ? cached.key : undefined;
  }

  private remember(subject: string, key: KeyLookup): void {
    if (key === undefined) {
      this.keys.delete(subject);
      return;
    }
    if (this.keys.size >= MAX_CACHED_KEYS) this.keys.clear();
    // An erasure is final: remembered for good.
    this.keys.set(subject, { key, until: key === 'erased' ? Number.POSITIVE_INFINITY : Date.now() + KEY_TTL_MS });
  }

  private noteErasures(events: Array<{ type: string; data: unknown }>): void {
    for (const event of events) {
      const subjectOf = ERASURE_OF[event.type];
      if (subjectOf) this.remember(subjectOf(event.data as Record<string, unknown>), 'erased');
    }
  }
}
