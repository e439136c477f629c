import * as grpc from '@grpc/grpc-js';
import { AddressInfo, createConnection, createServer, Socket } from 'node:net';
import { randomUUID } from 'node:crypto';
import { ServerFeaturesService } from '@eventstore/db-client/generated/serverfeatures_grpc_pb';
import { StreamsService } from '@eventstore/db-client/generated/streams_grpc_pb';
import { InMemoryLog, LogEvent } from './in-memory-log';
import { serverFeaturesImplementation, streamsImplementation } from './streams-service';

/**
 * EventStoreDB TEST DOUBLE: an in-process gRPC server speaking the part of EventStoreDB's protocol
 * that the Chronicle adapter uses, over an in-memory log. It is not EventStoreDB: no persistence,
 * no security, no projections engine, no persistent subscriptions, no clustering or gossip. See
 * docs/eventstoredb.md for its scope and for running the same suite against a real server.
 *
 * Clients reach it through a TCP relay, so `dropConnections()` can cut every open connection the
 * way a network failure or a server restart does, while the double keeps serving new ones.
 */
export interface EventStoreDbTestServerOptions {
  /** Port to listen on (127.0.0.1); 0 or absent picks a free one. */
  port?: number;
  /**
   * Emulate the standard system projections: after each user append, write `$>` link events to
   * `$ce-<category>` and `$et-<type>` (as EventStoreDB does with projections running), so $all
   * carries system events between user events. Default true.
   */
  systemProjections?: boolean;
  /**
   * Answer reads like EventStoreDB 20.10–22.10, which put the transaction position (that of the
   * append's first event) in RecordedEvent.prepare_position; commit_position was the event's own.
   */
  legacyPreparePositions?: boolean;
}

export interface EventStoreDbTestServer {
  /** Connection string for @eventstore/db-client, e.g. esdb://127.0.0.1:41234?tls=false */
  url: string;
  port: number;
  /** Forcibly closes every open connection (and so every call on it); new connections are accepted. */
  dropConnections(): void;
  /** Appends an event to a system (`$`-prefixed) stream, as the server does for stats, scavenges, settings. */
  appendSystemEvent(streamId: string, type: string, data?: unknown): LogEvent;
  /** How many connections the relay has accepted so far (reconnections show up here). */
  connectionCount(): number;
  /** The commit position each $all subscription so far started after (0: the start, -1: the end). */
  subscriptionStarts(): number[];
  stop(): Promise<void>;
}

export async function startEventStoreDbTestServer(options: EventStoreDbTestServerOptions = {}): Promise<EventStoreDbTestServer> {
  const log = new InMemoryLog();
  const appendSystemEvent = (streamId: string, type: string, data: unknown = {}): LogEvent => {
    const outcome = log.append(streamId, { kind: 'any' }, [
      {
        eventId: randomUUID(),
        type,
        contentType: 'application/json',
        data: Buffer.from(JSON.stringify(data)),
        metadata: new Uint8Array(),
      },
    ]);
    if (outcome.kind !== 'success') throw new Error(`could not write ${type} to ${streamId}`);
    return log.stream(streamId)!.at(-1)!;
  };
  // What a fresh node writes before anyone connects (scavenge history metadata, settings).
  appendSystemEvent('$$$scavenges', '$metadata', { $maxAge: 2592000 });
  appendSystemEvent('$settings', '$settings', { $userStreamAcl: { $r: '$all' } });

  if (options.systemProjections ?? true) {
    // Link events are written after the append completes, like the projection subsystem does.
    log.onEvent((event) => {
      if (event.streamId.startsWith('$')) return;
      setImmediate(() => {
        const dash = event.streamId.indexOf('-');
        const category = dash < 0 ? event.streamId : event.streamId.slice(0, dash);
        for (const target of [`$ce-${category}`, `$et-${event.type}`]) {
          log.append(target, { kind: 'any' }, [
            {
              eventId: randomUUID(),
              type: '$>',
              contentType: 'application/octet-stream',
              data: Buffer.from(`${event.revision}@${event.streamId}`),
              metadata: Buffer.from(JSON.stringify({ $v: '1:-1:1:4', $o: event.streamId })),
            },
          ]);
        }
      });
    });
  }

  const grpcServer = new grpc.Server();
  const streams = streamsImplementation(log, { legacyPreparePositions: options.legacyPreparePositions });
  grpcServer.addService(StreamsService, streams as unknown as grpc.UntypedServiceImplementation);
  grpcServer.addService(ServerFeaturesService, serverFeaturesImplementation());
  const innerPort = await new Promise<number>((resolve, reject) =>
    grpcServer.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (error, port) => (error ? reject(error) : resolve(port))),
  );

  // The relay: one upstream connection per client connection, so dropping both ends is a clean cut.
  const sockets = new Set<Socket>();
  let accepted = 0;
  const relay = createServer((client) => {
    accepted += 1;
    const upstream = createConnection({ host: '127.0.0.1', port: innerPort });
    for (const socket of [client, upstream]) {
      socket.setNoDelay(true);
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
      socket.on('error', () => {
        client.destroy();
        upstream.destroy();
      });
    }
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise<void>((resolve, reject) => {
    relay.once('error', reject);
    relay.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  const port = (relay.address() as AddressInfo).port;

  return {
    url: `esdb://127.0.0.1:${port}?tls=false`,
    port,
    dropConnections() {
      for (const socket of [...sockets]) socket.destroy();
    },
    appendSystemEvent,
    connectionCount: () => accepted,
    subscriptionStarts: () => [...streams.subscriptionStarts],
    async stop() {
      for (const socket of [...sockets]) socket.destroy();
      await new Promise<void>((resolve) => relay.close(() => resolve()));
      grpcServer.forceShutdown();
    },
  };
}
