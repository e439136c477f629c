import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { AnyBulkWriteOperation, BSON, Collection, Db } from 'mongodb';
import { Fence, FencedError } from '@chronicle/cluster';
import type { Document, DocumentChange } from '../read-store';

/** Where the journal lives; hidden from `listCollections`. */
export const JOURNAL_COLLECTION = '_journal';
/** Where fenced batches are committed, one chain of slots per role; hidden from `listCollections`. */
export const FENCES_COLLECTION = '_fences';

/**
 * Points of a journaled commit, in order, where a test hook runs (a hook throwing
 * {@link SimulatedCrash} stops the commit dead there, as a killed process would):
 * - `journal-partial`: the first of several journal chunks is written
 * - `journal`: every chunk is written, no marker yet (not committed)
 * - `marker`: the commit marker is written (committed), nothing applied
 * - `apply-partial`: the first collection's writes are applied
 * - `applied`: everything is applied, the marker is still there
 * - `marker-deleted`: the marker is gone, the chunks are still there
 */
export type JournalStep = 'journal-partial' | 'journal' | 'marker' | 'apply-partial' | 'applied' | 'marker-deleted';
export type JournalHook = (step: JournalStep, batch: string) => void | Promise<void>;

/** Thrown by test hooks to stop a commit without any clean-up, like SIGKILL. */
export class SimulatedCrash extends Error {
  constructor(step: string) {
    super(`simulated crash at ${step}`);
    this.name = 'SimulatedCrash';
  }
}

export interface JournalOptions {
  /** Journal chunks are kept under this many bytes of BSON (MongoDB's limit is 16 MB a document). */
  chunkBytes?: number;
  /** How long a committed batch may stay claimed by another process re-applying it before it is finished anyway. */
  claimTimeoutMs?: number;
  /**
   * How after-images are written: `replace` (bulk replaceOne upsert / deleteOne, one indexed write
   * per document), or `delete-insert`, where a collection's changes in a batch, when there are more
   * than {@link SMALL_GROUP}, become one deleteMany by _id and one insertMany (readers may miss
   * those documents for that moment; smaller groups, such as status documents and live pages, are
   * still replaced). The MongoDB adapter picks `delete-insert` on FerretDB v1, where every
   * replaceOne or deleteOne scans the collection and an update command with 100 or more statements
   * that match documents never returns.
   */
  applyBy?: 'replace' | 'delete-insert';
}

type Item = { c: string; i: string; d: Document | null };

interface Entry {
  _id: string;
  kind: 'entry';
  batch: string;
  seq: number;
  at: Date;
  changes: Item[];
  /** Chunks of a fenced batch: the role and token it was written under (recovery leaves them to the role's next holder). */
  fence?: string;
  token?: number;
}

/**
 * One link of a role's chain in `_fences`: the next holder's fence, or a committed batch (its
 * changes inline, or in `chunks` journal entries). Inserting the link with the next sequence
 * number is the commit point, and only one insert of an `_id` can succeed.
 */
interface Slot {
  _id: string;
  role: string;
  seq: number;
  kind: 'fence' | 'batch';
  token: number;
  at: Date;
  batch?: string;
  chunks?: number;
  changes?: Item[];
  /** Set (and the after-images dropped) once the batch is completely applied. */
  applied?: boolean;
}

/** `commit` makes a batch committed; `abort` (a tombstone) makes sure it never will be. */
interface Marker {
  _id: string;
  kind: 'commit' | 'abort';
  at: Date;
  owner: string;
  chunks?: number;
  /** Processes re-applying the batch right now (recovery); its writer waits for them. */
  claims?: number;
}

type JournalDoc = Entry | Marker;

/** Up to this many changes to one collection are always written as replaceOne / deleteOne. */
export const SMALL_GROUP = 20;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const newBatchId = () => `${Date.now().toString(36).padStart(9, '0')}-${randomBytes(6).toString('hex')}`;
/** Zero-padded, so that `_id` order is sequence order. */
const slotId = (role: string, seq: number) => `${role}#${String(seq).padStart(12, '0')}`;
const isDuplicateKey = (error: unknown) => (error as { code?: number })?.code === 11000;

