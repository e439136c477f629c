import * as grpc from '@grpc/grpc-js';
import { randomUUID } from 'node:crypto';
import { Empty, StreamIdentifier, UUID } from '@eventstore/db-client/generated/shared_pb';
import { AppendReq, AppendResp, ReadReq, ReadResp } from '@eventstore/db-client/generated/streams_pb';
import { SupportedMethod, SupportedMethods } from '@eventstore/db-client/generated/serverfeatures_pb';
import { comparePos, Expected, InMemoryLog, InvalidPositionError, LogEvent, positionOf, ProposedEvent, TfPos } from './in-memory-log';

/**
 * gRPC handlers of the EventStoreDB TEST DOUBLE, written against the service definitions shipped in
 * @eventstore/db-client (the same protos the real server implements). Only what the Chronicle
 * adapter calls is implemented: ServerFeatures.GetSupportedMethods, Streams.Append, Streams.Read
 * (stream reads, $all reads, $all catch-up subscriptions with filters and checkpoints).
 */

const ReadDirection = ReadReq.Options.ReadDirection;
/** The server's page size for catch-up reads and its default filter search window (Enumerator.ReadBatchSize). */
const READ_BATCH_SIZE = 32;
const SERVER_VERSION = '24.10.0-chronicle-test-double';

type ReadCall = grpc.ServerWritableStream<ReadReq, ReadResp>;
type AppendCall = grpc.ServerReadableStream<AppendReq, AppendResp>;

function rpcError(code: grpc.status, details: string, exception?: string): Partial<grpc.StatusObject> & Error {
  const metadata = new grpc.Metadata();
  if (exception) metadata.set('exception', exception);
  return Object.assign(new Error(details), { code, details, metadata });
}

function streamName(identifier: StreamIdentifier | undefined): string {
  if (!identifier) throw rpcError(grpc.status.INVALID_ARGUMENT, 'stream identifier is required');
  return Buffer.from(identifier.getStreamName_asU8()).toString('utf8');
}

function identifierOf(name: string): StreamIdentifier {
  return new StreamIdentifier().setStreamName(Buffer.from(name, 'utf8'));
}

function parseUuid(uuid: UUID | undefined): string {
  if (!uuid) throw rpcError(grpc.status.INVALID_ARGUMENT, 'event id is required');
  if (uuid.hasStructured()) {
    const s = uuid.getStructured()!;
    const hex =
      BigInt.asUintN(64, BigInt(s.getMostSignificantBits())).toString(16).padStart(16, '0') +
      BigInt.asUintN(64, BigInt(s.getLeastSignificantBits())).toString(16).padStart(16, '0');
    return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
  }
  return uuid.getString();
}

function uuidOf(id: string, structured: boolean): UUID {
  const uuid = new UUID();
  if (!structured) return uuid.setString(id);
  const hex = id.replace(/-/g, '');
  return uuid.setStructured(
    new UUID.Structured()
      .setMostSignificantBits(BigInt.asIntN(64, BigInt(`0x${hex.slice(0, 16)}`)).toString())
      .setLeastSignificantBits(BigInt.asIntN(64, BigInt(`0x${hex.slice(16)}`)).toString()),
  );
}

export interface ResponseStyle {
  structuredIds: boolean;
  /** 20.10–22.10 servers put the transaction position (the append's first event) in prepare_position. */
  legacyPreparePositions: boolean;
}

function readEvent(event: LogEvent, style: ResponseStyle): ReadResp {
  const recorded = new ReadResp.ReadEvent.RecordedEvent()
    .setId(uuidOf(event.eventId, style.structuredIds))
    .setStreamIdentifier(identifierOf(event.streamId))
    .setStreamRevision(String(event.revision))
    .setCommitPosition(String(event.logPosition))
    .setPreparePosition(String(style.legacyPreparePositions ? event.transactionPosition : event.logPosition))
    .setData(event.data)
    .setCustomMetadata(event.metadata);
  recorded.getMetadataMap().set('type', event.type).set('content-type', event.contentType).set('created', event.createdTicks.toString());
  const read = new ReadResp.ReadEvent().setEvent(recorded).setCommitPosition(String(event.logPosition));
  return new ReadResp().setEvent(read);
}

function checkpointOf(position: TfPos): ReadResp {
  return new ReadResp().setCheckpoint(
    new ReadResp.Checkpoint().setCommitPosition(String(position.commit)).setPreparePosition(String(position.prepare)),
  );
}

