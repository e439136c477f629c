/**
 * The embedded store's writer thread: applies large batches on a connection of its own, so the
 * projector applies the next page on the main thread while SQLite writes this one. Messages are
 * handled one at a time, in the order sent (see WriterThread).
 */
import { openSqlite } from '@chronicle/sqlite';
import { parentPort, workerData } from 'node:worker_threads';
import { FencedError } from '@chronicle/cluster';
import { DocumentWriter, EncodedBatch, readModelSqlite, Synchronous } from './document-writer';

export type WriterRequest = { type: 'commit'; id: number; batch: EncodedBatch } | { type: 'forget'; collection: string };
export type WriterReply = { id: number; error?: string; fenced?: string[] };

const { filename, synchronous } = workerData as { filename: string; synchronous: Synchronous };
const db = openSqlite(filename, readModelSqlite(synchronous));
// This connection makes nearly all of a replay's writes: checkpoint the WAL into the file every
// ~40 MiB rather than every 4 MiB, so a page rewritten by consecutive batches is copied once.
db.pragma('wal_autocheckpoint = 10000');
const writer = new DocumentWriter(db);

parentPort!.on('message', (request: WriterRequest) => {
  if (request.type === 'forget') return writer.forget(request.collection);
  let reply: WriterReply;
  try {
    writer.apply(request.batch);
    reply = { id: request.id };
  } catch (error) {
    reply = {
      id: request.id,
      error: (error as Error).message ?? String(error),
      fenced: error instanceof FencedError ? error.roles : undefined,
    };
  }
  parentPort!.postMessage(reply);
});