/**
 * A redo journal that makes a batch of document after-images atomic on servers without
 * multi-document transactions (FerretDB, a standalone mongod). See docs/read-store.md.
 *
 *  1. the after-images go into journal chunks (each well under 16 MB), tagged with a batch id;
 *  2. a commit marker with the batch id as `_id` is inserted: the commit point;
 *  3. the after-images are applied (replaceOne upsert / deleteOne, unordered bulk writes);
 *  4. the marker, then the chunks, are deleted.
 *
 * Recovery re-applies every batch that has a marker (after-images are idempotent) and discards
 * chunks without one, after inserting a tombstone under the batch id so that a writer still
 * between steps 1 and 2 cannot commit that batch any more (its marker insert fails and it
 * retries under a new id). A process re-applying a batch claims its marker; the batch's writer
 * then waits for the claim to be released before it deletes the marker and moves on, so a
 * replay never lands on top of a later batch.
 */
export class RedoJournal {
  /** Test hook, see {@link JournalStep}. */
  hook?: JournalHook;
  private readonly owner = `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`;
  private readonly chunkBytes: number;
  private readonly claimTimeoutMs: number;
  /** Per role claimed here: the token and the sequence number of its next slot. */
  private readonly chains = new Map<string, { token: number; seq: number; commits: number }>();
  private readonly committing = new Map<string, Promise<void>>();

  constructor(
    private readonly db: Db,
    private readonly isClosed: () => boolean,
    private readonly log: (level: 'info' | 'warn' | 'error', message: string) => void,
    options: JournalOptions = {},
  ) {
    this.chunkBytes = options.chunkBytes ?? 8 * 1024 * 1024;
    this.claimTimeoutMs = options.claimTimeoutMs ?? 30_000;
    this.applyBy = options.applyBy ?? 'replace';
  }

  readonly applyBy: 'replace' | 'delete-insert';

  private get journal(): Collection<JournalDoc> {
    return this.db.collection<JournalDoc>(JOURNAL_COLLECTION);
  }

  private get slots(): Collection<Slot> {
    return this.db.collection<Slot>(FENCES_COLLECTION);
  }

