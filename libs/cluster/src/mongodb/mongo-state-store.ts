import { createHash } from 'node:crypto';
import type { Collection, Db, WriteConcernSettings } from 'mongodb';
import type { EventFailure, FailureRequest, SkippedEvent } from '../failure';
import { Fence, FencedError } from '../fence';
import {
  CheckpointDetails,
  CheckpointRecord,
  IdempotencyRecord,
  LeaseRecord,
  StateStore,
  WorkerInfo,
  workerInfoOf,
  WorkerRecord,
} from '../state-store';

type LeaseDocument = {
  _id: string;
  role: string;
  token: number;
  beat: number;
  holder: WorkerInfo;
  since: string;
  renewedAt: string;
  released: boolean;
};
/** `failure` is null rather than absent once cleared: a `$set` replaces it, whatever the server's `$unset` support. */
type CheckpointDocument = {
  _id: string;
  name: string;
  token: number;
  position: number;
  updatedAt: string;
  failure?: EventFailure | null;
  skipped?: SkippedEvent[];
};
type RequestDocument = FailureRequest & { _id: string };
type IdempotencyDocument = {
  _id: string;
  actor: string;
  key: string;
  requestHash: string;
  statusCode: number;
  body: string;
  createdAt: string;
};
type WorkerDocument = Omit<WorkerRecord, 'id'> & { _id: string };

export interface MongoStateStoreOptions {
  /** For the writes of leases, checkpoints and idempotency results. Default `{ w: 'majority' }`: a grant acknowledged by the primary alone could be rolled back by a failover, and then granted again. */
  writeConcern?: WriteConcernSettings;
}

const DUPLICATE_KEY = 11000;
const isDuplicateKey = (error: unknown) => (error as { code?: unknown } | undefined)?.code === DUPLICATE_KEY;

/** `<name>#<token>`, the token zero-padded so that the ids of a name sort by token. */
const docId = (name: string, token: number) => `${name}#${String(token).padStart(12, '0')}`;

/** The document of the highest token per key (at most a few per key exist: the current one and garbage not yet removed). */
function highest<D extends { token: number }>(docs: D[], keyOf: (doc: D) => string): D[] {
  const top = new Map<string, D>();
  for (const doc of docs) {
    const seen = top.get(keyOf(doc));
    if (!seen || doc.token > seen.token) top.set(keyOf(doc), doc);
  }
  return [...top.values()].sort((a, b) => keyOf(a).localeCompare(keyOf(b)));
}

const leaseOf = ({ _id, ...lease }: LeaseDocument): LeaseRecord => lease;
const checkpointOf = ({ name, position, token, updatedAt, failure, skipped }: CheckpointDocument): CheckpointRecord => ({
  name,
  position,
  token,
  updatedAt,
  ...(failure && { failure }),
  ...(skipped?.length && { skipped }),
});
/** The details as stored: every field present, so that a save replaces them all. */
const storedDetails = (details: CheckpointDetails) => ({ failure: details.failure ?? null, skipped: details.skipped ?? [] });
const detailsOfDocument = (doc: CheckpointDocument | null): Partial<CheckpointDocument> =>
  doc && (doc.failure || doc.skipped?.length) ? storedDetails({ failure: doc.failure ?? undefined, skipped: doc.skipped }) : {};

/**
 * The shared state in the read store's MongoDB database (`_checkpoints`, `_idempotency`, `_leases`,
 * `_workers`, `_requests`). It does not own the client: close() leaves it to whoever made it.
 *
 * Every compare-and-set is an insert of a unique `_id`, never a conditional update: FerretDB (1.24)
 * runs an update as a query and then writes the document back by `_id`, so `updateOne({ _id, v: 0 })`
 * run concurrently has several winners, and concurrent `$inc`s lose increments; inserts of one
 * `_id` and deletes are atomic there as in MongoDB. So each lease grant and each checkpoint claim is
 * a document of its own, `<role>#<token>`, the current one is the highest token, and only the holder
 * of a token ever updates its document.
 */
export class MongoStateStore implements StateStore {
  readonly kind = 'mongodb' as const;
  private readonly leaseDocs: Collection<LeaseDocument>;
  private readonly checkpointDocs: Collection<CheckpointDocument>;
  private readonly results: Collection<IdempotencyDocument>;
  private readonly workerDocs: Collection<WorkerDocument>;
  private readonly requestDocs: Collection<RequestDocument>;
  private indexed?: Promise<void>;

  constructor(db: Db, options: MongoStateStoreOptions = {}) {
    // Reads from a secondary could miss the newest grant or claim, whatever the client's URL prefers.
    const fenced = { writeConcern: options.writeConcern ?? { w: 'majority' }, readPreference: 'primary' } as const;
    this.leaseDocs = db.collection<LeaseDocument>('_leases', fenced);
    this.checkpointDocs = db.collection<CheckpointDocument>('_checkpoints', fenced);
    this.results = db.collection<IdempotencyDocument>('_idempotency', fenced);
    // Heartbeats are frequent and a lost one is harmless: the collection's default write concern.
    this.workerDocs = db.collection<WorkerDocument>('_workers', { readPreference: 'primary' });
    this.requestDocs = db.collection<RequestDocument>('_requests', fenced);
  }

