import { createHash, randomUUID } from 'node:crypto';
import { Command, Decider, DomainEvent, schemaVersionOf } from '@chronicle/domain';
import { EventStore, ExpectedRevision, NewEvent, RecordedEvent, WrongExpectedRevisionError } from '@chronicle/event-store';
import { deterministicUuid } from '@chronicle/infrastructure';
import type { SnapshotStore } from '@chronicle/infrastructure';
import type { CommandContext, CommandResult } from './command-context';
import type { CommandEnvironment, CommandSpec, SentCommand } from './command-spec';

export interface Execution<State> {
  streamId: string;
  /** State the command was decided on. */
  state: State;
  events: RecordedEventRef[];
  revision: number;
  position: number;
}

export interface RecordedEventRef {
  eventId: string;
  type: string;
  data: unknown;
  occurredAt: string;
}

/** A stream's current state, as the executor loads it: a snapshot (if any) plus the events after it. */
export interface LoadedState<State> {
  state: State;
  /** Revision of the last event folded; -1 when the stream does not exist. */
  revision: number;
  /** Global position of that event (0 when none). */
  position: number;
  /** Events read from the store to load it (the snapshot's own event included). */
  eventsRead: number;
}

export interface CommandExecutorOptions {
  /** Where folded states are cached; none = every load folds the whole stream. */
  snapshots?: SnapshotStore;
  /** A snapshot is taken once a load has folded this many events past the last one. */
  snapshotEvery?: number;
  maxRetries?: number;
}

/** Bumped when the snapshot format changes; the deciders' own code is hashed into the version as well. */
const SNAPSHOT_FORMAT = 1;
export const DEFAULT_SNAPSHOT_EVERY = 100;
/** How far back in a stream a command with derived event ids looks for its earlier run. */
export const REPLAY_WINDOW = 200;

/** The id of a command's `index`-th event on a stream, derived from its seed (idempotency key, or cause). */
const derivedEventId = (idSeed: string, streamId: string, index: number) => deterministicUuid(`${idSeed}|${streamId}|${index}`);

type Folder<S> = Pick<Decider<S, never, never>, 'initialState' | 'evolve'>;

export const toDomainEvent = <E extends DomainEvent>(event: RecordedEvent): E =>
  ({ type: event.type, data: event.data, occurredAt: event.occurredAt }) as E;

/**
 * load → fold → decide → append with the expected revision (Emmett's handleCommand). Without an
 * explicit expected revision from the client, a conflict is retried on fresh state; with one,
 * the conflict goes back to the client as a 409.
 *
 * Commands on one stream run one after the other in this process: otherwise N concurrent commands
 * would all decide on the same state, one append per group commit would win and the others would
 * burn their retries (50 at once left 44 of them with a 409 they never asked for). Conflicts with
 * other processes are still retried.
 */
export class CommandExecutor {
  private readonly queues = new Map<string, Promise<unknown>>();
  private readonly versions = new WeakMap<object, string>();
  private readonly snapshots?: SnapshotStore;
  private readonly snapshotEvery: number;
  private readonly maxRetries: number;

  constructor(
    private readonly store: EventStore,
    options: CommandExecutorOptions = {},
  ) {
    this.snapshots = options.snapshots;
    this.snapshotEvery = Math.max(1, options.snapshotEvery ?? DEFAULT_SNAPSHOT_EVERY);
    this.maxRetries = options.maxRetries ?? 5;
  }

  /**
   * `authorize` sees the state the command will be decided on (before the expected-revision check,
   * so a refused caller learns nothing about the stream), and may throw; the append then expects
   * that very revision, so the check is never stale.
   */
  execute<S, C extends Command, E extends DomainEvent>(
    decider: Decider<S, C, E>,
    streamId: string,
    command: C,
    context: CommandContext,
    authorize?: (state: S) => void,
  ): Promise<Execution<S>> {
    return this.serialized(streamId, () => this.decideAndAppend(decider, streamId, command, context, authorize));
  }

