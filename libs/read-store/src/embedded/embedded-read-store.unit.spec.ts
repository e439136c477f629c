import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EmbeddedReadStore } from './embedded-read-store';

/** What the contract cannot see: that the indexed path really is SQL on the index, and file sharing. */
describe('EmbeddedReadStore internals', () => {
  let dir: string;
  let file: string;
  let store: EmbeddedReadStore;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'chronicle-rs-unit-'));
    file = join(dir, 'reads.db');
    store = new EmbeddedReadStore(file);
  });
  afterEach(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const plan = (sql: string, params: unknown[]) => {
    const raw = new Database(file, { readonly: true });
    try {
      return (raw.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...params) as { detail: string }[]).map((r) => r.detail).join(' | ');
    } finally {
      raw.close();
    }
  };

  it('answers filters and sorts on indexed scalar fields in SQL, through the index', async () => {
    await store.ensureIndex('deals', 'amount');
    await store.ensureIndex('deals', 'stage');
    await store.commit(
      Array.from({ length: 50 }, (_, i) => ({
        collection: 'deals',
        id: `d${i}`,
        doc: { _id: `d${i}`, amount: i * 10, stage: i % 2 ? 'won' : 'open', tags: ['x'] },
      })),
    );
    for (const filter of [
      { amount: 10 },
      { amount: { $gte: 100, $lt: 200 } },
      { stage: { $in: ['won', 'lost'] } },
      { stage: 'won', amount: { $gt: 5 } },
      { _id: { $in: ['d1', 'd2'] } },
    ]) {
      const sql = store.translate('deals', filter);
      expect(sql.exact).toBe(true);
      expect(plan(`SELECT doc FROM "c_deals" ${sql.where}`, sql.params)).toMatch(/USING (INDEX|.*PRIMARY KEY)/);
    }
    expect(store.sortSql('deals', { amount: -1 })).toBe("ORDER BY json_extract(doc, '$.amount') DESC, id ASC");
    // not indexed, or not translatable: mingo
    expect(store.translate('deals', { tags: 'x' }).exact).toBe(false);
    expect(store.translate('deals', { amount: { $ne: 10 } }).exact).toBe(false);
    expect(store.sortSql('deals', { tags: 1 })).toBeUndefined();
  });

  it('falls back to mingo for a field once it has held an array, and for sorts once booleans mix with numbers', async () => {
    await store.ensureIndex('c', 'v');
    await store.commit([{ collection: 'c', id: 'a', doc: { _id: 'a', v: 1 } }]);
    expect(store.translate('c', { v: 1 }).exact).toBe(true);
    expect(store.sortSql('c', { v: 1 })).toBeDefined();
    await store.commit([{ collection: 'c', id: 'b', doc: { _id: 'b', v: true } }]);
    expect(store.translate('c', { v: 1 }).exact).toBe(true);
    expect(store.sortSql('c', { v: 1 })).toBeUndefined();
    await store.commit([{ collection: 'c', id: 'b', doc: { _id: 'b', v: [1, 2] } }]);
    expect(store.translate('c', { v: 1 }).exact).toBe(false);
    expect((await store.collection('c').find({ v: 1 })).map((d) => d._id)).toEqual(['a', 'b']);
  });

  it('learns the types of indexed fields in a file written before they were tracked', async () => {
    await store.close();
    const raw = new Database(file);
    raw.exec(`DROP TABLE _indexes; CREATE TABLE _indexes (collection TEXT NOT NULL, field TEXT NOT NULL, PRIMARY KEY (collection, field));
      CREATE TABLE "c_old" (id TEXT PRIMARY KEY, doc TEXT NOT NULL);
      CREATE INDEX "i_old__v" ON "c_old" (json_extract(doc, '$.v'));
      INSERT INTO _indexes VALUES ('old', 'v');
      INSERT INTO "c_old" VALUES ('a', '{"_id":"a","v":[3]}'), ('b', '{"_id":"b","v":3}');`);
    raw.close();
    store = new EmbeddedReadStore(file);
    expect(store.translate('old', { v: 3 }).exact).toBe(false);
    expect((await store.collection('old').find({ v: 3 })).map((d) => d._id)).toEqual(['a', 'b']);
  });

  it('sees collections and indexes another store on the same file created later', async () => {
    const other = new EmbeddedReadStore(file);
    try {
      await other.ensureIndex('later', 'n');
      await other.commit([{ collection: 'later', id: 'x', doc: { _id: 'x', n: 1 } }]);
      expect(await store.listCollections()).toEqual(['later']);
      expect(await store.collection('later').find({ n: 1 })).toEqual([{ _id: 'x', n: 1 }]);
      expect(store.translate('later', { n: 1 }).exact).toBe(true);
      await other.commit([{ collection: 'later', id: 'y', doc: { _id: 'y', n: [1] } }]);
      expect((await store.collection('later').find({ n: 1 })).map((d) => d._id)).toEqual(['x', 'y']);
    } finally {
      await other.close();
    }
  });

  describe('writer thread (large batches)', () => {
    const docs = (n: number, tag: string) =>
      Array.from({ length: n }, (_, i) => ({ collection: 'big', id: `d${i}`, doc: { _id: `d${i}`, tag, n: i } }));
    /** A store of its own on `threaded.db`, closed after `test`. */
    async function withStore(threadedCommitAt: number, test: (store: EmbeddedReadStore) => Promise<void>): Promise<void> {
      const own = new EmbeddedReadStore(join(dir, 'threaded.db'), { threadedCommitAt });
      try {
        await test(own);
      } finally {
        await own.close();
      }
    }

    it('commits a large batch off the calling thread: the event loop turns while it is under way', async () => {
      await withStore(1000, async (threaded) => {
        let done = false;
        const commit = threaded.commit(docs(20_000, 'a')).then(() => (done = true));
        await new Promise((resolve) => setImmediate(resolve));
        expect(done).toBe(false); // on the calling thread it would have finished synchronously
        await commit;
        expect(await threaded.collection('big').count({ tag: 'a' })).toBe(20_000);
      });
    });

    it('keeps the order of batches: a small one sent while a large one is under way lands after it', async () => {
      await withStore(1000, async (threaded) => {
        const large = threaded.commit(docs(5000, 'large'));
        const small = threaded.commit([{ collection: 'big', id: 'd7', doc: { _id: 'd7', tag: 'small', n: 7 } }]);
        await Promise.all([large, small]);
        expect(await threaded.collection('big').findById('d7')).toEqual({ _id: 'd7', tag: 'small', n: 7 });
        // this connection's own writes wait for the thread too
        void threaded.commit(docs(3000, 'again'));
        await threaded.collection('big').updateOne({ _id: 'd7' }, { $set: { tag: 'updated' } });
        expect(await threaded.collection('big').findById('d7')).toMatchObject({ tag: 'updated' });
        expect(await threaded.collection('big').count({ tag: 'again' })).toBe(2999);
      });
    });

    it.each([
      ['the writer thread', 0],
      ['the calling thread', Infinity],
    ])('on %s, rejects a failing batch as a whole, writes nothing of it, and later batches still commit', async (_, threadedCommitAt) => {
      await withStore(threadedCommitAt, async (other) => {
        // the batch's new table is rolled back with it, and must be created again by the next one
        await expect(other.commit([...docs(10, 'x'), { collection: 'bad name!', id: 'z', doc: { _id: 'z' } }])).rejects.toThrow(/bad name/);
        expect(await other.listCollections()).toEqual([]);
        await other.commit(docs(10, 'y'));
        expect(await other.collection('big').count({ tag: 'y' })).toBe(10);
      });
    });

    it('writes into a collection dropped and created again after the thread had used it', async () => {
      await withStore(0, async (threaded) => {
        await threaded.commit(docs(10, 'first'));
        await threaded.dropCollection('big');
        await threaded.commit(docs(3, 'second'));
        expect((await threaded.collection('big').find({})).map((d) => d.tag)).toEqual(['second', 'second', 'second']);
      });
    });
  });
});