  /** Creates the indexes once per instance, on first use (createIndex of an existing index is a no-op, so every process may do it). */
  private ready(): Promise<void> {
    this.indexed ??= Promise.all([
      this.leaseDocs.createIndex({ role: 1, token: -1 }),
      this.checkpointDocs.createIndex({ name: 1, token: -1 }),
    ]).then(
      () => undefined,
      (error) => {
        this.indexed = undefined; // try again on the next call
        throw error;
      },
    );
    return this.indexed;
  }

  // --- checkpoints ---------------------------------------------------------------------------

  private topCheckpoint(name: string, below?: number): Promise<CheckpointDocument | null> {
    return this.checkpointDocs.findOne(below === undefined ? { name } : { name, token: { $lt: below } }, { sort: { token: -1 } });
  }

  private async checkpointClaimedAbove(name: string, token: number): Promise<boolean> {
    return (await this.checkpointDocs.findOne({ name, token: { $gt: token } }, { projection: { _id: 1 } })) !== null;
  }

  async claim(name: string, fence: Fence): Promise<number> {
    await this.ready();
    const { token } = fence;
    for (let attempt = 1; ; attempt++) {
      const top = await this.topCheckpoint(name);
      if (top && top.token > token) throw new FencedError([name], `checkpoint ${name} was claimed with token ${top.token}, above ${token}`);
      if (top && top.token === token) return top.position;
      const _id = docId(name, token);
      let position = top?.position ?? 0;
      try {
        // The failure and skipped events go on with the checkpoint: the new holder honours them.
        await this.checkpointDocs.insertOne({ _id, name, token, position, updatedAt: new Date().toISOString(), ...detailsOfDocument(top) });
      } catch (error) {
        // Claimed with this very token meanwhile (the same holder, twice at once): take that claim.
        if (isDuplicateKey(error) && attempt === 1) continue;
        throw error;
      }
      // A higher claim can have landed between our read and our insert: ours is dead on arrival.
      if (await this.checkpointClaimedAbove(name, token)) {
        await this.checkpointDocs.deleteOne({ _id });
        throw new FencedError([name], `checkpoint ${name} was claimed with a token above ${token}`);
      }
      // Every save the previous holder saw succeed landed before our insert (save checks for a higher claim
      // after writing), so it is in the previous document now, perhaps beyond what we read at first: continue
      // from there, or we would handle again what it had handled and saved.
      const previous = await this.topCheckpoint(name, token);
      // The same goes for its failure and skipped events, when it saved after our read.
      if (previous && (previous.position > position || previous.updatedAt !== top?.updatedAt)) {
        position = Math.max(position, previous.position);
        await this.checkpointDocs.updateOne(
          { _id },
          { $set: { position, ...storedDetails({ failure: previous.failure ?? undefined, skipped: previous.skipped }) } },
        );
      }
      // Garbage now; deleting it also makes the previous holder's next save fail at once.
      await this.checkpointDocs.deleteMany({ name, token: { $lt: token } });
      return position;
    }
  }

  async save(name: string, position: number, fence: Fence, details?: CheckpointDetails): Promise<void> {
    await this.ready();
    const set = { position, updatedAt: new Date().toISOString(), ...(details && storedDetails(details)) };
    const { matchedCount } = await this.checkpointDocs.updateOne({ _id: docId(name, fence.token) }, { $set: set });
    // No document: a higher claim has deleted it, or it was never claimed with this token.
    if (matchedCount === 0) throw new FencedError([name], `checkpoint ${name} is not claimed with token ${fence.token} (any more)`);
    // A higher claim that has not deleted ours yet: this save went to a dead document.
    if (await this.checkpointClaimedAbove(name, fence.token))
      throw new FencedError([name], `checkpoint ${name} was claimed with a token above ${fence.token}`);
  }

  async removeCheckpoint(name: string): Promise<void> {
    await this.ready();
    await this.checkpointDocs.deleteMany({ name });
  }

  async checkpoints(): Promise<CheckpointRecord[]> {
    await this.ready();
    return highest(await this.checkpointDocs.find({}).toArray(), (d) => d.name).map(checkpointOf);
  }

  // --- failure requests -----------------------------------------------------------------------

  async leaveRequest(request: FailureRequest): Promise<void> {
    const _id = `${request.role}#${request.action}`;
    try {
      await this.requestDocs.replaceOne({ _id }, { ...request }, { upsert: true });
    } catch (error) {
      // FerretDB's upsert is a query then an insert: two requests at once make one fail with a duplicate key.
      if (!isDuplicateKey(error)) throw error;
      await this.requestDocs.replaceOne({ _id }, { ...request }, { upsert: true });
    }
  }

