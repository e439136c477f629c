import { CatchUpConsumer } from './catch-up-consumer';
import { newEvent } from './contract/event-store.contract';
import type { EventStore, FeedPage, Subscription } from './event-store';
import { SqliteEventStore } from './sqlite/sqlite-event-store';

/** A subscription that delivers nothing until it is closed (a feed that stopped delivering). */
function deaf(): Subscription {
  let end: () => void = () => undefined;
  const ended = new Promise<void>((resolve) => (end = resolve));
  return {
    [Symbol.asyncIterator]: () => ({ next: async () => (await ended, { done: true as const, value: undefined }) }),
    close: async () => end(),
  };
}

/** Worse: one that neither delivers nor ends, and whose close never returns. */
function stuck(): Subscription {
  const never = new Promise<never>(() => undefined);
  return { [Symbol.asyncIterator]: () => ({ next: () => never }), close: () => never };
}

async function until(condition: () => boolean, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('CatchUpConsumer', () => {
  let store: SqliteEventStore;
  let subscriptions: number;
  let feed: EventStore;
  let first: () => Subscription;

  beforeEach(async () => {
    store = new SqliteEventStore({ filename: ':memory:', pollIntervalMs: 20 });
    await store.append('deal-1', [newEvent('A'), newEvent('B'), newEvent('C')]);
    subscriptions = 0;
    first = deaf;
    // The first subscription is deaf; the next ones are the store's.
    feed = new Proxy(store, {
      get: (target, key) => {
        if (key === 'subscribeToAll')
          return (...args: Parameters<EventStore['subscribeToAll']>) => (++subscriptions === 1 ? first() : target.subscribeToAll(...args));
        const value: unknown = Reflect.get(target, key);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
  });
  afterEach(() => store.close());

  function consumer(stallAfterMs: number | undefined, logs: string[], handled: string[]) {
    let checkpoint = 0;
    return new CatchUpConsumer({
      name: 'test',
      store: feed,
      checkpoint: () => checkpoint,
      handle: async (page: FeedPage) => {
        handled.push(...page.events.map((e) => e.type));
        checkpoint = page.checkpoint;
      },
      stallAfterMs,
      log: (level, message) => logs.push(`${level}: ${message}`),
    });
  }

  it('a subscription that stops delivering while the head is ahead is noticed, named and read again from the checkpoint', async () => {
    const logs: string[] = [];
    const handled: string[] = [];
    const c = consumer(300, logs, handled);
    c.start();
    await until(() => handled.length === 3);
    await c.stop();
    expect(handled).toEqual(['A', 'B', 'C']);
    expect(subscriptions).toBe(2);
    expect(logs.filter((l) => l.startsWith('warn'))).toEqual([
      expect.stringMatching(
        /^warn: test: no page handled for \d+ s while the feed's head \(3\) is past position 0; waiting for a page for \d+ s; reading the feed again from the checkpoint$/,
      ),
    ]);
  });

  it('a subscription that neither delivers nor closes does not hold the loop: it is left behind', async () => {
    const logs: string[] = [];
    const handled: string[] = [];
    first = stuck;
    const c = consumer(300, logs, handled);
    c.start();
    await until(() => handled.length === 3, 3000); // well before the close gives up (5 s)
    await c.stop();
    expect(handled).toEqual(['A', 'B', 'C']);
    expect(subscriptions).toBe(2);
  });

  it('a consumer at the head for longer than the stall period is left alone', async () => {
    const logs: string[] = [];
    const handled: string[] = [];
    subscriptions = 1; // no deaf subscription
    const c = consumer(200, logs, handled);
    c.start();
    await until(() => handled.length === 3);
    await new Promise((resolve) => setTimeout(resolve, 800));
    await c.stop();
    expect(subscriptions).toBe(2);
    expect(logs).toEqual([]);
  });

  it('without stallAfterMs a deaf subscription is not second-guessed', async () => {
    const logs: string[] = [];
    const handled: string[] = [];
    const c = consumer(undefined, logs, handled);
    c.start();
    await new Promise((resolve) => setTimeout(resolve, 600));
    await c.stop();
    expect(handled).toEqual([]);
    expect(subscriptions).toBe(1);
  });

  it('a failure the caller times itself waits that long (not the backoff), and retryNow ends the wait at once', async () => {
    let failures = 0;
    const handled: string[] = [];
    const c = new CatchUpConsumer({
      name: 'test',
      store,
      checkpoint: () => 0,
      handle: async (page: FeedPage) => {
        if (failures++ === 0) throw new Error('stopped on an event');
        handled.push(...page.events.map((e) => e.type));
      },
      onFailure: () => ({ retryAfterMs: 600_000 }),
      retry: { initialMs: 1, maxMs: 1 },
    });
    c.start();
    await until(() => c.activity.phase === 'backing off');
    expect([c.state, handled]).toEqual(['retrying', []]);
    c.retryNow();
    await until(() => handled.length === 3);
    await c.stop();
    expect(handled).toEqual(['A', 'B', 'C']);
  });
});
