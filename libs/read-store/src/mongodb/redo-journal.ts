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
/** What a fenced commit did, per role. */
export interface FencedOutcome {
  committed: string[];
  failed: Array<{ role: string; error: unknown }>;
}

/**
 * The changes of several roles in an order that keeps each role's own order of collections
 * (apply writes collection by collection, in order of first appearance): the status collection
 * that every projection lists last stays after all of their documents, so a reader that sees a
 * checkpoint sees what it accounts for. Concatenated, the first role's status would land before
 * the other roles' documents.
 */
export function inRolesOrder(groups: DocumentChange[][]): DocumentChange[] {
  const before = new Map<string, Set<string>>();
  for (const changes of groups) {
    const order = [...new Set(changes.map((c) => c.collection))];
    order.forEach((collection, i) => {
      const set = before.get(collection) ?? new Set<string>();
      for (const earlier of order.slice(0, i)) set.add(earlier);
      before.set(collection, set);
    });
  }
  const placed: string[] = [];
  const done = new Set<string>();
  const all = [...before.keys()];
  while (placed.length < all.length) {
    // By first appearance among those whose predecessors are placed (on a cycle, which no
    // projection makes, the first one left).
    const next = all.find((c) => !done.has(c) && [...before.get(c)!].every((b) => done.has(b))) ?? all.find((c) => !done.has(c))!;
    placed.push(next);
    done.add(next);
  }
  const rank = new Map(placed.map((c, i) => [c, i]));
  return groups.flat().sort((a, b) => rank.get(a.collection)! - rank.get(b.collection)!);
}

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
        await this.slots.insertOne({
          _id: slotId(fence.role, seq),
          role: fence.role,
          seq,
          kind: 'fence',
          token: fence.token,
          at: new Date(),
        });
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
   * Commits each role's changes under its fence, as a batch of its own in the role's chain, all
   * roles of a page together: chunks first for a large batch, then every slot in one insertMany
   * (each insert is its role's commit point: a sequence number taken by a newer holder's fence
   * fails, and nothing of that role's batch is committed), then the after-images, then the slots
   * marked applied. Every write after the commit points first checks that the leases are still
   * valid; a batch left half applied is applied again by whoever claims the role next.
   * Resolves with the roles committed and those that failed (a role may be both: committed, its
   * apply stopped by a lapsed lease).
   */
  async commitFenced(groups: Array<{ fence: Fence; changes: DocumentChange[] }>): Promise<FencedOutcome> {
    // One batch of a role at a time (a projection's live pages and its rebuild share the chain).
    const roles = groups.map((g) => g.fence.role);
    const previous = roles.flatMap((r) => this.committing.get(r) ?? []);
    const mine = Promise.all(previous).then(() => this.commitInChains(groups));
    const tail = mine.then(
      () => undefined,
      () => undefined,
    );
    for (const role of roles) this.committing.set(role, tail);
    void tail.then(() => {
      for (const role of roles) if (this.committing.get(role) === tail) this.committing.delete(role);
    });
    return mine;
  }

  private async commitInChains(groups: Array<{ fence: Fence; changes: DocumentChange[] }>): Promise<FencedOutcome> {
    const outcome: FencedOutcome = { committed: [], failed: [] };
    const pending: Array<{ fence: Fence; changes: DocumentChange[]; slot: Slot; chunked: boolean }> = [];
    for (const { fence, changes } of groups) {
      const chain = this.chains.get(fence.role);
      if (!chain || chain.token !== fence.token) {
        outcome.failed.push({ role: fence.role, error: new FencedError([fence.role], `not claimed here with token ${fence.token}`) });
        continue;
      }
      if (!fence.valid()) {
        outcome.failed.push({ role: fence.role, error: new FencedError([fence.role], 'its lease lapsed') });
        continue;
      }
      const batch = newBatchId();
      const entries = this.chunk(batch, changes, fence);
      const slot: Slot = {
        _id: slotId(fence.role, chain.seq),
        role: fence.role,
        seq: chain.seq,
        kind: 'batch',
        token: fence.token,
        at: new Date(),
        batch,
      };
      if (entries.length === 1) slot.changes = entries[0].changes;
      else slot.chunks = entries.length;
      try {
        if (entries.length > 1) for (const entry of entries) await this.journal.insertOne(entry);
        await this.step('journal', batch);
      } catch (error) {
        if (!(error instanceof SimulatedCrash) && entries.length > 1)
          await this.journal.deleteMany({ batch, kind: 'entry' }).catch(() => undefined);
        if (error instanceof SimulatedCrash) throw error;
        outcome.failed.push({ role: fence.role, error });
        continue;
      }
      pending.push({ fence, changes, slot, chunked: entries.length > 1 });
    }
    if (pending.length === 0) return outcome;

    // The commit points, one insert per role, in one request.
    const taken = await this.insertSlots(pending.map((p) => p.slot));
    const committed = pending.filter((p, i) => {
      if (taken[i] === undefined) return true;
      if (p.chunked) void this.journal.deleteMany({ batch: p.slot.batch, kind: 'entry' }).catch(() => undefined);
      outcome.failed.push({ role: p.fence.role, error: taken[i] });
      return false;
    });
    for (const { fence } of committed) {
      const chain = this.chains.get(fence.role)!;
      chain.seq += 1;
      chain.commits += 1;
      outcome.committed.push(fence.role);
    }
    if (committed.length === 0) return outcome;

    // Committed: applied now, or by each role's next holder.
    for (const { slot } of committed) await this.step('marker', slot.batch!);
    const anyValid = () => committed.some((c) => c.fence.valid());
    const lapsedAll = () =>
      new FencedError(
        committed.map((c) => c.fence.role),
        'its lease lapsed while applying a batch',
      );
    const changes = inRolesOrder(committed.map((c) => c.changes));
    // A role whose lease lapses meanwhile is left out of the writes from then on (its next holder
    // applies its batch again); the others are applied completely.
    const lapsed = await this.persist(
      'applying committed batches',
      () => this.apply(changes, committed[0].slot.batch!),
      anyValid,
      lapsedAll,
    ).catch((error: unknown) => {
      if (error instanceof FencedError) return new Set(error.roles);
      throw error;
    });
    for (const role of lapsed) {
      outcome.failed.push({ role, error: new FencedError([role], 'its lease lapsed while applying a batch') });
      // Its batch stays unapplied until a claim applies it again, and a claim replays only the
      // last batch of a chain: nothing more may be committed on top of it without one.
      this.chains.delete(role);
    }
    const applied = committed.filter((c) => !lapsed.has(c.fence.role));
    if (applied.length === 0) return outcome;
    for (const { slot } of applied) await this.step('applied', slot.batch!);
    // Applied: the after-images go (they may hold personal data, which must not outlive an
    // erasure), chunks and all; older links every few commits.
    const ids = applied.map((c) => c.slot._id);
    const chunked = applied.filter((c) => c.chunked).map((c) => c.slot.batch!);
    const old = applied
      .filter((c) => this.chains.get(c.fence.role)!.commits % 16 === 0)
      .map((c) => ({ role: c.fence.role, seq: { $lt: c.slot.seq } }));
    try {
      await this.persist(
        'marking batches applied',
        async () => {
          await this.slots.updateMany({ _id: { $in: ids } }, { $set: { applied: true }, $unset: { changes: '' } });
          if (chunked.length) await this.journal.deleteMany({ batch: { $in: chunked }, kind: 'entry' });
          if (old.length) await this.slots.deleteMany({ $or: old });
        },
        anyValid,
        lapsedAll,
      );
    } catch (error) {
      if (!(error instanceof FencedError)) throw error;
      // Applied, not marked: a claim applies them once more (a no-op) and drops them.
    }
    return outcome;
  }

  /**
   * Inserts the slots (unordered); for each, undefined when it is in (ours), else the error: a
   * FencedError when its sequence number was taken by another holder. A reply lost in the network
   * is settled by reading the slots back.
   */
  private async insertSlots(slots: Slot[]): Promise<unknown[]> {
    let failedAt: Map<number, unknown>;
    try {
      await this.slots.insertMany(slots, { ordered: false });
      return slots.map(() => undefined);
    } catch (error) {
      const writeErrors = (error as { writeErrors?: Array<{ index: number }> | { index: number } }).writeErrors;
      const list = writeErrors === undefined ? undefined : Array.isArray(writeErrors) ? writeErrors : [writeErrors];
      failedAt = new Map((list ?? slots.map((_, index) => ({ index }))).map((e) => [e.index, error]));
    }
    const found = new Map(
      (await this.slots.find({ _id: { $in: [...failedAt.keys()].map((i) => slots[i]._id) } }).toArray()).map((s) => [s._id, s]),
    );
    return slots.map((slot, i) => {
      if (!failedAt.has(i)) return undefined;
      const existing = found.get(slot._id);
      if (existing?.batch === slot.batch) return undefined; // ours: an earlier reply was lost
      if (existing) return new FencedError([slot.role], `sequence ${slot.seq} was taken by token ${existing.token}`);
      return failedAt.get(i);
    });
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
    const lapsed = await this.apply(
      items.map((e) => ({ collection: e.c, id: e.i, doc: e.d })),
      slot.batch!,
      fence,
    );
    if (lapsed.size) throw new FencedError([fence.role], 'its lease lapsed while applying the last batch again');
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
    if (replayed || discarded)
      this.log(
        'warn',
        `read-store journal recovery: ${replayed} committed batch(es) re-applied, ${discarded} uncommitted batch(es) discarded`,
      );
    return { replayed, discarded };
  }

  /** Journal documents in the database (0 when nothing is in flight). */
  async size(): Promise<number> {
    return this.journal.countDocuments({});
  }

  private async replay(batch: string): Promise<number> {
    const claimed = (await this.journal.findOneAndUpdate(
      { _id: batch, kind: 'commit' },
      { $inc: { claims: 1 } },
      { returnDocument: 'after' },
    )) as Marker | null;
    if (!claimed) return 0; // its writer finished it meanwhile
    const entries = (await this.journal.find({ batch, kind: 'entry' }).sort({ seq: 1 }).toArray()) as Entry[];
    if (entries.length !== claimed.chunks) {
      // Only possible when a claim timed out and the batch was finished without us.
      this.log('warn', `read-store journal: batch ${batch} has ${entries.length} of ${claimed.chunks} chunks; left to whoever finished it`);
    } else {
      for (const entry of entries)
        await this.apply(
          entry.changes.map((e) => ({ collection: e.c, id: e.i, doc: e.d })),
          batch,
        );
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
  /**
   * Writes the after-images collection by collection. Without transactions no write can check a
   * fence atomically: each is sent only with the changes whose lease is valid then, which ends
   * before another process may take their role over; a role found lapsed is left out of every
   * later write. Returns the lapsed roles. (`fence`: a replayed batch's, whose changes carry none.)
   */
  private async apply(changes: DocumentChange[], batch: string, fence?: Fence): Promise<Set<string>> {
    const byCollection = new Map<string, DocumentChange[]>();
    for (const change of changes) {
      let group = byCollection.get(change.collection);
      if (!group) byCollection.set(change.collection, (group = []));
      group.push(change);
    }
    const lapsed = new Set<string>();
    const valid = (group: DocumentChange[]) =>
      group.filter((c) => {
        const f = fence ?? c.fence;
        if (!f) return true;
        if (!lapsed.has(f.role) && !f.valid()) lapsed.add(f.role);
        return !lapsed.has(f.role);
      });
    let first = true;
    for (const [name, all] of byCollection) {
      const collection = this.db.collection<Document>(name);
      if (this.applyBy === 'delete-insert' && all.length > SMALL_GROUP) {
        for (let i = 0; i < all.length; i += 5000) {
          const part = valid(all.slice(i, i + 5000));
          if (part.length) await collection.deleteMany({ _id: { $in: part.map((c) => c.id) } });
        }
        const docs = valid(all).flatMap((c) => (c.doc ? [c.doc] : []));
        if (docs.length) await collection.insertMany(docs, { ordered: false });
      } else {
        const group = valid(all);
        const ops: AnyBulkWriteOperation<Document>[] = group.map((c) =>
          c.doc ? { replaceOne: { filter: { _id: c.id }, replacement: c.doc, upsert: true } } : { deleteOne: { filter: { _id: c.id } } },
        );
        if (ops.length) await collection.bulkWrite(ops, { ordered: false });
      }
      if (first && byCollection.size > 1) await this.step('apply-partial', batch);
      first = false;
    }
    return lapsed;
  }

  private chunk(batch: string, changes: DocumentChange[], fence?: Fence): Entry[] {
    const entries: Entry[] = [];
    let current: Entry['changes'] = [];
    let bytes = 0;
    const flush = () => {
      const entry: Entry = {
        _id: `${batch}:${entries.length}`,
        kind: 'entry',
        batch,
        seq: entries.length,
        at: new Date(),
        changes: current,
      };
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
  private async persist<T>(what: string, task: () => Promise<T>, valid?: () => boolean, lapsed?: () => FencedError): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await task();
      } catch (error) {
        if (error instanceof SimulatedCrash || error instanceof FencedError || this.isClosed()) throw error;
        if (valid && !valid()) throw lapsed!();
        this.log('warn', `read-store journal: ${what} failed (attempt ${attempt}), retrying: ${(error as Error).message}`);
        await sleep(Math.min(5000, 100 * 2 ** Math.min(attempt, 6)));
      }
    }
  }

  private async step(step: JournalStep, batch: string): Promise<void> {
    if (this.hook) await this.hook(step, batch);
  }
}
