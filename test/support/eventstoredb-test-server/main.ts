/**
 * The EventStoreDB protocol test double as a process of its own, for tests that run the apps as
 * real processes (test/cluster): `node dist/test/support/eventstoredb-test-server/main.js [port]`.
 *
 * Port: argv[2], else ESDB_DOUBLE_PORT, else 0 (a free port). Binds 127.0.0.1 only. When it
 * accepts connections it prints exactly one line on stdout:
 *
 *   eventstoredb-test-server listening on esdb://127.0.0.1:<port>?tls=false
 *
 * SIGTERM / SIGINT stop it (exit 0). The log is in memory: everything is gone when it exits, so a
 * fault test cannot kill it; SIGUSR1 cuts every open client connection instead (as a network
 * failure or a server restart would, see dropConnections()) and prints `dropped connections`.
 */
import { startEventStoreDbTestServer } from './index';

async function main(): Promise<void> {
  const text = (process.argv[2] ?? process.env.ESDB_DOUBLE_PORT ?? '0').trim() || '0';
  const port = Number(text);
  if (!/^\d+$/.test(text) || port > 65535) {
    process.stderr.write(`eventstoredb-test-server: port "${text}" must be an integer between 0 and 65535\n`);
    process.exit(2);
  }
  const server = await startEventStoreDbTestServer({ port });
  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    // A stuck gRPC shutdown must not keep the process: the caller would have to SIGKILL it.
    setTimeout(() => process.exit(1), 5000).unref();
    server.stop().then(
      () => process.exit(0),
      (error) => {
        process.stderr.write(`eventstoredb-test-server: stop on ${signal} failed: ${(error as Error).message}\n`);
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  process.on('SIGUSR1', () => {
    server.dropConnections();
    process.stdout.write(`dropped connections (${server.connectionCount()} accepted so far)\n`);
  });
  process.stdout.write(`eventstoredb-test-server listening on ${server.url}\n`);
}

main().catch((error) => {
  process.stderr.write(`eventstoredb-test-server failed to start: ${(error as Error).stack ?? error}\n`);
  process.exit(1);
});
