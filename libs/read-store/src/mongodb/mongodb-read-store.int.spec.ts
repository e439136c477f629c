import { Fence, isFencedError } from '@chronicle/cluster';
import { dropDatabase, freshDatabase, MONGO_URL, urlFor } from '../../../../test/support/mongo-test';
import { CrashPoint, readStoreContract, ReadStoreTarget } from '../contract/read-store.contract';
import { DocumentChange, PartialCommitError, ReadStore } from '../read-store';
import { MongoReadStore, MongoReadStoreOptions } from './mongodb-read-store';
import { FENCES_COLLECTION, JournalStep, JOURNAL_COLLECTION, SimulatedCrash } from './redo-journal';

// The read-store contract against a real server: FerretDB from test/support/servers (the
// integration tier starts it) or any MongoDB in MONGO_URL. Every run uses fresh databases.
jest.setTimeout(60_000);

const JOURNAL_POINTS: CrashPoint[] = [
  { point: 'journal-partial', outcome: 'none' },
  { point: 'journal', outcome: 'none' },
  { point: 'marker', outcome: 'all' },
  { point: 'apply-partial', outcome: 'all' },
  { point: 'applied', outcome: 'all' },
  { point: 'marker-deleted', outcome: 'all' },
];

async function target(database: string, options: MongoReadStoreOptions): Promise<ReadStoreTarget> {
  const url = urlFor(database);
  const store = await MongoReadStore.connect(url, options);
  // small journal chunks for the stores the crash tests stop, so one batch spans several
  const reopen = async () => MongoReadStore.connect(url, { ...options, journal: { ...options.journal, chunkBytes: 4096 } });
  return {
    store,
    reopen,
    crash: {
      async commitUntil(doomed: ReadStore, changes: DocumentChange[], point: string) {
        const mongo = doomed as MongoReadStore;
        if (mongo.atomicity === 'journal') {
          mongo.journal.hook = (step) => {
            if (step === point) throw new SimulatedCrash(step);
          };
        } else {
          mongo.transactionHook = () => {
            throw new SimulatedCrash(point);
          };
        }
        await expect(mongo.commit(changes)).rejects.toBeInstanceOf(SimulatedCrash);
      },
      leftovers: (s: ReadStore) => (s as MongoReadStore).journal.size(),
    },
    async cleanup() {
      await store.close();
      await dropDatabase(database);
    },
  };
}

async function atomicityOf(): Promise<'journal' | 'transaction'> {
  const database = freshDatabase();
  const store = await MongoReadStore.connect(urlFor(database));
  try {
    return store.atomicity;
  } finally {
    await store.close();
    await dropDatabase(database);
  }
}

// The server's kind decides the crash points, so it is needed before the suite is defined:
// MONGO_ATOMICITY, else a URL naming a replica set means transactions (checked by the first test).
const serverAtomicity =
  (process.env.MONGO_ATOMICITY as 'journal' | 'transaction' | undefined) ?? (/[?&]replicaSet=/.test(MONGO_URL) ? 'transaction' : 'journal');

readStoreContract(`MongoDB adapter, auto atomicity (${MONGO_URL})`, () => target(freshDatabase(), {}), {
  crashPoints: serverAtomicity === 'journal' ? JOURNAL_POINTS : [{ point: 'inside the transaction', outcome: 'none' }],
});

if (serverAtomicity === 'transaction') {
  // On a replica set, the journal path too (it is what FerretDB and a standalone mongod get).
  readStoreContract(`MongoDB adapter, redo journal forced (${MONGO_URL})`, () => target(freshDatabase(), { atomicity: 'journal' }), {
    crashPoints: JOURNAL_POINTS,
  });
}

