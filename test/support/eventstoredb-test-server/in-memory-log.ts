/**
 * The storage of the EventStoreDB TEST DOUBLE: an in-memory model of EventStoreDB's transaction
 * log, close enough to the real server for the client-visible semantics the adapter relies on.
 *
 * - Every record has a log position (its byte offset) and a post-position (the offset after it).
 *   The first record is a non-event epoch record, so no event sits at position 0.
 * - Every event of an append is its own self-committed prepare record (what EventStoreDB 20+ writes
 *   for gRPC appends; explicit transactions are legacy TCP only). Its `$all` position is therefore
 *   (commit = its log position, prepare = its log position); the events of one multi-event append
 *   have distinct, increasing positions and share the transaction position (the first one's).
 * - The append result position is the last event's (CommitAck carries the last prepare's position).
 * - Reads from a position that is not a record boundary fail (the real server answers
 *   InvalidPosition), so a client that invents positions is caught.
 */

/** A $all position, (commit, prepare). */
export interface TfPos {
  commit: number;
  prepare: number;
}

export function comparePos(a: TfPos, b: TfPos): number {
  return a.commit !== b.commit ? a.commit - b.commit : a.prepare - b.prepare;
}

export interface LogEvent {
  logPosition: number;
  postPosition: number;
  /** Log position of the first event of the append that wrote this one. */
  transactionPosition: number;
  streamId: string;
  revision: number;
  eventId: string;
  type: string;
  contentType: string;
  data: Uint8Array;
  metadata: Uint8Array;
  /** .NET ticks (100 ns) since the Unix epoch, as the server sends `created`. */
  createdTicks: bigint;
}

export function positionOf(event: LogEvent): TfPos {
  return { commit: event.logPosition, prepare: event.logPosition };
}

export interface ProposedEvent {
  eventId: string;
  type: string;
  contentType: string;
  data: Uint8Array;
  metadata: Uint8Array;
}

/** Expected revision as the server sees it: a revision, or one of the ExpectedVersion constants. */
export type Expected = { kind: 'any' } | { kind: 'no-stream' } | { kind: 'exists' } | { kind: 'revision'; revision: number };

export type AppendOutcome =
  | { kind: 'success'; currentRevision: number; position: TfPos }
  | { kind: 'wrong-expected-version'; currentRevision: number /* -1: no stream */ };

export class InvalidPositionError extends Error {
  constructor(position: TfPos) {
    super(`Invalid position: ${position.commit}/${position.prepare} is not a record boundary of the log.`);
    this.name = 'InvalidPositionError';
  }
}

const EPOCH_RECORD_SIZE = 128;
const PREPARE_HEADER_SIZE = 84;

export class InMemoryLog {
  /** Every event, system ones included, in log order. */
  readonly events: LogEvent[] = [];
  private readonly streams = new Map<string, LogEvent[]>();
  private readonly byEventId = new Map<string, LogEvent>();
  private readonly boundaries = new Set<number>([0]);
  private readonly listeners = new Set<(event: LogEvent) => void>();
  /** Position the next record will be written at (the writer checkpoint). */
  private end = 0;

  constructor() {
    this.writeNonEventRecord(EPOCH_RECORD_SIZE); // the epoch record that opens every chunk 0
  }

  get endPosition(): number {
    return this.end;
  }