  /**
   * Claims a role's chain for a new lease (docs/read-store.md, "Fenced batches"): the last
   * committed batch of the role is applied again (after-images: a no-op if it was complete; nothing
   * else has written the role's documents since), then a fence link takes the next sequence number,
   * so the previous holder's next commit finds its number taken and fails. Its orphaned chunks go.
   */
  async claimFence(fence: Fence): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      const last = await this.lastSlot(fence.role);
      if (last && last.token > fence.token) throw new FencedError([fence.role], `its fence is at token ${last.token}`);
      if (last?.kind === 'batch' && !last.applied) await this.replaySlot(last, fence);
      if (last && last.token === fence.token) {
        this.chains.set(fence.role, { token: fence.token, seq: last.seq + 1, commits: 0 }); // claimed before (a resume)
        return;
      }
      const seq = (last?.seq ?? -1) + 1;
      try {
        await this.slots.insertOne({ _id: slotId(fence.role, seq), role: fence.role, seq, kind: 'fence', token: fence.token, at: new Date() });
      } catch (error) {
        if (!isDuplicateKey(error) || attempt >= 20) throw error;
        continue; // the previous holder committed one more batch meanwhile: finish that one first
      }
      this.chains.set(fence.role, { token: fence.token, seq: seq + 1, commits: 0 });
      await this.journal.deleteMany({ kind: 'entry', fence: fence.role, token: { $lt: fence.token } });
      await this.slots.deleteMany({ role: fence.role, seq: { $lt: seq } });
      return;
    }
  }

  /**
   * Commits one role's changes under its fence: chunks first when the batch is large, then the
   * slot with the next sequence number (the commit point: taken by a newer holder's fence, it
   * fails and nothing is committed), then the after-images. Every write after the commit point
   * first checks that the lease is still valid; a batch left half applied is applied again by
   * whoever claims the role next.
   */
  async commitFenced(changes: DocumentChange[], fence: Fence): Promise<void> {
    // One batch of a role at a time (a projection's live pages and its rebuild share the chain).
    const previous = this.committing.get(fence.role) ?? Promise.resolve();
    const mine = previous.then(() => this.commitInChain(changes, fence));
    const tail = mine.catch(() => undefined);
    this.committing.set(fence.role, tail);
    void tail.then(() => {
      if (this.committing.get(fence.role) === tail) this.committing.delete(fence.role);
    });
    return mine;
  }

  private async commitInChain(changes: DocumentChange[], fence: Fence): Promise<void> {
    const chain = this.chains.get(fence.role);
    if (!chain || chain.token !== fence.token) throw new FencedError([fence.role], `not claimed here with token ${fence.token}`);
    const batch = newBatchId();
    const entries = this.chunk(batch, changes, fence);
    const inline = entries.length === 1;
    const slot: Slot = { _id: slotId(fence.role, chain.seq), role: fence.role, seq: chain.seq, kind: 'batch', token: fence.token, at: new Date(), batch };
    if (inline) slot.changes = entries[0].changes;
    else slot.chunks = entries.length;
    try {
      if (!inline) for (const entry of entries) await this.journal.insertOne(entry);
      await this.step('journal', batch);
      await this.insertSlot(slot, fence);
    } catch (error) {
      if (!(error instanceof SimulatedCrash) && !inline) await this.journal.deleteMany({ batch, kind: 'entry' }).catch(() => undefined);
      throw error;
    }
    chain.seq += 1;
    chain.commits += 1;
    // Committed: applied now, or by the role's next holder.
    await this.step('marker', batch);
    await this.persist('applying a committed batch', () => this.apply(changes, batch, fence), fence);
    await this.step('applied', batch);
    // Applied: its after-images go (they may hold personal data, which must not outlive an
    // erasure), chunks and all. Older links go every few commits.
    await this.persist('marking a batch applied', async () => {
      await this.slots.updateOne({ _id: slot._id }, { $set: { applied: true }, $unset: { changes: '' } });
      if (!inline) await this.journal.deleteMany({ batch, kind: 'entry' });
    }, fence);
    if (chain.commits % 16 === 0) await this.persist('releasing older links', () => this.slots.deleteMany({ role: fence.role, seq: { $lt: slot.seq } }), fence);
  }

  private async insertSlot(slot: Slot, fence: Fence): Promise<void> {
    try {
      await this.slots.insertOne(slot);
      return;
    } catch (error) {
      // Taken: by a newer holder's fence (we are fenced), or by our own earlier attempt whose reply was lost.
      let existing: Slot | null;
      try {
        existing = await this.slots.findOne({ _id: slot._id });
      } catch {
        throw error;
      }
      if (existing?.batch === slot.batch) return;
      if (isDuplicateKey(error)) throw new FencedError([fence.role], existing ? `sequence ${slot.seq} was taken by token ${existing.token}` : 'its sequence was taken');
      throw error;
    }
  }

  private async lastSlot(role: string): Promise<Slot | null> {
    return this.slots.find({ role }).sort({ seq: -1 }).limit(1).next();
  }

  private async replaySlot(slot: Slot, fence: Fence): Promise<void> {
    let items = slot.changes;
    if (!items) {
      const entries = (await this.journal.find({ batch: slot.batch, kind: 'entry' }).sort({ seq: 1 }).toArray()) as Entry[];
      // Some are gone: its writer marked it applied meanwhile (then deleted them), or a claim with
      // a higher token did (then this claim fails at its fence slot). Nothing to apply either way.
      if (entries.length !== slot.chunks) return;
      items = entries.flatMap((e) => e.changes);
    }
    await this.apply(items.map((e) => ({ collection: e.c, id: e.i, doc: e.d })), slot.batch!, fence);
  }

  /** Applies the changes (already validated, one per document) all or none. */
  async commit(changes: DocumentChange[]): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      const batch = newBatchId();
      const entries = this.chunk(batch, changes);
      try {
        for (let k = 0; k < entries.length; k++) {
          await this.journal.insertOne(entries[k]);
          if (k === 0 && entries.length > 1) await this.step('journal-partial', batch);
        }
        await this.step('journal', batch);
      } catch (error) {
        // Not committed: chunks without a marker are never applied. Tidy up if we can.
        if (!(error instanceof SimulatedCrash)) await this.journal.deleteMany({ batch, kind: 'entry' }).catch(() => undefined);
        throw error;
      }
      const marker: Marker = { _id: batch, kind: 'commit', at: new Date(), owner: this.owner, chunks: entries.length, claims: 0 };
      if (!(await this.insertMarker(marker))) {
        // A recovering process aborted this batch before its marker landed: write it again.
        await this.journal.deleteMany({ batch, kind: 'entry' }).catch(() => undefined);
        if (attempt >= 5) throw new Error('read-store commit aborted repeatedly by concurrent journal recoveries');
        continue;
      }
      // Committed. From here on the batch is finished, whatever it takes (or by recovery after a crash).
      await this.step('marker', batch);
      await this.persist('applying a committed batch', () => this.apply(changes, batch));
      await this.step('applied', batch);
      await this.persist('releasing a committed batch', () => this.release(batch, changes, 'writer'));
      return;
    }
  }

  /** Finishes committed batches and discards uncommitted ones left by a crashed process. */
  async recover(): Promise<{ replayed: number; discarded: number }> {
    // Chunks of fenced batches belong to their role's chain: its next holder deals with them.
    const docs = await this.journal.find({ fence: { $exists: false } }, { projection: { changes: 0 } }).toArray();
    const markers = docs.filter((d): d is Marker => d.kind !== 'entry').sort((a, b) => +a.at - +b.at || (a._id < b._id ? -1 : 1));
    const marked = new Set(markers.map((m) => m._id));
    let replayed = 0;
    let discarded = 0;
    for (const marker of markers) {
      if (marker.kind === 'commit') replayed += await this.replay(marker._id);
      else discarded += await this.discard(marker._id);
    }
    const orphans = [...new Set(docs.filter((d): d is Entry => d.kind === 'entry' && !marked.has(d.batch)).map((d) => d.batch))].sort();
    for (const batch of orphans) {
      try {
        await this.journal.insertOne({ _id: batch, kind: 'abort', at: new Date(), owner: this.owner });
      } catch (error) {
        if (!isDuplicateKey(error)) throw error;
        // its writer got its marker in first (or another recovery its tombstone)
        const marker = await this.journal.findOne({ _id: batch });
        if (marker?.kind === 'commit') replayed += await this.replay(batch);
        else if (marker?.kind === 'abort') discarded += await this.discard(batch);
        continue;
      }
      discarded += await this.discard(batch);
    }
    if (replayed || discarded) this.log('warn', `read-store journal recovery: ${replayed} committed batch(es) re-applied, ${discarded} uncommitted batch(es) discarded`);
    return { replayed, discarded };
  }

  /** Journal documents in the database (0 when nothing is in flight). */
  async size(): Promise<number> {
    return this.journal.countDocuments({});
  }

  private async replay(batch: string): Promise<number> {
    const claimed = (await this.journal.findOneAndUpdate({ _id: batch, kind: 'commit' }, { $inc: { claims: 1 } }, { returnDocument: 'after' })) as Marker | null;
    if (!claimed) return 0; // its writer finished it meanwhile
    const entries = (await this.journal.find({ batch, kind: 'entry' }).sort({ seq: 1 }).toArray()) as Entry[];
    if (entries.length !== claimed.chunks) {
      // Only possible when a claim timed out and the batch was finished without us.
      this.log('warn', `read-store journal: batch ${batch} has ${entries.length} of ${claimed.chunks} chunks; left to whoever finished it`);
    } else {
      for (const entry of entries) await this.apply(entry.changes.map((e) => ({ collection: e.c, id: e.i, doc: e.d })), batch);
    }
    await this.journal.updateOne({ _id: batch, kind: 'commit' }, { $inc: { claims: -1 } });
    await this.release(batch, undefined, 'recovery');
    return 1;
  }

  private async discard(batch: string): Promise<number> {
    await this.journal.deleteMany({ batch, kind: 'entry' });
    await this.journal.deleteOne({ _id: batch, kind: 'abort' });
    return 1;
  }

  /**
   * Deletes the marker once nobody re-applies the batch any more, then the chunks. `changes` are
   * re-applied before a claim that timed out is overridden (the writer's own batch).
   */
  private async release(batch: string, changes: DocumentChange[] | undefined, who: 'writer' | 'recovery'): Promise<void> {
    const deadline = Date.now() + this.claimTimeoutMs;
    for (;;) {
      const deleted = await this.journal.deleteOne({ _id: batch, kind: 'commit', claims: { $lte: 0 } });
      if (deleted.deletedCount === 1 || !(await this.journal.findOne({ _id: batch, kind: 'commit' }, { projection: { _id: 1 } }))) break;
      if (Date.now() >= deadline) {
        this.log('warn', `read-store journal: batch ${batch} still claimed after ${this.claimTimeoutMs} ms; finishing it (${who})`);
        if (changes) await this.apply(changes, batch);
        await this.journal.deleteOne({ _id: batch, kind: 'commit' });
        break;
      }
      if (this.isClosed()) throw new Error('read store closed');
      await sleep(50);
    }
    await this.step('marker-deleted', batch);
    await this.journal.deleteMany({ batch, kind: 'entry' });
  }

  private async insertMarker(marker: Marker): Promise<boolean> {
    return this.persist('writing a commit marker', async () => {
      try {
        await this.journal.insertOne(marker);
        return true;
      } catch (error) {
        if (!isDuplicateKey(error)) throw error;
        // our own earlier attempt landed after all, or a recovery's tombstone got there first
        const existing = (await this.journal.findOne({ _id: marker._id })) as Marker | null;
        return existing?.kind === 'commit' && existing.owner === this.owner;
      }
    });
  }

  /**
   * Writes after-images collection by collection, in the order the collections first appear in
   * the batch: the projector lists its status documents last, so a reader that sees a checkpoint
   * also sees the changes it accounts for. Ids are unique within a batch, so within a collection
   * the order of the writes does not matter.
   */
  private async apply(changes: DocumentChange[], batch: string, fence?: Fence): Promise<void> {
    const byCollection = new Map<string, DocumentChange[]>();
    for (const change of changes) {
      let group = byCollection.get(change.collection);
      if (!group) byCollection.set(change.collection, (group = []));
      group.push(change);
    }
    // Without transactions no write can check the fence atomically: each one is sent only while
    // the lease is valid, which ends before any other process may take the role over.
    const check = () => {
      if (fence && !fence.valid()) throw new FencedError([fence.role], 'its lease lapsed while applying a batch');
    };
    let first = true;
    for (const [name, group] of byCollection) {
      const collection = this.db.collection<Document>(name);
      if (this.applyBy === 'delete-insert' && group.length > SMALL_GROUP) {
        for (let i = 0; i < group.length; i += 5000) {
          check();
          await collection.deleteMany({ _id: { $in: group.slice(i, i + 5000).map((c) => c.id) } });
        }
        const docs = group.flatMap((c) => (c.doc ? [c.doc] : []));
        check();
        if (docs.length) await collection.insertMany(docs, { ordered: false });
      } else {
        check();
        const ops: AnyBulkWriteOperation<Document>[] = group.map((c) =>
          c.doc ? { replaceOne: { filter: { _id: c.id }, replacement: c.doc, upsert: true } } : { deleteOne: { filter: { _id: c.id } } },
        );
        await collection.bulkWrite(ops, { ordered: false });
      }
      if (first && byCollection.size > 1) await this.step('apply-partial', batch);
      first = false;
    }
  }

  private chunk(batch: string, changes: DocumentChange[], fence?: Fence): Entry[] {
    const entries: Entry[] = [];
    let current: Entry['changes'] = [];
    let bytes = 0;
    const flush = () => {
      const entry: Entry = { _id: `${batch}:${entries.length}`, kind: 'entry', batch, seq: entries.length, at: new Date(), changes: current };
      if (fence) Object.assign(entry, { fence: fence.role, token: fence.token });
      entries.push(entry);
      current = [];
      bytes = 0;
    };
    for (const change of changes) {
      const item = { c: change.collection, i: change.id, d: change.doc };
      const size = BSON.calculateObjectSize(item) + 16;
      if (current.length > 0 && bytes + size > this.chunkBytes) flush();
      current.push(item);
      bytes += size;
    }
    if (current.length > 0) flush();
    return entries;
  }

  /**
   * Retries an idempotent step of a committed batch until it succeeds, the store is closed, or (a
   * fenced batch) the lease lapses: then the role's next holder finishes the batch.
   */
  private async persist<T>(what: string, task: () => Promise<T>, fence?: Fence): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await task();
      } catch (error) {
        if (error instanceof SimulatedCrash || error instanceof FencedError || this.isClosed()) throw error;
        if (fence && !fence.valid()) throw new FencedError([fence.role], `its lease lapsed while ${what} (${(error as Error).message})`);
        this.log('warn', `read-store journal: ${what} failed (attempt ${attempt}), retrying: ${(error as Error).message}`);
        await sleep(Math.min(5000, 100 * 2 ** Math.min(attempt, 6)));
      }
    }
  }

  private async step(step: JournalStep, batch: string): Promise<void> {
    if (this.hook) await this.hook(step, batch);
  }
}