describe('MongoReadStore on the server', () => {
  it(`commits atomically by ${serverAtomicity} on this server (MONGO_ATOMICITY says otherwise if needed)`, async () => {
    expect(await atomicityOf()).toBe(serverAtomicity);
  });

  it('on FerretDB, encodes what FerretDB refuses and writes big groups as delete + insert', async () => {
    const database = freshDatabase();
    const store = await MongoReadStore.connect(urlFor(database));
    try {
      if (!store.server.ferretdb) return;
      expect(store.encodes).toBe(true);
      expect(store.journal.applyBy).toBe('delete-insert');
      await store.collection('odd').upsert({ _id: 'x', grid: [[1]], 'a.b': 1 });
      expect(await store.raw('odd').findOne({ _id: 'x' })).toEqual({ _id: 'x', grid: [{ '%array': [1] }], 'a%2Eb': 1 });
      expect(await store.collection('odd').findById('x')).toEqual({ _id: 'x', grid: [[1]], 'a.b': 1 });
    } finally {
      await store.close();
      await dropDatabase(database);
    }
  });

  it('refuses atomicity "transaction" where the server has no transactions', async () => {
    if (serverAtomicity === 'transaction') return;
    await expect(MongoReadStore.connect(urlFor(freshDatabase()), { atomicity: 'transaction' })).rejects.toThrow(/transactions/);
  });
});

describe('MongoReadStore redo journal under concurrency', () => {
  const database = freshDatabase();
  const url = urlFor(database);
  const stores: MongoReadStore[] = [];
  const open = async (options: MongoReadStoreOptions = {}) => {
    const store = await MongoReadStore.connect(url, { atomicity: 'journal', ...options });
    stores.push(store);
    return store;
  };
  const batch = (c: string, v: number, n = 30): DocumentChange[] => [
    ...Array.from({ length: n }, (_, i) => ({ collection: c, id: `d${i}`, doc: { _id: `d${i}`, v } })),
    { collection: `${c}.status`, id: 'p', doc: { _id: 'p', checkpoint: v } },
  ];
  const state = async (store: ReadStore, c: string) => ({
    values: [...new Set((await store.collection(c).find()).map((d) => d.v))],
    count: await store.collection(c).count(),
    checkpoint: (await store.collection(`${c}.status`).findById('p'))?.checkpoint,
  });
  /** A hook that stops at one step (once) until released. */
  const pauseAt = (step: JournalStep) => {
    let release!: () => void;
    let reached!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const arrived = new Promise<void>((resolve) => (reached = resolve));
    let done = false;
    const hook = async (s: JournalStep) => {
      if (s !== step || done) return;
      done = true;
      reached();
      await gate;
    };
    return { hook, arrived, release };
  };
  const settled = async (promise: Promise<unknown>, ms: number) =>
    Promise.race([promise.then(() => true), new Promise((r) => setTimeout(() => r(false), ms))]);
  let n = 0;
  const fresh = () => `conc${++n}`;

  afterAll(async () => {
    for (const store of stores) await store.close().catch(() => undefined);
    await dropDatabase(database);
  });

  it('a recovery that starts while a writer is between marker and apply finishes the batch; the writer completes', async () => {
    const c = fresh();
    const writer = await open();
    await writer.commit(batch(c, 1));
    const pause = pauseAt('marker');
    writer.journal.hook = pause.hook;
    const commit = writer.commit(batch(c, 2));
    await pause.arrived;
    const other = await open(); // recovery on connect re-applies the committed batch
    expect(await state(other, c)).toEqual({ values: [2], count: 30, checkpoint: 2 });
    pause.release();
    await commit;
    await writer.commit(batch(c, 3));
    expect(await state(other, c)).toEqual({ values: [3], count: 30, checkpoint: 3 });
    expect(await writer.journal.size()).toBe(0);
  });

  it('the writer waits while a recovery re-applies its batch, so the replay never lands on a later batch', async () => {
    const c = fresh();
    const writer = await open();
    await writer.commit(batch(c, 1));
    const writerPause = pauseAt('marker');
    writer.journal.hook = writerPause.hook;
    const commit = writer.commit(batch(c, 2));
    await writerPause.arrived;
    const recoverer = await open({ recover: false });
    const recovererPause = pauseAt('apply-partial');
    recoverer.journal.hook = recovererPause.hook;
    const recovery = recoverer.recover();
    await recovererPause.arrived; // claimed, half re-applied
    writerPause.release();
    expect(await settled(commit, 500)).toBe(false); // applied, but waits for the claim
    recovererPause.release();
    await recovery;
    await commit;
    await writer.commit(batch(c, 3));
    expect(await state(writer, c)).toEqual({ values: [3], count: 30, checkpoint: 3 });
    expect(await writer.journal.size()).toBe(0);
  });

  it('a batch a recovery aborts before its marker lands is written again under a new id', async () => {
    const c = fresh();
    const writer = await open();
    const pause = pauseAt('journal');
    writer.journal.hook = pause.hook;
    const commit = writer.commit(batch(c, 1));
    await pause.arrived; // chunks written, no marker: looks like a crashed writer's
    const recoverer = await open({ recover: false });
    await recoverer.recover();
    pause.release();
    await commit;
    expect(await state(recoverer, c)).toEqual({ values: [1], count: 30, checkpoint: 1 });
    expect(await writer.journal.size()).toBe(0);
  });

  it('a claim nobody releases (its process died) is overridden after claimTimeoutMs', async () => {
    const c = fresh();
    const writer = await open({ journal: { claimTimeoutMs: 300 } });
    const pause = pauseAt('marker');
    writer.journal.hook = pause.hook;
    const commit = writer.commit(batch(c, 1));
    await pause.arrived;
    await writer.db.collection(JOURNAL_COLLECTION).updateOne({ kind: 'commit' }, { $inc: { claims: 1 } });
    pause.release();
    const started = Date.now();
    await commit;
    expect(Date.now() - started).toBeGreaterThanOrEqual(250);
    expect(await state(writer, c)).toEqual({ values: [1], count: 30, checkpoint: 1 });
    expect(await writer.journal.size()).toBe(0);
  });

  it('splits a batch into journal chunks under chunkBytes', async () => {
    const c = fresh();
    const writer = await open({ journal: { chunkBytes: 10_000 } });
    let chunks: { size: number }[] = [];
    writer.journal.hook = async (step, id) => {
      if (step !== 'journal') return;
      const docs = await writer.db.collection(JOURNAL_COLLECTION).find({ batch: id }).toArray();
      chunks = docs.map((d) => ({ size: JSON.stringify(d).length }));
    };
    const pad = 'z'.repeat(900);
    await writer.commit(Array.from({ length: 60 }, (_, i) => ({ collection: c, id: `x${i}`, doc: { _id: `x${i}`, pad } })));
    expect(chunks.length).toBeGreaterThanOrEqual(6);
    for (const chunk of chunks) expect(chunk.size).toBeLessThan(11_000);
    expect(await writer.collection(c).count()).toBe(60);
  });

  it('with recover: false, recovery runs before the first write', async () => {
    const c = fresh();
    const crashed = await open();
    crashed.journal.hook = (step) => {
      if (step === 'applied') throw new SimulatedCrash(step);
    };
    await expect(crashed.commit(batch(c, 1))).rejects.toBeInstanceOf(SimulatedCrash);
    await crashed.collection(c).deleteMany({}); // recovery ran at its connect, not now: a write that a replay would undo
    const lazy = await open({ recover: false });
    expect(await lazy.journal.size()).toBeGreaterThan(0);
    await lazy.collection('unrelated').upsert({ _id: 'x' });
    expect(await lazy.journal.size()).toBe(0);
    expect(await state(lazy, c)).toEqual({ values: [1], count: 30, checkpoint: 1 });
  });
});