  onEvent(listener: (event: LogEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** A record that is not an event (epoch, scavenge point, …): it moves positions without appearing in $all. */
  writeNonEventRecord(size: number): void {
    this.end += size;
    this.boundaries.add(this.end);
  }

  isBoundary(position: number): boolean {
    return this.boundaries.has(position);
  }

  /** The position must start at a record boundary, or lie past the end (which reads as "nothing yet"). */
  assertReadable(position: TfPos): void {
    if (position.commit < this.end && !this.boundaries.has(position.commit)) throw new InvalidPositionError(position);
  }

  stream(streamId: string): readonly LogEvent[] | undefined {
    return this.streams.get(streamId);
  }

  lastRevision(streamId: string): number {
    const events = this.streams.get(streamId);
    return events ? events.length - 1 : -1;
  }

  /**
   * The write path of EventStoreDB's IndexWriter.CheckCommit + StorageWriter, minus the parts that
   * need a disk: expected-version rules, idempotent re-appends, atomic write of the whole batch.
   */
  append(streamId: string, expected: Expected, proposed: ProposedEvent[]): AppendOutcome {
    const current = this.lastRevision(streamId);
    const decision = this.checkCommit(streamId, expected, current, proposed);
    if (decision.kind !== 'ok') return decision;
    if (proposed.length === 0) {
      // An empty append succeeds without writing; there is no position to report.
      return { kind: 'success', currentRevision: current, position: { commit: -1, prepare: -1 } };
    }
    const createdTicks = BigInt(Date.now()) * 10_000n;
    const written: LogEvent[] = [];
    let transactionPosition = -1;
    proposed.forEach((p, i) => {
      const logPosition = this.end;
      if (i === 0) transactionPosition = logPosition;
      const size = PREPARE_HEADER_SIZE + 2 * (streamId.length + p.type.length) + p.data.length + p.metadata.length;
      const event: LogEvent = {
        logPosition,
        postPosition: logPosition + size,
        transactionPosition,
        streamId,
        revision: current + 1 + i,
        eventId: p.eventId,
        type: p.type,
        contentType: p.contentType,
        data: p.data,
        metadata: p.metadata,
        createdTicks,
      };
      this.writeNonEventRecord(size);
      written.push(event);
    });
    const events = this.streams.get(streamId) ?? [];
    this.streams.set(streamId, events);
    for (const event of written) {
      this.events.push(event);
      events.push(event);
      this.byEventId.set(event.eventId, event);
    }
    for (const event of written) for (const listener of [...this.listeners]) listener(event);
    const last = written[written.length - 1];
    return { kind: 'success', currentRevision: last.revision, position: positionOf(last) };
  }

  private checkCommit(streamId: string, expected: Expected, current: number, proposed: ProposedEvent[]): { kind: 'ok' } | AppendOutcome {
    const wrong = { kind: 'wrong-expected-version' as const, currentRevision: current };
    const idempotent = (last: LogEvent): AppendOutcome => ({ kind: 'success', currentRevision: last.revision, position: positionOf(last) });

    if (expected.kind === 'any' || expected.kind === 'exists') {
      // Any/StreamExists: idempotent when every event id is already committed to this stream.
      let last: LogEvent | undefined;
      for (const [i, p] of proposed.entries()) {
        const found = this.byEventId.get(p.eventId);
        if (!found || found.streamId !== streamId) {
          if (i > 0) return wrong; // corrupted idempotency: part of the batch is stored, part is not
          last = undefined;
          break;
        }
        last = found;
      }
      if (last) return idempotent(last);
      if (expected.kind === 'exists' && current < 0) return wrong;
      return { kind: 'ok' };
    }

    const expectedRevision = expected.kind === 'no-stream' ? -1 : expected.revision;
    if (expectedRevision === current) return { kind: 'ok' };
    if (expectedRevision > current) return wrong;
    // expected < current: idempotent only when the events after `expected` are exactly these ids.
    const events = this.streams.get(streamId) ?? [];
    let last: LogEvent | undefined;
    for (const [i, p] of proposed.entries()) {
      const stored = events[expectedRevision + 1 + i];
      if (!stored || stored.eventId !== p.eventId) return wrong; // first mismatch: WEV; later: corrupted idempotency, also WEV
      last = stored;
    }
    return last ? idempotent(last) : wrong;
  }

  /** $all forwards: events at or after `from` (forward reads are inclusive). */
  allForwards(from: TfPos | 'start'): LogEvent[] {
    if (from === 'start') return this.events;
    this.assertReadable(from);
    return this.events.slice(this.firstIndexAtOrAfter(from));
  }

  /** $all backwards: events strictly before `from` (backward reads take a post-position), newest first. */
  allBackwards(from: TfPos | 'end'): LogEvent[] {
    if (from !== 'end') this.assertReadable(from);
    const end = from === 'end' ? this.events.length : this.firstIndexAtOrAfter(from);
    return this.events.slice(0, end).reverse();
  }

  /** The last event in the log (system ones included), if any. */
  lastEvent(): LogEvent | undefined {
    return this.events[this.events.length - 1];
  }

  private firstIndexAtOrAfter(position: TfPos): number {
    let low = 0;
    let high = this.events.length;
    while (low < high) {
      const mid = (low + high) >>> 1;
      if (comparePos(positionOf(this.events[mid]), position) < 0) low = mid + 1;
      else high = mid;
    }
    return low;
  }
}
