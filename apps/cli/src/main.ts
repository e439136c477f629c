import 'reflect-metadata';
import { Command, InvalidArgumentError } from 'commander';
import { SingleBar, Presets } from 'cli-progress';
import { createWriteStream } from 'node:fs';
import { projectionRole, Projector, ReadModels } from '@chronicle/projector';
import { projections } from '@chronicle/projections';
import { ChronicleConfig, ConfigError, createEventStore, createReadStore, createStateStore, loadConfig } from '@chronicle/shared';
import { generateHistory } from './seed/generator';
import { appendHistory } from './seed/seed';

const integer = (name: string) => (value: string) => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError(`${name} must be a non-negative integer`);
  return n;
};

function config(): ChronicleConfig {
  try {
    return loadConfig(process.env);
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(2);
    }
    throw error;
  }
}

const program = new Command('chronicle').description('Chronicle command line: seed demo data, rebuild projections, export events').showHelpAfterError();

program
  .command('seed')
  .description('append a realistic two-year CRM history to the event store')
  .option('--events <n>', 'approximate number of events', integer('--events'), 10_000)
  .option('--seed <n>', 'random seed (same seed, same history)', integer('--seed'), 42)
  .option('--years <n>', 'years of history, ending now', integer('--years'), 2)
  .action(async (options: { events: number; seed: number; years: number }) => {
    const cfg = config();
    const started = Date.now();
    const history = generateHistory({ events: options.events, seed: options.seed, years: options.years, pipeline: cfg.pipeline });
    const store = createEventStore(cfg);
    const bar = new SingleBar({ format: 'seed |{bar}| {value}/{total} events | {rate} events/s | ETA {eta}s' }, Presets.shades_classic);
    bar.start(history.length, 0, { rate: 0 });
    await appendHistory(store, history, (done) => bar.update(done, { rate: Math.round(done / ((Date.now() - started) / 1000)) }));
    bar.stop();
    await store.close();
    process.stdout.write(`appended ${history.length} events in ${((Date.now() - started) / 1000).toFixed(1)} s to ${cfg.eventStore === 'sqlite' ? cfg.dataDir : cfg.eventStoreUrl}\n`);
  });

const projectionsCommand = program.command('projections').description('projection status and rebuilds');

projectionsCommand
  .command('status')
  .description("each projection's checkpoint, lag, status and holder (the process working its role); the process managers' and the relay's")
  .action(async () => {
    const cfg = config();
    const events = createEventStore(cfg);
    const reads = await createReadStore(cfg);
    const state = await createStateStore(cfg);
    const models = new ReadModels(reads, events, projections.map((p) => p.name));
    const [info, leases, checkpoints, head] = await Promise.all([models.info(), state.leases(), state.checkpoints(), events.headPosition()]);
    const holders = new Map(leases.map((l) => [l.role, l.released ? 'released' : `${l.holder.host}:${l.holder.pid} (token ${l.token})`]));
    console.table(
      info.map((p) => ({ name: p.name, version: p.version, generation: p.generation, checkpoint: p.checkpoint, lag: p.lag, status: p.status, holder: holders.get(projectionRole(p.name)) ?? '-' })),
    );
    const consumers = checkpoints.filter((c) => !c.name.startsWith('projection:'));
    if (consumers.length) console.table(consumers.map((c) => ({ role: c.name, checkpoint: c.position, lag: Math.max(0, head - c.position), holder: holders.get(c.name) ?? '-' })));
    process.stdout.write(`projector running: ${await models.projectorAlive()}\n`);
    await events.close();
    await reads.close();
    await state.close();
  });

projectionsCommand
  .command('rebuild <name>')
  .description('rebuild a projection from the whole history into a fresh generation, then swap it in')
  .action(async (name: string) => {
    const cfg = config();
    if (!projections.some((p) => p.name === name)) {
      process.stderr.write(`no projection "${name}"; projections: ${projections.map((p) => p.name).join(', ')}\n`);
      process.exit(2);
    }
    const events = createEventStore(cfg);
    const reads = await createReadStore(cfg);
    const models = new ReadModels(reads, events, projections.map((p) => p.name));
    const bar = new SingleBar({ format: `${name} |{bar}| {value}/{total} | {eps} events/s | ETA {eta}s` }, Presets.shades_classic);
    let projector: Projector | undefined;
    if (await models.projectorAlive()) {
      // A projector runs elsewhere (npm start or apps/projector): ask it, and follow its progress.
      const before = (await models.info()).find((p) => p.name === name)!.generation;
      await models.requestRebuild(name, 'cli');
      process.stdout.write('rebuild requested from the running projector\n');
      bar.start(await events.headPosition(), 0, { eps: 0 });
      const requestedAt = Date.now();
      for (;;) {
        await new Promise((r) => setTimeout(r, 500));
        const info = (await models.info()).find((p) => p.name === name)!;
        if (info.generation > before && !info.rebuild) break; // swapped in
        if (info.rebuild) {
          bar.setTotal(info.rebuild.checkpoint + info.rebuild.lag);
          bar.update(info.rebuild.checkpoint, { eps: info.rebuild.eventsPerSecond ?? 0 });
        } else if (Date.now() - requestedAt > 30_000) {
          bar.stop();
          process.stderr.write('the running projector has not started the rebuild within 30 s\n');
          process.exit(1);
        }
      }
    } else {
      // No projector running: do the rebuild in this process.
      projector = new Projector(events, reads, projections);
      projector.on('rebuild', (p: { projection: string; checkpoint: number; head: number; eventsPerSecond: number }) => {
        if (p.projection !== name) return;
        bar.setTotal(p.head);
        bar.update(p.checkpoint, { eps: p.eventsPerSecond });
      });
      await projector.start();
      bar.start(await events.headPosition(), 0, { eps: 0 });
      await projector.rebuild(name, 'cli');
    }
    bar.stop();
    const info = (await models.info()).find((p) => p.name === name)!;
    process.stdout.write(`${name}: generation ${info.generation} live at position ${info.checkpoint}\n`);
    await projector?.stop();
    await events.close();
    await reads.close();
  });

program
  .command('export')
  .description('write the global feed as NDJSON (one event with its metadata per line)')
  .option('--from <position>', 'start after this position', integer('--from'), 0)
  .option('--category <category>', 'only streams of this category (customer, deal, …)')
  .option('--out <file>', 'file to write (default: standard output)')
  .action(async (options: { from: number; category?: string; out?: string }) => {
    const cfg = config();
    const store = createEventStore(cfg);
    const out = options.out ? createWriteStream(options.out) : process.stdout;
    let from = options.from;
    for (;;) {
      const page = await store.readAll({ fromPosition: from, maxCount: 5000, filter: options.category ? { categories: [options.category] } : undefined });
      for (const event of page.events) out.write(`${JSON.stringify(event)}\n`);
      from = page.checkpoint;
      if (page.isEnd) break;
    }
    if (options.out) await new Promise<void>((resolve) => (out as NodeJS.WritableStream).end(() => resolve()));
    await store.close();
  });

program.parseAsync(process.argv).catch((error) => {
  process.stderr.write(`chronicle: ${(error as Error).message}\n`);
  process.exit(1);
});