describe('MongoReadStore redo journal: fenced batches (docs/read-store.md)', () => {
  const database = freshDatabase();
  const url = urlFor(database);
  const stores: MongoReadStore[] = [];
  const open = async (options: MongoReadStoreOptions = {}) => {
    const store = await MongoReadStore.connect(url, { atomicity: 'journal', ...options });
    stores.push(store);
    return store;
  };
  let n = 0;
  const fresh = () => `fenced${++n}`;
  const fence = (role: string, token: number, valid = () => true): Fence => ({ role, token, valid });
  /** A page of a projection: its documents (in two collections) and its status document. */
  const page = (c: string, v: number, f: Fence, docs = 30): DocumentChange[] => [
    ...Array.from({ length: docs }, (_, i) => ({ collection: c, id: `d${i}`, doc: { _id: `d${i}`, v }, fence: f })),
    ...Array.from({ length: docs }, (_, i) => ({ collection: `${c}.other`, id: `o${i}`, doc: { _id: `o${i}`, v }, fence: f })),
    { collection: `${c}.status`, id: 'p', doc: { _id: 'p', checkpoint: v }, fence: f },
  ];
  const state = async (store: ReadStore, c: string) => ({
    values: [...new Set([...(await store.collection(c).find()), ...(await store.collection(`${c}.other`).find())].map((d) => d.v))],
    count: (await store.collection(c).count()) + (await store.collection(`${c}.other`).count()),
    checkpoint: (await store.collection(`${c}.status`).findById('p'))?.checkpoint,
  });
  const leftovers = async (store: MongoReadStore, role: string) => ({
    chunks: await store.db.collection(JOURNAL_COLLECTION).countDocuments({ fence: role }),
    links: await store.db.collection(FENCES_COLLECTION).countDocuments({ role }),
  });

  afterAll(async () => {
    for (const store of stores) await store.close().catch(() => undefined);
    await dropDatabase(database);
  });

  it("a batch committed but not applied (its holder died after the commit point) is applied by the role's next holder before anything else", async () => {
    const [c, role] = [fresh(), fresh()];
    const first = await open();
    const f1 = fence(role, 1);
    await first.claimFence(f1);
    await first.commit(page(c, 1, f1));
    first.journal.hook = (step) => {
      if (step === 'marker') throw new SimulatedCrash(step);
    };
    await expect(first.commit(page(c, 2, f1))).rejects.toBeInstanceOf(SimulatedCrash);
    expect(await state(first, c)).toEqual({ values: [1], count: 60, checkpoint: 1 });
    const next = await open();
    await next.claimFence(fence(role, 2));
    expect(await state(next, c)).toEqual({ values: [2], count: 60, checkpoint: 2 });
    await next.commit(page(c, 3, fence(role, 2)));
    expect(await state(next, c)).toEqual({ values: [3], count: 60, checkpoint: 3 });
  });

  it("a large batch's chunks written but never committed are dropped by the next holder, never applied", async () => {
    const [c, role] = [fresh(), fresh()];
    const first = await open({ journal: { chunkBytes: 2048 } });
    const f1 = fence(role, 1);
    await first.claimFence(f1);
    await first.commit(page(c, 1, f1));
    first.journal.hook = (step) => {
      if (step === 'journal') throw new SimulatedCrash(step);
    };
    await expect(first.commit(page(c, 2, f1))).rejects.toBeInstanceOf(SimulatedCrash);
    expect((await leftovers(first, role)).chunks).toBeGreaterThan(1);
    const recovered = await open(); // a plain recovery on connect leaves the role's chunks to its holder
    expect((await leftovers(recovered, role)).chunks).toBeGreaterThan(1);
    await recovered.claimFence(fence(role, 2));
    expect(await state(recovered, c)).toEqual({ values: [1], count: 60, checkpoint: 1 });
    expect((await leftovers(recovered, role)).chunks).toBe(0);
  });

  it('a paused holder that wakes after its role was taken over cannot commit: its sequence number is taken', async () => {
    const [c, role] = [fresh(), fresh()];
    const paused = await open({ journal: { chunkBytes: 2048 } });
    const f1 = fence(role, 1);
    await paused.claimFence(f1);
    await paused.commit(page(c, 1, f1));
    // It stops with a large batch's chunks written and its commit point not yet reached …
    let wake!: () => void;
    const woken = new Promise<void>((r) => (wake = r));
    let arrive!: () => void;
    const arrived = new Promise<void>((r) => (arrive = r));
    paused.journal.hook = async (step) => {
      if (step !== 'journal') return;
      arrive();
      await woken;
    };
    const late = paused.commit(page(c, 99, f1)).catch((e: unknown) => e);
    await arrived;
    // … another process takes the role over and commits.
    const next = await open();
    const f2 = fence(role, 2);
    await next.claimFence(f2);
    await next.commit(page(c, 2, f2));
    wake();
    const error = await late;
    expect(isFencedError(error)).toBe(true);
    expect(await state(next, c)).toEqual({ values: [2], count: 60, checkpoint: 2 });
    await next.commit(page(c, 3, f2));
    expect(await state(next, c)).toEqual({ values: [3], count: 60, checkpoint: 3 });
  });

  /** A holder of a new role with batch 1 applied, whose lease lapses once its next batch has written its first collection. */
  async function lapsingMidApply() {
    const [c, role] = [fresh(), fresh()];
    const store = await open();
    const lease = { valid: true };
    const f1 = fence(role, 1, () => lease.valid);
    await store.claimFence(f1);
    await store.commit(page(c, 1, f1));
    store.journal.hook = (step) => {
      if (step === 'apply-partial') lease.valid = false; // the first collection is written, the rest is not
    };
    return { c, role, store, f1, lease };
  }

  it('a holder whose lease lapses in the middle of applying a batch stops writing; the next holder finishes that batch', async () => {
    const { c, role, store: first, f1 } = await lapsingMidApply();
    const error = await first.commit(page(c, 2, f1)).catch((e: unknown) => e);
    // Committed (its slot is in), applied only in part: the next holder finishes it.
    expect(error).toBeInstanceOf(PartialCommitError);
    expect(error).toMatchObject({ committed: [role], fenced: [role] });
    const half = await state(first, c);
    expect(half.values.sort()).toEqual([1, 2]);
    const next = await open();
    await next.claimFence(fence(role, 2));
    expect(await state(next, c)).toEqual({ values: [2], count: 60, checkpoint: 2 });
  });

  it('a lease renewed after it lapsed in the middle of a batch: nothing more is committed on top until a claim finishes that batch', async () => {
    const { c, store, f1, lease } = await lapsingMidApply();
    await expect(store.commit(page(c, 2, f1))).rejects.toBeInstanceOf(PartialCommitError);
    store.journal.hook = undefined;
    lease.valid = true; // renewed in time after all: the same token again
    // A claim replays only a chain's last batch: one committed on top would bury batch 2 for good.
    const refused = await store.commit(page(c, 3, f1, 2)).catch((e: unknown) => e);
    expect(isFencedError(refused)).toBe(true);
    expect((await state(store, c)).checkpoint).toBe(1);
    await store.claimFence(f1); // what the holder does when it resumes
    expect(await state(store, c)).toEqual({ values: [2], count: 60, checkpoint: 2 });
    await store.commit(page(c, 3, f1, 2));
    expect((await state(store, c)).values.sort()).toEqual([2, 3]);
    expect((await state(store, c)).checkpoint).toBe(3);
  });

  it('a commit whose lease has lapsed is refused before its commit point', async () => {
    const [c, role] = [fresh(), fresh()];
    const store = await open();
    let valid = true;
    const f1 = fence(role, 1, () => valid);
    await store.claimFence(f1);
    await store.commit(page(c, 1, f1));
    valid = false;
    expect(isFencedError(await store.commit(page(c, 2, f1)).catch((e: unknown) => e))).toBe(true);
    expect((await leftovers(store, role)).links).toBe(2); // the fence link and batch 1: no batch 2
  });

  it("roles committed together: one lease lapsing in the middle leaves the others' batches applied completely", async () => {
    const [c1, c2, r1, r2] = [fresh(), fresh(), fresh(), fresh()];
    const store = await open();
    let valid = true;
    const [f1, f2] = [fence(r1, 1, () => valid), fence(r2, 1)];
    await store.claimFence(f1);
    await store.claimFence(f2);
    await store.commit([...page(c1, 1, f1), ...page(c2, 1, f2)]);
    store.journal.hook = (step) => {
      if (step === 'apply-partial') valid = false; // r1's first collection is written, then its lease lapses
    };
    const error = await store.commit([...page(c1, 2, f1), ...page(c2, 2, f2)]).catch((e: unknown) => e);
    store.journal.hook = undefined;
    expect(error).toMatchObject({ committed: [r1, r2], fenced: [r1] });
    expect(await state(store, c2)).toEqual({ values: [2], count: 60, checkpoint: 2 });
    expect((await state(store, c1)).checkpoint).toBe(1); // r1's status was left out: its batch is unfinished
    const next = await open();
    await next.claimFence(fence(r1, 2));
    expect(await state(next, c1)).toEqual({ values: [2], count: 60, checkpoint: 2 });
  });

  it('keeps only the last links and chunks of a role as it commits', async () => {
    const [c, role] = [fresh(), fresh()];
    const store = await open({ journal: { chunkBytes: 2048 } });
    const f = fence(role, 1);
    await store.claimFence(f);
    for (let v = 1; v <= 40; v++) await store.commit(page(c, v, f, v % 5 === 0 ? 30 : 2));
    const left = await leftovers(store, role);
    expect(left.links).toBeLessThanOrEqual(17);
    expect(left.chunks).toBeLessThanOrEqual(20);
    expect((await state(store, c)).checkpoint).toBe(40);
  });
});