  async requests(role: string): Promise<FailureRequest[]> {
    const docs = await this.requestDocs.find({ role }).sort({ _id: 1 }).toArray();
    return docs.map(({ _id, ...request }) => request);
  }

  async removeRequest(request: FailureRequest): Promise<void> {
    await this.requestDocs.deleteOne({ _id: `${request.role}#${request.action}`, id: request.id });
  }

  // --- idempotency ---------------------------------------------------------------------------

  /** One fixed-length, unambiguous `_id` per (actor, key), whatever characters they hold. */
  private resultId(actor: string, key: string): string {
    return createHash('sha256')
      .update(JSON.stringify([actor, key]))
      .digest('hex');
  }

  async findResult(actor: string, key: string): Promise<IdempotencyRecord | undefined> {
    const doc = await this.results.findOne({ _id: this.resultId(actor, key) });
    return doc
      ? { requestHash: doc.requestHash, statusCode: doc.statusCode, body: JSON.parse(doc.body), createdAt: doc.createdAt }
      : undefined;
  }

  async saveResult(actor: string, key: string, record: IdempotencyRecord): Promise<void> {
    try {
      await this.results.insertOne({
        _id: this.resultId(actor, key),
        actor,
        key,
        requestHash: record.requestHash,
        statusCode: record.statusCode,
        // As JSON text: FerretDB refuses keys with dots or a leading $, which response bodies may have.
        body: JSON.stringify(record.body ?? null),
        createdAt: record.createdAt,
      });
    } catch (error) {
      // The first result wins: a concurrent retry that finished second does not overwrite it.
      if (!isDuplicateKey(error)) throw error;
    }
  }

  // --- leases --------------------------------------------------------------------------------

  private async leaseGrantedAbove(role: string, token: number): Promise<boolean> {
    return (await this.leaseDocs.findOne({ role, token: { $gt: token } }, { projection: { _id: 1 } })) !== null;
  }

  async leases(): Promise<LeaseRecord[]> {
    await this.ready();
    return highest(await this.leaseDocs.find({}).toArray(), (d) => d.role).map(leaseOf);
  }

  async acquire(role: string, holder: WorkerInfo, current: number): Promise<LeaseRecord | undefined> {
    await this.ready();
    const top = await this.leaseDocs.findOne({ role }, { sort: { token: -1 }, projection: { token: 1 } });
    if ((top?.token ?? 0) !== current) return undefined;
    const at = new Date().toISOString();
    const token = current + 1;
    const lease: LeaseRecord = { role, token, beat: 0, holder: workerInfoOf(holder), since: at, renewedAt: at, released: false };
    const _id = docId(role, token);
    try {
      await this.leaseDocs.insertOne({ _id, ...lease });
    } catch (error) {
      if (isDuplicateKey(error)) return undefined; // granted to another process first
      throw error;
    }
    // A stale `current` could re-insert a token whose document was long since removed: only the highest token counts.
    if (await this.leaseGrantedAbove(role, token)) {
      await this.leaseDocs.deleteOne({ _id });
      return undefined;
    }
    // Garbage now; deleting it also makes the previous holder's next renew fail at once.
    await this.leaseDocs.deleteMany({ role, token: { $lt: token } });
    return lease;
  }

  async renew(role: string, token: number): Promise<boolean> {
    await this.ready();
    // Not atomic on FerretDB, but only the holder of a token updates its document.
    const { matchedCount } = await this.leaseDocs.updateOne(
      { _id: docId(role, token), released: false },
      { $inc: { beat: 1 }, $set: { renewedAt: new Date().toISOString() } },
    );
    if (matchedCount === 0) return false;
    // A newer grant that has not deleted ours yet.
    return !(await this.leaseGrantedAbove(role, token));
  }

  async release(role: string, token: number): Promise<void> {
    await this.ready();
    await this.leaseDocs.updateOne({ _id: docId(role, token) }, { $set: { released: true } });
  }

  // --- workers -------------------------------------------------------------------------------

  async heartbeat(worker: WorkerInfo, groups: string[], roles: string[]): Promise<void> {
    const { id, ...info } = workerInfoOf(worker);
    const doc = { ...info, groups, roles, beatAt: new Date().toISOString() };
    try {
      await this.workerDocs.replaceOne({ _id: id }, doc, { upsert: true });
    } catch (error) {
      // FerretDB's upsert is a query then an insert: two first heartbeats at once make one fail with a duplicate key.
      if (!isDuplicateKey(error)) throw error;
      await this.workerDocs.replaceOne({ _id: id }, doc, { upsert: true });
    }
  }

  async workers(): Promise<WorkerRecord[]> {
    const docs = await this.workerDocs.find({}).sort({ _id: 1 }).toArray();
    return docs.map(({ _id, ...rest }) => ({ id: _id, ...rest }));
  }

  async removeWorker(id: string): Promise<void> {
    await this.workerDocs.deleteOne({ _id: id });
  }

  /** The client belongs to whoever made it (it closes it). */
  async close(): Promise<void> {}
}