/** EventStoreDB's EventFilter: prefixes (StartsWith any) or a regex (unanchored IsMatch) on the stream name or the event type. */
function eventFilterOf(options: ReadReq.Options): (event: LogEvent) => boolean {
  if (!options.hasFilter()) return () => true;
  const filter = options.getFilter()!;
  const onStream = filter.hasStreamIdentifier();
  const expression = onStream ? filter.getStreamIdentifier()! : filter.getEventType()!;
  const prefixes = expression.getPrefixList();
  const regex = expression.getRegex() ? new RegExp(expression.getRegex()) : undefined;
  return (event) => {
    const value = onStream ? event.streamId : event.type;
    if (prefixes.length > 0) return prefixes.some((prefix) => value.startsWith(prefix));
    return regex ? regex.test(value) : true;
  };
}

function allPositionOf(all: ReadReq.Options.AllOptions): TfPos | 'start' | 'end' {
  if (all.hasStart()) return 'start';
  if (all.hasEnd()) return 'end';
  const p = all.getPosition()!;
  return { commit: Number(p.getCommitPosition()), prepare: Number(p.getPreparePosition()) };
}

export interface StreamsServiceDouble {
  /** Commit position each $all subscription started after (0: from the start, -1: from the end). */
  readonly subscriptionStarts: number[];
  read(call: ReadCall): void;
  append(call: AppendCall, callback: grpc.sendUnaryData<AppendResp>): void;
}

export function serverFeaturesImplementation() {
  return {
    getSupportedMethods(_call: grpc.ServerUnaryCall<Empty, SupportedMethods>, callback: grpc.sendUnaryData<SupportedMethods>) {
      // BatchAppend is not listed, so the client appends with Streams.Append.
      const methods = [
        ['event_store.client.streams.Streams', 'read', ['position', 'events']],
        ['event_store.client.streams.Streams', 'append', []],
        ['event_store.client.server_features.ServerFeatures', 'getsupportedmethods', []],
      ] as const;
      const reply = new SupportedMethods().setEventStoreServerVersion(SERVER_VERSION);
      for (const [service, method, features] of methods) {
        reply.addMethods(
          new SupportedMethod()
            .setServiceName(service)
            .setMethodName(method)
            .setFeaturesList([...features]),
        );
      }
      callback(null, reply);
    },
  };
}

export function streamsImplementation(log: InMemoryLog, settings: { legacyPreparePositions?: boolean } = {}): StreamsServiceDouble {
  const subscriptionStarts: number[] = [];
  return {
    subscriptionStarts,
    append(call, callback) {
      let options: AppendReq.Options | undefined;
      const proposed: ProposedEvent[] = [];
      let failed = false;
      const fail = (error: Partial<grpc.StatusObject>) => {
        if (failed) return;
        failed = true;
        callback(error, null);
      };
      call.on('data', (request: AppendReq) => {
        try {
          if (!options) {
            if (!request.hasOptions()) throw rpcError(grpc.status.INVALID_ARGUMENT, 'the first append message must carry the options');
            options = request.getOptions()!;
            return;
          }
          if (!request.hasProposedMessage()) throw rpcError(grpc.status.INVALID_ARGUMENT, 'expected a proposed message');
          const message = request.getProposedMessage()!;
          const metadata = message.getMetadataMap();
          const type = metadata.get('type');
          const contentType = metadata.get('content-type');
          if (!type)
            throw rpcError(
              grpc.status.INVALID_ARGUMENT,
              'Required metadata property type is missing',
              'missing-required-metadata-property',
            );
          if (!contentType) {
            throw rpcError(
              grpc.status.INVALID_ARGUMENT,
              'Required metadata property content-type is missing',
              'missing-required-metadata-property',
            );
          }
          proposed.push({
            eventId: parseUuid(message.getId()),
            type,
            contentType,
            data: message.getData_asU8(),
            metadata: message.getCustomMetadata_asU8(),
          });
        } catch (error) {
          fail(error as grpc.StatusObject);
        }
      });
      call.on('error', () => undefined); // the client went away mid-append: nothing is written
      call.on('end', () => {
        if (failed) return;
        if (!options) return fail(rpcError(grpc.status.INVALID_ARGUMENT, 'append without options'));
        try {
          const stream = streamName(options.getStreamIdentifier());
          const expected = expectedOf(options);
          // The whole batch is checked and written in one turn of the event loop: atomic, serialised.
          const outcome = log.append(stream, expected, proposed);
          const response = new AppendResp();
          if (outcome.kind === 'success') {
            const success = new AppendResp.Success();
            if (outcome.currentRevision < 0) success.setNoStream(new Empty());
            else success.setCurrentRevision(String(outcome.currentRevision));
            if (outcome.position.commit < 0) success.setNoPosition(new Empty());
            else {
              success.setPosition(
                new AppendResp.Position()
                  .setCommitPosition(String(outcome.position.commit))
                  .setPreparePosition(String(outcome.position.prepare)),
              );
            }
            response.setSuccess(success);
          } else {
            response.setWrongExpectedVersion(wrongExpectedVersion(expected, outcome.currentRevision));
          }
          callback(null, response);
        } catch (error) {
          fail(error as grpc.StatusObject);
        }
      });
    },

    read(call) {
      const { legacyPreparePositions } = settings;
      const options = call.request.getOptions();
      try {
        if (!options) throw rpcError(grpc.status.INVALID_ARGUMENT, 'read options are required');
        const style: ResponseStyle = {
          structuredIds: options.getUuidOption()?.hasStructured() ?? false,
          legacyPreparePositions: legacyPreparePositions ?? false,
        };
        const backwards = options.getReadDirection() === ReadDirection.BACKWARDS;
        if (options.hasStream()) {
          if (options.hasSubscription()) {
            throw rpcError(grpc.status.UNIMPLEMENTED, 'the EventStoreDB test double does not implement stream subscriptions');
          }
          readStream(log, call, options.getStream()!, backwards, Number(options.getCount()), style);
          return;
        }
        if (!options.hasAll()) throw rpcError(grpc.status.INVALID_ARGUMENT, 'read needs a stream or $all');
        const from = allPositionOf(options.getAll()!);
        const filter = eventFilterOf(options);
        if (options.hasSubscription()) {
          subscriptionStarts.push(from === 'start' ? 0 : from === 'end' ? -1 : from.commit);
          subscribeToAll(log, call, options, from, filter, style);
          return;
        }
        const count = Number(options.getCount());
        let events: LogEvent[];
        if (backwards) events = log.allBackwards(from === 'start' ? { commit: 0, prepare: 0 } : from);
        else events = from === 'end' ? [] : log.allForwards(from);
        let sent = 0;
        for (const event of events) {
          if (sent >= count) break;
          if (!filter(event)) continue;
          call.write(readEvent(event, style));
          sent += 1;
        }
        call.end();
      } catch (error) {
        call.emit('error', toStatus(error));
      }
    },
  };
}

