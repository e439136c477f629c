import { extname, join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { FencedError } from '@chronicle/cluster';
import type { EncodedBatch, Synchronous } from './document-writer';
import type { WriterReply, WriterRequest } from './writer.worker';

/**
 * Client of the writer thread (writer.worker.ts). `commit` resolves once the batch is committed
 * on the thread's connection; batches commit in the order they were sent.
 */
export class WriterThread {
  private readonly worker: Worker;
  private readonly pending = new Map<number, { resolve(): void; reject(error: Error): void }>();
  private next = 1;
  /** Settles with the last batch sent; batches are answered in order. */
  private last: Promise<void> = Promise.resolve();
  private failure?: Error;

  constructor(filename: string, synchronous: Synchronous) {
    const source = extname(__filename) === '.ts'; // under Jest: the worker compiles TypeScript itself
    this.worker = new Worker(join(__dirname, `writer.worker${extname(__filename)}`), {
      workerData: { filename, synchronous },
      execArgv: source ? [...process.execArgv, '--require', '@swc-node/register'] : undefined,
    });
    this.worker.unref(); // referenced only while a batch is under way (see send)
    this.worker.on('message', (reply: WriterReply) => {
      const waiter = this.pending.get(reply.id);
      this.pending.delete(reply.id);
      if (this.pending.size === 0) this.worker.unref();
      if (reply.error === undefined) waiter?.resolve();
      else waiter?.reject(reply.fenced ? new FencedError(reply.fenced) : new Error(reply.error));
    });
    const fail = (error: Error) => {
      this.failure = error;
      for (const waiter of this.pending.values()) waiter.reject(error);
      this.pending.clear();
    };
    this.worker.on('error', fail);
    this.worker.on('exit', (code) => fail(new Error(`read-store writer thread exited (code ${code})`)));
  }

  /** False once the thread has died: the store then starts another. */
  get usable(): boolean {
    return this.failure === undefined;
  }

  get busy(): boolean {
    return this.pending.size > 0;
  }

  commit(batch: EncodedBatch): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    const id = this.next++;
    const done = new Promise<void>((resolve, reject) => this.pending.set(id, { resolve, reject }));
    try {
      this.worker.ref(); // an answer is due: the process must not exit before it
      this.worker.postMessage({ type: 'commit', id, batch } satisfies WriterRequest);
    } catch (error) {
      // nothing was sent
      this.pending.delete(id);
      if (this.pending.size === 0) this.worker.unref();
      return Promise.reject(error);
    }
    this.last = done.then(
      () => undefined,
      () => undefined,
    );
    return done;
  }

  forget(collection: string): void {
    if (!this.failure) this.worker.postMessage({ type: 'forget', collection } satisfies WriterRequest);
  }

  /** Resolves once every batch sent so far has been answered (committed or failed). */
  idle(): Promise<void> {
    return this.last;
  }

  async close(): Promise<void> {
    await this.idle();
    await this.worker.terminate();
  }
}
