import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { EventStore } from '@chronicle/event-store';
import { openEventStore } from '../../../test/support/event-store-under-test';
import { EmbeddedReadStore } from '@chronicle/read-store';
import type { Projection } from './projection';
import { projectionRole, Projector } from './projector';
import { ReadModels } from './read-models';
import { GatedStore } from './testing/gated-store';

/** Counts events per stream; `factor` lets a new version compute something different. */
const counter = (version: number, factor = 1): Projection => ({
  name: 'counter',
  version,
  collections: ['counts'],
  indexes: { counts: ['n'] },
  async apply(event, ctx) {
    const doc = (await ctx.get<{ _id: string; n: number }>('counts', event.streamId)) ?? { _id: event.streamId, n: 0 };
    ctx.put('counts', { ...doc, n: doc.n + factor });
  },
});

const newEvent = () => ({
  eventId: randomUUID(),
  type: 'Happened',
  data: {},
  metadata: { occurredAt: new Date().toISOString(), actor: 'a', correlationId: 'c', causationId: 'c' },
});

async function until(check: () => Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not reached in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('Projector', () => {
  let dir: string;
  let events: EventStore;
  let closeEvents: () => Promise<void>;
  let reads: EmbeddedReadStore;

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'chronicle-projector-'));
    ({ store: events, close: closeEvents } = await openEventStore(dir, { pollIntervalMs: 20 }));
    reads = new EmbeddedReadStore(join(dir, 'reads.db'));
  });
  afterEach(async () => {
    await closeEvents();
    await reads.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const count = async (models: ReadModels, stream: string) => (await (await models.collection('counter', 'counts')).findById(stream))?.n;

  it('projects history and live events, and resumes from its checkpoint after a restart', async () => {
    for (let i = 0; i < 5; i++) await events.append('a-1', [newEvent()]);
    let projector = new Projector(events, reads, [counter(1)], { batchSize: 2 });
    await projector.start();
    const models = new ReadModels(reads, events, ['counter'], projector);
    await models.waitFor(await events.headPosition());
    expect(await count(models, 'a-1')).toBe(5);
    const { position } = await events.append('a-1', [newEvent()]);
    await models.waitFor(position);
    expect(await count(models, 'a-1')).toBe(6);
    await projector.stop();

    await events.append('a-1', [newEvent()]);
    projector = new Projector(events, reads, [counter(1)], { batchSize: 2 });
    await projector.start();
    const again = new ReadModels(reads, events, ['counter'], projector);
    await again.waitFor(await events.headPosition());
    expect(await count(again, 'a-1')).toBe(7); // not 7 + the 6 already counted
    expect((await again.info())[0]).toMatchObject({
      name: 'counter',
      checkpoint: await events.headPosition(),
      lag: 0,
      status: 'live',
      generation: 1,
    });
    await projector.stop();
  });

  it('a page that waited for the lock while the commit under way failed is read again, not applied past the rolled-back checkpoint', async () => {
    for (let i = 0; i < 10; i++) await events.append(`s-${i % 2}`, [newEvent()]);
    const gated = new GatedStore(reads);
    const projector = new Projector(events, gated, [counter(1), { ...counter(1), name: 'other' }], { batchSize: 5 });
    await projector.startCoordinated(() => undefined);
    try {
      const fence = (name: string) => ({ role: projectionRole(name), token: 1, valid: () => true });
      await projector.runner('counter').start(fence('counter'));
      await projector.runner('other').start(fence('other'));
      const models = new ReadModels(reads, events, ['counter'], undefined, 0);
      await models.waitFor(await events.headPosition(), 10_000);
      // The next page's commit waits at the gate, then fails …
      gated.hold();
      gated.failNext = true;
      const arrivals = gated.arrivals;
      await events.append('s-0', [newEvent(), newEvent()]);
      await until(async () => gated.arrivals > arrivals);
      // … while a projection leaves (under the lock it waits for that commit) and the page after it
      // is read and waits for the lock.
      const leaving = projector.runner('other').stop();
      await new Promise((r) => setTimeout(r, 50));
      const { position } = await events.append('s-1', [newEvent(), newEvent(), newEvent()]);
      await new Promise((r) => setTimeout(r, 100));
      gated.gate!.open();
      await leaving;
      await models.waitFor(position, 10_000);
      expect([await count(models, 's-0'), await count(models, 's-1')]).toEqual([7, 8]);
    } finally {
      await projector.stop();
    }
  });

  it('a role whose lease lapsed while the last page was applied is given up at once, and read again by its next holder', async () => {
    for (let i = 0; i < 10; i++) await events.append(`s-${i % 2}`, [newEvent()]);
    const gated = new GatedStore(reads);
    const projector = new Projector(events, gated, [counter(1), { ...counter(1), name: 'other' }], { batchSize: 5 });
    const fence = (name: string, token: number) => ({ role: projectionRole(name), token, valid: () => true });
    // The coordinator's part: a lost role is stopped, then taken again with the next token.
    const lost: string[] = [];
    let taken: Promise<void> = Promise.resolve();
    await projector.startCoordinated((role) => {
      lost.push(role);
      const runner = projector.runner(role.slice('projection:'.length));
      taken = runner.stop().then(() => runner.start(fence('counter', 2)));
    });
    try {
      await projector.runner('counter').start(fence('counter', 1));
      await projector.runner('other').start(fence('other', 1));
      const models = new ReadModels(reads, events, ['counter', 'other'], undefined, 0);
      await models.waitFor(await events.headPosition(), 10_000);
      // The last page before a quiet feed: no later page would find the role's batch unapplied.
      gated.lapseNext = projectionRole('counter');
      const { position } = await events.append('s-0', [newEvent(), newEvent()]);
      await until(async () => lost.length > 0);
      expect(lost).toEqual([projectionRole('counter')]);
      await taken;
      await models.waitFor(position, 10_000);
      expect([await count(models, 's-0'), await count(models, 's-1')]).toEqual([7, 5]);
      const other = await (await models.collection('other', 'counts')).findById('s-0');
      expect(other?.n).toBe(7);
    } finally {
      await projector.stop();
    }
  });

  it('a projection worked again after another process wrote it reads what that process wrote (nothing cached from before holds)', async () => {
    for (let i = 0; i < 10; i++) await events.append(`s-${i % 2}`, [newEvent()]);
    const fence = (token: number) => ({ role: projectionRole('counter'), token, valid: () => true });
    const gated = new GatedStore(reads);
    const a = new Projector(events, gated, [counter(1)], { batchSize: 5 });
    const b = new Projector(events, reads, [counter(1)], { batchSize: 5 });
    await a.startCoordinated(() => undefined);
    await b.startCoordinated(() => undefined);
    try {
      // A joins while the collections are empty (marked fresh), and its first commit fails.
      gated.failNext = true;
      await expect(a.runner('counter').start(fence(1))).rejects.toThrow('disk full');
      await a.runner('counter').stop();
      // B works the projection for a while, then hands it back.
      await b.runner('counter').start(fence(2));
      const models = new ReadModels(reads, events, ['counter'], undefined, 0);
      await models.waitFor(await events.headPosition(), 10_000);
      await b.runner('counter').stop();
      await a.runner('counter').start(fence(3));
      const { position } = await events.append('s-0', [newEvent(), newEvent()]);
      await models.waitFor(position, 10_000);
      expect(await count(models, 's-0')).toBe(7);
    } finally {
      await a.stop();
      await b.stop();
    }
  });

  it('rebuilds a new version into the next generation while the old one serves, then swaps', async () => {
    for (let i = 0; i < 50; i++) await events.append(`a-${i % 5}`, [newEvent()]);
    const v1 = new Projector(events, reads, [counter(1)]);
    await v1.start();
    await new ReadModels(reads, events, ['counter'], v1).waitFor(await events.headPosition());
    await v1.stop();

    const v2 = new Projector(events, reads, [counter(2, 10)], { batchSize: 5 });
    const models = new ReadModels(reads, events, ['counter'], v2);
    const swapped = new Promise<void>((resolve) => v2.on('rebuild', (p) => p.done && resolve()));
    await v2.start();
    // Meanwhile the old generation keeps answering, and new events keep arriving.
    expect(await count(models, 'a-0')).toBeGreaterThanOrEqual(10);
    const { position } = await events.append('a-0', [newEvent()]);
    await swapped;
    await models.waitFor(position);
    expect(await count(models, 'a-0')).toBe(110); // 11 events × 10: nothing lost across the swap
    expect((await models.info())[0]).toMatchObject({ version: 2, generation: 2, status: 'live' });
    await v2.stop();
  });

  it('a rebuild that fails while it sets up gives its role up, and the next holder builds the projection', async () => {
    for (let i = 0; i < 20; i++) await events.append(`a-${i % 2}`, [newEvent()]);
    const fence = (token: number) => ({ role: projectionRole('counter'), token, valid: () => true });
    const v1 = new Projector(events, reads, [counter(1)], { batchSize: 5 });
    await v1.startCoordinated(() => undefined);
    await v1.runner('counter').start(fence(1));
    const models = new ReadModels(reads, events, ['counter'], undefined, 0);
    await models.waitFor(await events.headPosition(), 10_000);
    await v1.stop();

    // A new version is built apart, into generation 2; creating its indexes fails once.
    const gated = new GatedStore(reads);
    gated.failIndexOn = 'counter.counts.g2';
    const v2 = new Projector(events, gated, [counter(2, 10)], { batchSize: 5 });
    const lost: string[] = [];
    let taken: Promise<void> = Promise.resolve();
    await v2.startCoordinated((role) => {
      lost.push(role);
      taken = v2
        .runner('counter')
        .stop()
        .then(() => v2.runner('counter').start(fence(3)));
    });
    try {
      await v2.runner('counter').start(fence(2));
      await until(async () => lost.length > 0);
      expect(lost).toEqual([projectionRole('counter')]);
      await taken;
      await until(async () => (await models.info())[0].version === 2, 10_000);
      expect(await count(models, 'a-0')).toBe(100);
    } finally {
      await v2.stop();
    }
  });

  it('an explicit rebuild gives the same read model as before', async () => {
    for (let i = 0; i < 30; i++) await events.append(`a-${i % 3}`, [newEvent()]);
    const projector = new Projector(events, reads, [counter(1)], { dropDelayMs: 0 });
    await projector.start();
    const models = new ReadModels(reads, events, ['counter'], projector);
    await models.waitFor(await events.headPosition());
    const before = await (await models.collection('counter', 'counts')).find();
    await projector.rebuild('counter', 'test');
    const after = await (await models.collection('counter', 'counts')).find();
    expect(after).toEqual(before);
    expect((await models.info())[0].generation).toBe(2);
    await until(async () => !(await reads.listCollections()).includes('counter.counts.g1'));
    await projector.stop();
  });

  it('a projection added later is built from the whole history on the next start, the others staying live', async () => {
    for (let i = 0; i < 40; i++) await events.append(`a-${i % 4}`, [newEvent()]);
    const first = new Projector(events, reads, [counter(1)]);
    await first.start();
    await new ReadModels(reads, events, ['counter'], first).waitFor(await events.headPosition());
    await first.stop();

    const streams: Projection = {
      name: 'streams',
      version: 1,
      collections: ['seen'],
      apply: (event, ctx) => ctx.put('seen', { _id: event.streamId, last: event.globalPosition }),
    };
    const second = new Projector(events, reads, [counter(1), streams], { batchSize: 7 });
    const built = new Promise<void>((resolve) => second.on('rebuild', (p) => p.projection === 'streams' && p.done && resolve()));
    await second.start();
    const models = new ReadModels(reads, events, ['counter', 'streams'], second);
    await built;
    const seen = await (await models.collection('streams', 'seen')).find();
    expect(seen.map((d) => d._id)).toEqual(['a-0', 'a-1', 'a-2', 'a-3']);
    expect(seen.find((d) => d._id === 'a-3')?.last).toBe(await events.headPosition());
    expect(await count(models, 'a-0')).toBe(10); // counter was not replayed
    expect((await models.info()).map((p) => [p.name, p.status, p.generation])).toEqual([
      ['counter', 'live', 1],
      ['streams', 'live', 1],
    ]);
    await second.stop();
  });
});