  /**
   * Runs a command's spec (command-spec.ts): permit, check, enrich, load, authorize, decide,
   * append, then the follow-ups; or the spec's own flow (erasure).
   */
  async run<S, C extends Command, E extends DomainEvent, F>(
    spec: CommandSpec<S, C, E, F>,
    sent: SentCommand<C>,
    env: CommandEnvironment,
  ): Promise<CommandResult> {
    const { context } = sent;
    const streamId = spec.stream(sent.command);
    if (spec.run) return spec.run(sent.command, context, env, streamId);
    spec.permit?.(context, sent.command, streamId, sent);
    const decider = spec.decider(env, sent);
    let mode = typeof spec.load === 'function' ? spec.load(context, sent.command) : (spec.load ?? 'state');
    let revision: number | undefined;
    if (mode === 'existence' && spec.stateAfter) {
      // The stream's last revision and event type, whatever the history (no payload read).
      const head = await this.store.streamHead(streamId);
      if (head && spec.stateAfter.has(head.type)) mode = 'state';
      revision = head ? head.revision : -1;
    }
    let command = sent.command;
    let facts = undefined as F;
    let execution: Execution<S>;
    if (mode === 'existence') {
      // Only existence matters, so the stream is not read: the cost does not grow with history.
      revision ??= await this.store.streamRevision(streamId);
      this.checkExpected(streamId, revision, context);
      const events = spec.decideOnExistence!(command, revision >= 0);
      if (spec.check) facts = await spec.check(command, context, env);
      const appended = await this.append(streamId, events, context.expectedRevision ?? ExpectedRevision.StreamExists, context);
      await this.refreshSnapshot(decider, streamId, appended.revision);
      execution = { streamId, state: undefined as S, ...appended };
    } else {
      let preloaded: LoadedState<S> | undefined;
      if (spec.check && spec.authorize && context.ownerScope !== undefined) {
        // A caller limited to its own records is authorised on the command's own stream before
        // `check` reads the records it names: one refused here learns nothing about those.
        // (Authorised again below, on the state the command is decided on.)
        preloaded = await this.load(decider, streamId);
        spec.authorize(context, streamId, preloaded.state, command);
      }
      if (spec.check) facts = await spec.check(command, context, env);
      if (spec.enrich) command = spec.enrich(command, facts, context, env);
      if (mode === 'none') {
        // No state needed: decided on the initial state and appended without reading the stream.
        const state = decider.initialState();
        const appended = await this.append(
          streamId,
          decider.decide(command, state),
          context.expectedRevision ?? ExpectedRevision.Any,
          context,
        );
        execution = { streamId, state, ...appended };
      } else {
        const authorize = spec.authorize;
        const decided = command;
        execution = await this.serialized(streamId, () =>
          this.decideAndAppend(
            decider,
            streamId,
            decided,
            context,
            authorize && ((state: S) => authorize(context, streamId, state, decided)),
            preloaded,
          ),
        );
      }
    }
    for (const followUp of spec.after?.(execution, command, context, facts, env) ?? []) await env.followUp(followUp);
    const { id, ...extra } = spec.result(command, streamId);
    return { id, streamId, revision: execution.revision, position: execution.position, ...extra };
  }

