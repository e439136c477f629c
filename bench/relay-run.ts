/**
 * Kafka relay throughput on its own:
 *   node -r @swc-node/register bench/relay-run.ts [--events=200000] [--runs=3] [--batch=2000] [--compression=none|gzip]
 * Uses KAFKA_BROKERS, else starts test/support/servers/kafka.sh for the run (and stops it after).
 */
import { benchRelay, ensureLocalKafka } from './relay';

async function main(): Promise<void> {
  const args = new Map(
    process.argv.slice(2).map((a) => {
      const m = /^--([a-z-]+)=(.*)$/.exec(a);
      if (!m) throw new Error(`unknown argument "${a}"`);
      return [m[1], m[2]] as const;
    }),
  );
  const num = (name: string) => (args.has(name) ? Number(args.get(name)) : undefined);
  const stopBroker = process.env.KAFKA_BROKERS ? () => undefined : await ensureLocalKafka();
  try {
    const result = await benchRelay({
      events: num('events'),
      runs: num('runs'),
      batchSize: num('batch'),
      maxRequestBytes: num('max-request-bytes'),
      compression: args.get('compression') as 'none' | 'gzip' | undefined,
    });
    const bar = 20_000;
    const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
    process.stdout.write(
      `relay to Kafka: median ${fmt(result.median)} events/s over ${result.eventsPerSecond.length} runs ` +
        `[${result.eventsPerSecond.map(fmt).join(', ')}], ${fmt(result.events)} events, page ${result.batchSize}; ` +
        `bar ≥ ${fmt(bar)}: ${result.median >= bar ? 'PASS' : 'MISS'}\n` +
        `reference (same runs): ${result.reference.label} median ${fmt(result.reference.median)} events/s ` +
        `[${result.reference.eventsPerSecond.map(fmt).join(', ')}]; relay/raw median ${result.ratio.median.toFixed(2)}\n`,
    );
  } finally {
    stopBroker();
  }
}

main().catch((error) => {
  process.stderr.write(`${(error as Error).stack ?? error}\n`);
  process.exit(1);
});
