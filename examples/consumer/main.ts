/**
 * Runs the example consumer until Ctrl-C, printing the view as it changes:
 *
 *   KAFKA_BROKERS=127.0.0.1:19092 node -r @swc-node/register examples/consumer/main.ts
 *
 * Env: KAFKA_BROKERS (required), KAFKA_TOPIC_PREFIX (crm), CONSUMER_GROUP (won-deals-example),
 * STATE_FILE (./won-deals.json).
 */
import { WonDealsConsumer } from './won-deals';

async function main(): Promise<void> {
  const brokers = (process.env.KAFKA_BROKERS ?? '')
    .split(',')
    .map((b) => b.trim())
    .filter(Boolean);
  if (brokers.length === 0) throw new Error('set KAFKA_BROKERS=host:port');
  const consumer = new WonDealsConsumer({
    brokers,
    topicPrefix: process.env.KAFKA_TOPIC_PREFIX || 'crm',
    groupId: process.env.CONSUMER_GROUP || 'won-deals-example',
    stateFile: process.env.STATE_FILE || 'won-deals.json',
  });
  await consumer.start();
  let last = '';
  const timer = setInterval(() => {
    const now = JSON.stringify(consumer.view.owners);
    if (now !== last) {
      last = now;
      process.stdout.write(
        `${new Date().toISOString()} applied ${consumer.view.applied}, duplicates skipped ${consumer.view.duplicatesSkipped}\n`,
      );
      for (const [owner, t] of Object.entries(consumer.view.owners))
        process.stdout.write(`  ${owner}: ${t.wonDeals} won, revenue ${t.revenue}\n`);
    }
  }, 1000);
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      clearInterval(timer);
      void consumer.stop().then(() => process.exit(0));
    });
  }
}

main().catch((error) => {
  process.stderr.write(`${(error as Error).stack ?? error}\n`);
  process.exit(1);
});