function toStatus(error: unknown): Partial<grpc.StatusObject> {
  if (error instanceof InvalidPositionError) return rpcError(grpc.status.INVALID_ARGUMENT, error.message, 'invalid-position');
  if (error && typeof error === 'object' && 'code' in error) return error as grpc.StatusObject;
  return rpcError(grpc.status.UNKNOWN, String(error));
}

function expectedOf(options: AppendReq.Options): Expected {
  switch (options.getExpectedStreamRevisionCase()) {
    case AppendReq.Options.ExpectedStreamRevisionCase.REVISION:
      return { kind: 'revision', revision: Number(options.getRevision()) };
    case AppendReq.Options.ExpectedStreamRevisionCase.NO_STREAM:
      return { kind: 'no-stream' };
    case AppendReq.Options.ExpectedStreamRevisionCase.STREAM_EXISTS:
      return { kind: 'exists' };
    case AppendReq.Options.ExpectedStreamRevisionCase.ANY:
      return { kind: 'any' };
    default:
      throw rpcError(grpc.status.INVALID_ARGUMENT, 'an expected stream revision is required');
  }
}

/** The WrongExpectedVersion details the server puts in AppendResp (current and deprecated 20.6.0 fields). */
function wrongExpectedVersion(expected: Expected, current: number): AppendResp.WrongExpectedVersion {
  const wrong = new AppendResp.WrongExpectedVersion();
  switch (expected.kind) {
    case 'any':
      wrong.setExpectedAny(new Empty()).setAny2060(new Empty());
      break;
    case 'exists':
      wrong.setExpectedStreamExists(new Empty()).setStreamExists2060(new Empty());
      break;
    case 'no-stream':
      wrong.setExpectedNoStream(new Empty());
      break;
    case 'revision':
      wrong.setExpectedRevision(String(expected.revision)).setExpectedRevision2060(expected.revision);
      break;
  }
  if (current < 0) wrong.setCurrentNoStream(new Empty()).setNoStream2060(new Empty());
  else wrong.setCurrentRevision(String(current)).setCurrentRevision2060(current);
  return wrong;
}

