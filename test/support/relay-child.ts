/**
 * A relay process for crash tests: relays the SQLite event store at argv[2] to Kafka
 * (KAFKA_BROKERS, KAFKA_TOPIC_PREFIX) with its checkpoint in the state store at argv[3].
 * Prints `started`, then `checkpoint <position>` after every acknowledged page; runs until
 * SIGTERM (graceful: prints `stopped`) or until the test SIGKILLs it.
 */
import 'reflect-metadata';
import { SqliteEventStore } from '@chronicle/event-store';
import { KafkaRelay } from '@chronicle/messaging';
import { SqliteStateStore } from '@chronicle/cluster';

async function main(): Promise<void> {
  const [eventsFile, stateFile, batch] = process.argv.slice(2);
  const events = new SqliteEventStore({ filename: eventsFile, pollIntervalMs: 50 });
  const state = new SqliteStateStore(stateFile);
  const relay = new KafkaRelay(events, state, {
    brokers: (process.env.KAFKA_BROKERS ?? '127.0.0.1:19092').split(','),
    topicPrefix: process.env.KAFKA_TOPIC_PREFIX ?? 'crm',
    batchSize: Number(batch ?? 500),
    log: (level, message) => level !== 'debug' && process.stderr.write(`[relay ${level}] ${message}\n`),
  });
  relay.on('published', (page: { checkpoint: number }) => process.stdout.write(`checkpoint ${page.checkpoint}\n`));
  let stopping = false;
  process.on('SIGTERM', () => {
    if (stopping) return;
    stopping = true;
    void relay
      .stop()
      .then(() => events.close())
      .then(() => state.close())
      .then(() => {
        process.stdout.write('stopped\n', () => process.exit(0));
      });
  });
  await relay.start();
  process.stdout.write('started\n');
}

main().catch((error) => {
  process.stderr.write(`${(error as Error).stack}\n`);
  process.exit(1);
});
