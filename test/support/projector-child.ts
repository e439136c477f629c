/**
 * A projector process for crash tests: runs every built-in projection from the event store at
 * argv[2] into the embedded read store at argv[3] until it has caught up with the head, then exits
 * (argv[4]: page size; argv[5]: the store's `threadedCommitAt`).
 * The test SIGKILLs it at random moments.
 */
import 'reflect-metadata';
import { SqliteEventStore } from '@chronicle/event-store';
import { Projector } from '@chronicle/projector';
import { projections } from '@chronicle/projections';
import { EmbeddedReadStore } from '@chronicle/read-store';

async function main(): Promise<void> {
  const [eventsFile, readsFile, batch, threadedCommitAt] = process.argv.slice(2);
  const events = new SqliteEventStore({ filename: eventsFile });
  const reads = new EmbeddedReadStore(readsFile, { threadedCommitAt: Number(threadedCommitAt ?? 1000) });
  const projector = new Projector(events, reads, projections, { batchSize: Number(batch ?? 500), heartbeatMs: 60_000 });
  const head = await events.headPosition();
  await projector.start();
  process.stdout.write('started\n');
  await new Promise<void>((resolve) => {
    const check = () => Object.values(projector.checkpoints()).every((c) => c >= head) && resolve();
    projector.on('progress', check);
    check();
  });
  await projector.stop();
  await events.close();
  await reads.close();
  process.stdout.write('caught-up\n');
}

main().catch((error) => {
  process.stderr.write(`${(error as Error).stack}\n`);
  process.exit(1);
});