  /**
   * The stream's current state: the latest snapshot, checked against the event at its revision,
   * plus the events after it; the whole stream when there is no usable snapshot. A load that
   * folded `snapshotEvery` events or more past the snapshot stores a new one, so the cost of a
   * load stays bounded whatever the history's length.
   */
  async load<S>(decider: Folder<S>, streamId: string): Promise<LoadedState<S>> {
    const version = this.snapshotVersion(decider);
    const snapshot = this.snapshots?.load(streamId, version);
    let state: S | undefined;
    let base = -1;
    let events: RecordedEvent[] = [];
    if (snapshot) {
      const tail = await this.store.readStream(streamId, { fromRevision: snapshot.revision });
      if (tail[0]?.streamRevision === snapshot.revision && tail[0].eventId === snapshot.eventId) {
        state = snapshot.state as S;
        base = snapshot.revision;
        events = tail;
      } else {
        this.snapshots!.forget(streamId); // not this history's: replaced by the fold below
      }
    }
    let eventsRead = events.length;
    if (state === undefined) {
      events = await this.store.readStream(streamId);
      eventsRead += events.length;
      state = decider.initialState();
    }
    for (const event of base < 0 ? events : events.slice(1)) state = decider.evolve(state, toDomainEvent(event));
    const last = events[events.length - 1];
    const revision = last ? last.streamRevision : -1;
    if (this.snapshots && last && revision - base >= this.snapshotEvery) {
      this.snapshots.save({ streamId, version, revision, eventId: last.eventId, state });
    }
    return { state, revision, position: last?.globalPosition ?? 0, eventsRead };
  }

  /** Drops the stream's snapshots (after an erasure: they hold the state folded before it). */
  forgetSnapshots(streamId: string): void {
    this.snapshots?.forget(streamId);
  }

  /**
   * After an append that did not load the stream (logging an interaction): when the stream has
   * grown `snapshotEvery` events past its snapshot, one load (snapshot + tail) takes a new one, so
   * the next load stays bounded. Amortised over the appends, a constant cost per event.
   */
  async refreshSnapshot<S>(decider: Folder<S>, streamId: string, revision: number): Promise<void> {
    if (!this.snapshots) return;
    const snapshotRevision = this.snapshots.revision(streamId, this.snapshotVersion(decider));
    if (revision - snapshotRevision < this.snapshotEvery) return;
    // A long history without any snapshot was written before snapshots existed (or the cache was
    // dropped): this append does not pay its one full fold; the first command that needs the state does.
    if (snapshotRevision < 0 && revision >= 2 * this.snapshotEvery) return;
    await this.serialized(streamId, () => this.load(decider, streamId));
  }

  /** The snapshot version of a decider: the format and a hash of its fold's code (a code change invalidates them). */
  snapshotVersion(decider: Folder<unknown>): string {
    const key = decider.evolve as object;
    let version = this.versions.get(key);
    if (version === undefined) {
      const code = `${decider.initialState.toString()}\n${decider.evolve.toString()}`;
      version = `${SNAPSHOT_FORMAT}:${createHash('sha256').update(code).digest('hex').slice(0, 16)}`;
      this.versions.set(key, version);
    }
    return version;
  }

  private async serialized<T>(streamId: string, work: () => Promise<T>): Promise<T> {
    const previous = this.queues.get(streamId);
    const run = previous ? previous.then(work, work) : work();
    const tail = run.catch(() => undefined);
    this.queues.set(streamId, tail);
    try {
      return await run;
    } finally {
      if (this.queues.get(streamId) === tail) this.queues.delete(streamId);
    }
  }

  private async decideAndAppend<S, C extends Command, E extends DomainEvent>(
    decider: Decider<S, C, E>,
    streamId: string,
    command: C,
    context: CommandContext,
    authorize?: (state: S) => void,
    preloaded?: LoadedState<S>,
  ): Promise<Execution<S>> {
    for (let attempt = 0; ; attempt++) {
      // A state loaded moments ago serves if the stream has not moved since (a cheap revision read).
      const current = attempt === 0 && preloaded && (await this.store.streamRevision(streamId)) === preloaded.revision;
      const { state, revision, position } = current ? preloaded : await this.load(decider, streamId);
      authorize?.(state);
      if (context.idSeed) {
        const earlier = await this.alreadyAppended(streamId, context.idSeed);
        if (earlier) return { streamId, state, ...earlier };
      }
      this.checkExpected(streamId, revision, context);
      const events = decider.decide(command, state);
      if (events.length === 0) return { streamId, state, events: [], revision, position };
      try {
        const expected = context.expectedRevision ?? (revision < 0 ? ExpectedRevision.NoStream : revision);
        const appended = await this.appendNew(streamId, events, expected, context);
        return { streamId, state, ...appended };
      } catch (error) {
        if (!(error instanceof WrongExpectedRevisionError) || context.expectedRevision !== undefined || attempt >= this.maxRetries)
          throw error;
      }
    }
  }