function readStream(
  log: InMemoryLog,
  call: ReadCall,
  options: ReadReq.Options.StreamOptions,
  backwards: boolean,
  count: number,
  style: ResponseStyle,
): void {
  const name = streamName(options.getStreamIdentifier());
  const events = log.stream(name);
  if (!events) {
    // Since 20.6 the server answers a missing stream with a StreamNotFound message, not an error status.
    call.write(new ReadResp().setStreamNotFound(new ReadResp.StreamNotFound().setStreamIdentifier(identifierOf(name))));
    call.end();
    return;
  }
  const last = events.length - 1;
  let from: number;
  if (options.hasStart()) from = 0;
  else if (options.hasEnd()) from = last;
  else from = Number(options.getRevision());
  const selected: LogEvent[] = [];
  if (backwards) for (let r = Math.min(from, last); r >= 0 && selected.length < count; r--) selected.push(events[r]);
  else if (!options.hasEnd()) for (let r = from; r <= last && selected.length < count; r++) selected.push(events[r]);
  for (const event of selected) call.write(readEvent(event, style));
  call.end();
}

/**
 * A catch-up-then-live subscription to $all, following Enumerator.AllSubscription(Filtered):
 * confirmation; catch-up in pages (a filtered page stops after READ_BATCH_SIZE matches or
 * `maxSearchWindow` considered events); a checkpoint every `checkpointInterval × maxSearchWindow`
 * considered events and one when catch-up reaches the end, equal to max(last event sent, position the
 * page was read from) — so it can be a pre-position (X, 0) of a record not yet delivered, as on the
 * real server; CaughtUp; then live events with a checkpoint (the event's own position) every interval.
 */
function subscribeToAll(
  log: InMemoryLog,
  call: ReadCall,
  options: ReadReq.Options,
  from: TfPos | 'start' | 'end',
  filter: (event: LogEvent) => boolean,
  style: ResponseStyle,
): void {
  const filtered = options.hasFilter();
  const filterOptions = options.getFilter();
  const maxSearchWindow = filterOptions?.hasMax() ? filterOptions.getMax() : READ_BATCH_SIZE;
  const checkpointInterval = filterOptions ? Math.max(1, filterOptions.getCheckpointintervalmultiplier()) * maxSearchWindow : 0;

  const last = log.lastEvent();
  const beforeFirst: TfPos = { commit: -1, prepare: -1 };
  // The position after which events are sent: exclusive, like the server's catch-up and live phases.
  let checkpoint: TfPos = from === 'start' ? beforeFirst : from === 'end' ? (last ? positionOf(last) : beforeFirst) : from;
  if (from !== 'start' && from !== 'end') log.assertReadable(from); // throws InvalidPosition before confirming
  call.write(new ReadResp().setConfirmation(new ReadResp.SubscriptionConfirmation().setSubscriptionId(randomUUID())));

  const send = (event: LogEvent) => {
    call.write(readEvent(event, style));
    checkpoint = positionOf(event);
  };
  const sendCheckpoint = (position: TfPos) => {
    if (position.commit < 0) return;
    call.write(checkpointOf(position));
  };

  if (from !== 'end') {
    // Catch-up, page by page, as the server's filtered read does (AllReader.FilteredReadAllEventsForward).
    let pagePosition: TfPos = from === 'start' ? { commit: 0, prepare: 0 } : from;
    let counter = 0;
    for (;;) {
      const currentPos = pagePosition;
      const candidates = log.allForwards(currentPos);
      let considered = 0;
      let matched = 0;
      let nextPos = currentPos;
      for (const event of candidates) {
        if (matched >= READ_BATCH_SIZE || considered >= maxSearchWindow) break;
        considered += 1;
        nextPos = { commit: event.postPosition, prepare: 0 };
        if (!filter(event)) continue;
        matched += 1;
        if (comparePos(positionOf(event), checkpoint) > 0) send(event);
      }
      const isEnd = considered < maxSearchWindow && matched < READ_BATCH_SIZE;
      counter += considered;
      if (filtered && (isEnd || counter >= checkpointInterval)) {
        if (!isEnd) counter %= checkpointInterval;
        if (comparePos(checkpoint, currentPos) < 0) checkpoint = currentPos;
        sendCheckpoint(checkpoint);
      }
      if (isEnd) break;
      pagePosition = nextPos;
    }
  }
  call.write(new ReadResp().setCaughtUp(new ReadResp.CaughtUp()));

  // Live. Everything above ran in one turn of the event loop, so no append slipped in between.
  let liveCounter = 0;
  const unsubscribe = log.onEvent((event) => {
    if (comparePos(positionOf(event), checkpoint) <= 0) return;
    if (filter(event)) send(event);
    if (!filtered) return;
    liveCounter += 1;
    if (liveCounter >= checkpointInterval) {
      liveCounter = 0;
      sendCheckpoint(positionOf(event));
    }
  });
  const stop = () => unsubscribe();
  call.on('cancelled', stop);
  call.on('close', stop);
  call.on('error', stop);
}
