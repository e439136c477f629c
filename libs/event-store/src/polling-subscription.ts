import type { FeedPage, ReadAllOptions, SubscribeOptions, Subscription } from './event-store';

/**
 * A catch-up-then-live subscription built on paged reads of the global feed: it reads pages
 * until the end, then sleeps until woken (an in-process append notification) or until the poll
 * interval passes (appends made by another process on the same store).
 */
export function pollingSubscription(
  readAll: (options: ReadAllOptions) => Promise<FeedPage>,
  onAppend: (listener: () => void) => () => void,
  options: SubscribeOptions & { pollIntervalMs: number },
): Subscription {
  let closed = false;
  let wake: (() => void) | undefined;
  const sleep = () =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(done, options.pollIntervalMs);
      const unsubscribe = onAppend(done);
      function done() {
        clearTimeout(timer);
        unsubscribe();
        wake = undefined;
        resolve();
      }
      wake = done;
    });

  async function* batches(): AsyncGenerator<FeedPage> {
    let position = options.fromPosition ?? 0;
    while (!closed) {
      const page = await readAll({ fromPosition: position, maxCount: options.maxBatch ?? 1000, filter: options.filter });
      if (closed) return;
      if (page.checkpoint > position) {
        position = page.checkpoint;
        yield page;
      }
      if (page.isEnd) await sleep();
    }
  }

  const iterator = batches();
  return {
    [Symbol.asyncIterator]: () => iterator,
    async close() {
      closed = true;
      wake?.();
      await iterator.return(undefined);
    },
  };
}