  /** For commands decided without folding the stream (e.g. logging an interaction). */
  async append(
    streamId: string,
    events: DomainEvent[],
    expectedRevision: ExpectedRevision,
    context: CommandContext,
  ): Promise<{ events: RecordedEventRef[]; revision: number; position: number }> {
    if (context.idSeed) {
      const earlier = await this.alreadyAppended(streamId, context.idSeed);
      if (earlier) return earlier;
    }
    return this.appendNew(streamId, events, expectedRevision, context);
  }

  private async appendNew(
    streamId: string,
    events: DomainEvent[],
    expectedRevision: ExpectedRevision,
    context: CommandContext,
  ): Promise<{ events: RecordedEventRef[]; revision: number; position: number }> {
    const newEvents = events.map((event, i) => this.toNewEvent(streamId, event, i, context));
    const result = await this.store.append(streamId, newEvents, { expectedRevision });
    return {
      events: newEvents.map((e) => ({ eventId: e.eventId, type: e.type, data: e.data, occurredAt: e.metadata.occurredAt })),
      revision: result.nextExpectedRevision,
      position: result.position,
    };
  }

  /**
   * A command with derived event ids run again (a process manager's reaction after a failover, an
   * Idempotency-Key retry on another process) finds its events among the stream's last
   * REPLAY_WINDOW ones, and appends nothing: it answers where they landed. The SQLite store refuses
   * an event id twice anywhere; EventStoreDB recognises a repeat only when it comes with the first
   * attempt's expected revision, which a run loading the stream anew does not have. Checked before
   * deciding, so a create run again answers as the first run did instead of "exists". A re-run
   * comes within seconds of the first attempt: the stream's recent events are where to look.
   */
  private async alreadyAppended(
    streamId: string,
    idSeed: string,
  ): Promise<{ events: RecordedEventRef[]; revision: number; position: number } | undefined> {
    const recent = (await this.store.readStream(streamId, { direction: 'backwards', maxCount: REPLAY_WINDOW })).reverse();
    const first = recent.findIndex((e) => e.eventId === derivedEventId(idSeed, streamId, 0));
    if (first < 0) return undefined;
    let end = first + 1;
    while (end < recent.length && recent[end].eventId === derivedEventId(idSeed, streamId, end - first)) end++;
    const block = recent.slice(first, end);
    const last = block[block.length - 1];
    return {
      events: block.map((e) => ({ eventId: e.eventId, type: e.type, data: e.data, occurredAt: e.occurredAt })),
      revision: last.streamRevision,
      position: last.globalPosition,
    };
  }

  checkExpected(streamId: string, revision: number, context: CommandContext): void {
    if (context.expectedRevision !== undefined && context.expectedRevision !== revision) {
      throw new WrongExpectedRevisionError(streamId, context.expectedRevision, revision);
    }
  }

  private toNewEvent(streamId: string, event: DomainEvent, index: number, context: CommandContext): NewEvent {
    return {
      eventId: context.idSeed ? derivedEventId(context.idSeed, streamId, index) : randomUUID(),
      type: event.type,
      data: event.data,
      schemaVersion: schemaVersionOf(event.type),
      metadata: {
        ...context.metadata,
        occurredAt: event.occurredAt,
        actor: context.actor,
        correlationId: context.correlationId,
        causationId: context.causationId,
      },
    };
  }
}
