import { randomUUID } from 'node:crypto';
import { Fence, isFencedError } from '@chronicle/cluster';
import { Document, DocumentChange, Filter, FindOptions, PartialCommitError, ReadStore } from '../read-store';

/**
 * The contract every read-store adapter passes: the embedded SQLite store (`npm test`) and the
 * MongoDB adapter on FerretDB or a real MongoDB (integration tier). Every test uses fresh
 * collection names, so the suite also runs against a shared, non-empty database.
 */
export interface ReadStoreTarget {
  store: ReadStore;
  /** Opens another store on the same data, as a restarted process would (recovery runs). */
  reopen(): Promise<ReadStore>;
  /** Present when the adapter can stop a commit at named points, as a killed process would. */
  crash?: CrashSimulation;
  cleanup(): Promise<void>;
}

export interface CrashSimulation {
  /** Runs `commit(changes)` up to `point` and stops dead there; `store` is not used afterwards. */
  commitUntil(store: ReadStore, changes: DocumentChange[], point: string): Promise<void>;
  /** Bookkeeping the adapter keeps for in-flight commits (e.g. journal documents); 0 once recovered. */
  leftovers(store: ReadStore): Promise<number>;
}

const uid = () => randomUUID().replace(/-/g, '').slice(0, 10);
const ids = (docs: Document[]) => docs.map((d) => d._id);

/** Documents with mixed types, nested documents and arrays, for the filter and sort tests. */
const FRUIT: Document[] = [
  { _id: 'a', n: 1, s: 'apple', b: true, tags: ['x', 'y'], o: { p: 1, q: 'k' }, items: [{ sku: 's1', qty: 2 }] },
  { _id: 'b', n: 2.5, s: 'banana', b: false, tags: ['y'], o: { p: 2 } },
  { _id: 'c', n: -3, s: 'cherry', tags: [], nul: null },
  { _id: 'd', n: null, s: 'Date' },
  { _id: 'e', n: '7', s: 'elder' },
  { _id: 'f', n: 10, s: 'fig', o: { p: 10 }, items: [{ sku: 's2', qty: 1 }] },
  { _id: 'g', s: 'grape' },
];

/** Filters and the ids (ascending) MongoDB returns for them on FRUIT. */
const FILTERS: [string, Filter, string[]][] = [
  ['everything', {}, ['a', 'b', 'c', 'd', 'e', 'f', 'g']],
  ['implicit $eq', { n: 1 }, ['a']],
  ['$eq', { n: { $eq: 2.5 } }, ['b']],
  ['$eq on a string', { s: 'fig' }, ['f']],
  ['$ne (includes missing fields)', { n: { $ne: 1 } }, ['b', 'c', 'd', 'e', 'f', 'g']],
  ['$gt on numbers ignores strings', { n: { $gt: 1 } }, ['b', 'f']],
  ['$gte', { n: { $gte: 1 } }, ['a', 'b', 'f']],
  ['$lt', { n: { $lt: 2.5 } }, ['a', 'c']],
  ['$lte', { n: { $lte: 2.5 } }, ['a', 'b', 'c']],
  ['a range', { n: { $gt: 0, $lt: 5 } }, ['a', 'b']],
  ['$gt on strings ignores numbers', { n: { $gt: '5' } }, ['e']],
  ['string range', { s: { $gte: 'b', $lt: 'f' } }, ['b', 'c', 'e']],
  ['$in with mixed types', { n: { $in: [1, 10, '7'] } }, ['a', 'e', 'f']],
  ['$in with null matches missing', { n: { $in: [null, 1] } }, ['a', 'd', 'g']],
  ['$in empty', { n: { $in: [] } }, []],
  ['$nin (includes missing fields)', { n: { $nin: [1, 10] } }, ['b', 'c', 'd', 'e', 'g']],
  ['null matches null and missing', { n: null }, ['d', 'g']],
  ['$exists false', { n: { $exists: false } }, ['g']],
  ['$exists true counts null', { nul: { $exists: true } }, ['c']],
  ['$regex anchored', { s: { $regex: '^b' } }, ['b']],
  ['$regex with $options i', { s: { $regex: '^d', $options: 'i' } }, ['d']],
  ['$regex unanchored', { s: { $regex: 'an' } }, ['b']],
  ['$regex on _id', { _id: { $regex: '^[ab]$' } }, ['a', 'b']],
  ['$regex with an alternation (the projector polls its requests so)', { s: { $regex: '(ple|rry)$' } }, ['a', 'c']],
  ['$and', { $and: [{ n: { $gt: 0 } }, { s: { $regex: 'a' } }] }, ['a', 'b']],
  ['$or', { $or: [{ n: 1 }, { s: 'fig' }] }, ['a', 'f']],
  ['$or with a range and $exists', { $or: [{ n: { $lt: 0 } }, { n: { $exists: false } }] }, ['c', 'g']],
  ['implicit and of fields', { n: { $gte: 1 }, b: true }, ['a']],
  ['boolean true is not 1', { b: true }, ['a']],
  ['boolean false is not 0', { b: false }, ['b']],
  ['$ne on a boolean', { b: { $ne: true } }, ['b', 'c', 'd', 'e', 'f', 'g']],
  ['dotted path equality', { 'o.p': 2 }, ['b']],
  ['dotted path range', { 'o.p': { $gte: 2 } }, ['b', 'f']],
  ['dotted path $exists', { 'o.q': { $exists: true } }, ['a']],
  ['array membership', { tags: 'y' }, ['a', 'b']],
  ['array membership with $in', { tags: { $in: ['x'] } }, ['a']],
  ['dotted path into an array of documents', { 'items.sku': 's1' }, ['a']],
  ['dotted path range into an array of documents', { 'items.qty': { $gte: 2 } }, ['a']],
  ['whole-array equality', { tags: ['x', 'y'] }, ['a']],
  ['whole-document equality', { o: { p: 2 } }, ['b']],
  ['$in on _id', { _id: { $in: ['a', 'c', 'zz'] } }, ['a', 'c']],
  ['$gt on _id', { _id: { $gt: 'e' } }, ['f', 'g']],
];

/** Sorts on FRUIT and the order MongoDB gives (null/missing < numbers < strings; ties by _id). */
const SORTS: [string, Record<string, 1 | -1>, string[]][] = [
  ['mixed types ascending', { n: 1 }, ['d', 'g', 'c', 'a', 'b', 'f', 'e']],
  ['mixed types descending, ties by _id ascending', { n: -1 }, ['e', 'f', 'b', 'a', 'c', 'd', 'g']],
  ['strings, binary order', { s: 1 }, ['d', 'a', 'b', 'c', 'e', 'f', 'g']],
  ['strings descending', { s: -1 }, ['g', 'f', 'e', 'c', 'b', 'a', 'd']],
  ['_id descending', { _id: -1 }, ['g', 'f', 'e', 'd', 'c', 'b', 'a']],
  ['dotted path', { 'o.p': -1 }, ['f', 'b', 'a', 'c', 'd', 'e', 'g']],
];

/** Documents for the indexed/unindexed comparison: scalars of every JSON type under the same names. */
function scalarDocs(): Document[] {
  const values: unknown[] = [0, 1, -1, 2, 2.5, 10, 100, 1e6, -0.5, '0', '1', '10', '2', 'a', 'B', 'b', 'ab', '', true, false, null];
  const docs: Document[] = [];
  for (let i = 0; i < 60; i++) {
    const doc: Document = { _id: `k${String(i).padStart(3, '0')}` };
    const v = (k: number) => values[(i * k + k) % values.length];
    if (i % 7 !== 3) doc.mixed = v(1);
    doc.num = i % 5 === 0 ? null : ((i * 37) % 11) - 3;
    doc.str = ['won', 'lost', 'open', 'Open', 'open'][i % 5];
    doc.flag = i % 3 === 0 ? true : i % 3 === 1 ? false : undefined;
    doc.group = Math.floor(i / 7);
    docs.push(JSON.parse(JSON.stringify(doc)) as Document);
  }
  return docs;
}

const SCALAR_FILTERS: Filter[] = [
  {},
  { num: 3 },
  { num: null },
  { num: { $gt: 2 } },
  { num: { $gte: -1, $lt: 4 } },
  { num: { $in: [1, 2, 3] } },
  { num: { $ne: 3 } },
  { num: { $exists: false } },
  { mixed: 1 },
  { mixed: '1' },
  { mixed: true },
  { mixed: false },
  { mixed: 0 },
  { mixed: null },
  { mixed: { $gt: 1 } },
  { mixed: { $gte: '1' } },
  { mixed: { $lt: 'b' } },
  { mixed: { $lte: 0 } },
  { mixed: { $eq: 2.5 } },
  { mixed: { $in: [0, '0', true, 'a'] } },
  { mixed: { $in: [1, 2, 10] } },
  { mixed: { $in: ['a', 'b', ''] } },
  { mixed: { $nin: [1, 'a'] } },
  { mixed: { $exists: true } },
  { str: 'open' },
  { str: { $in: ['won', 'lost'] } },
  { str: { $gt: 'm' } },
  { str: { $regex: '^o', $options: 'i' } },
  { flag: true },
  { flag: false },
  { flag: null },
  { flag: { $ne: false } },
  { str: 'open', num: { $gte: 0 } },
  { group: 3, str: { $in: ['open', 'won'] } },
  { $or: [{ num: 3 }, { str: 'won' }] },
  { _id: { $gte: 'k010', $lt: 'k020' }, num: { $lt: 5 } },
];

const SCALAR_SORTS: (Record<string, 1 | -1> | undefined)[] = [
  undefined,
  { num: 1 },
  { num: -1 },
  { mixed: 1 },
  { mixed: -1 },
  { str: 1, num: -1 },
  { flag: -1 },
  { group: -1, _id: -1 },
  { _id: -1 },
];

/** A point where a commit can be stopped dead, and what a reopened store must show: none of the batch, or all of it. */
export interface CrashPoint {
  point: string;
  outcome: 'none' | 'all';
}

export function readStoreContract(
  name: string,
  connect: () => Promise<ReadStoreTarget>,
  options: { crashPoints?: CrashPoint[] } = {},
): void {
  describe(`read store contract: ${name}`, () => {
    let target: ReadStoreTarget;
    let store: ReadStore;
    const fresh = (prefix = 't') => `${prefix}_${uid()}`;
    const seed = async (collection: string, docs: Document[]) => store.commit(docs.map((doc) => ({ collection, id: doc._id, doc })));

    beforeAll(async () => {
      target = await connect();
      store = target.store;
    });
    afterAll(async () => target?.cleanup());

    describe('find', () => {
      let fruit: string;
      beforeAll(async () => {
        fruit = fresh('fruit');
        await seed(fruit, [...FRUIT].reverse()); // inserted out of _id order
      });

      it.each(FILTERS)('filter: %s', async (_, filter, expected) => {
        expect(ids(await store.collection(fruit).find(filter))).toEqual(expected);
        expect(await store.collection(fruit).count(filter)).toBe(expected.length);
      });

      it.each(SORTS)('sort: %s', async (_, sort, expected) => {
        expect(ids(await store.collection(fruit).find({}, { sort }))).toEqual(expected);
      });

      it('returns whole documents as written', async () => {
        const a = await store.collection(fruit).findById('a');
        expect(a).toEqual(FRUIT[0]);
        expect(await store.collection(fruit).find({ _id: 'c' })).toEqual([FRUIT[2]]);
      });

      it('defaults to _id order, whatever the insertion order', async () => {
        expect(ids(await store.collection(fruit).find())).toEqual(['a', 'b', 'c', 'd', 'e', 'f', 'g']);
      });

      it('breaks ties by _id ascending in both directions', async () => {
        const c = fresh();
        await seed(
          c,
          ['q', 'm', 'a', 'z', 'c', 'b'].map((id, i) => ({ _id: id, group: i % 2 })),
        );
        expect(ids(await store.collection(c).find({}, { sort: { group: 1 } }))).toEqual(['a', 'c', 'q', 'b', 'm', 'z']);
        expect(ids(await store.collection(c).find({}, { sort: { group: -1 } }))).toEqual(['b', 'm', 'z', 'a', 'c', 'q']);
      });

      it('pages with skip and limit, stable across pages', async () => {
        const c = fresh();
        await seed(
          c,
          Array.from({ length: 23 }, (_, i) => ({ _id: `p${String(i).padStart(2, '0')}`, bucket: i % 4 })),
        );
        const all = ids(await store.collection(c).find({}, { sort: { bucket: -1 } }));
        const pages: string[] = [];
        for (let skip = 0; skip < 30; skip += 5)
          pages.push(...ids(await store.collection(c).find({}, { sort: { bucket: -1 }, skip, limit: 5 })));
        expect(pages).toEqual(all);
        expect(ids(await store.collection(c).find({ bucket: 1 }, { skip: 2 }))).toEqual(['p09', 'p13', 'p17', 'p21']);
        expect(ids(await store.collection(c).find({}, { limit: 3 }))).toEqual(['p00', 'p01', 'p02']);
        expect(await store.collection(c).find({}, { skip: 100 })).toEqual([]);
      });

      it('limit 0 returns no documents', async () => {
        expect(await store.collection(fruit).find({}, { limit: 0 })).toEqual([]);
      });

      it('a missing collection is empty', async () => {
        const c = store.collection(fresh('missing'));
        expect(await c.find({ a: 1 })).toEqual([]);
        expect(await c.count()).toBe(0);
        expect(await c.findById('x')).toBeNull();
        expect((await c.findByIds(['x'])).size).toBe(0);
        expect(await c.deleteMany({})).toBe(0);
      });
    });

    describe('findById and findByIds', () => {
      it('finds present ids, ignores missing and repeated ones, across many ids', async () => {
        const c = fresh();
        await seed(
          c,
          Array.from({ length: 1200 }, (_, i) => ({ _id: `id-${i}`, i })),
        );
        const wanted = [...Array.from({ length: 1200 }, (_, i) => `id-${1199 - i}`), 'nope', 'id-5', 'id-5'];
        const found = await store.collection(c).findByIds(wanted);
        expect(found.size).toBe(1200);
        expect(found.get('id-77')).toEqual({ _id: 'id-77', i: 77 });
        expect(found.has('nope')).toBe(false);
        expect((await store.collection(c).findByIds([])).size).toBe(0);
        expect(await store.collection(c).findById('id-1199')).toEqual({ _id: 'id-1199', i: 1199 });
        expect(await store.collection(c).findById('nope')).toBeNull();
      });
    });

    describe('upsert', () => {
      it('inserts, then replaces the whole document', async () => {
        const c = store.collection(fresh());
        await c.upsert({ _id: 'u1', a: 1, b: { c: [1, 2] } });
        expect(await c.findById('u1')).toEqual({ _id: 'u1', a: 1, b: { c: [1, 2] } });
        await c.upsert({ _id: 'u1', z: 'only' });
        expect(await c.findById('u1')).toEqual({ _id: 'u1', z: 'only' });
        expect(await c.count()).toBe(1);
      });

      it('keeps JSON values as they are: unicode, empty strings and arrays, big and fractional numbers; drops undefined', async () => {
        const c = store.collection(fresh());
        const doc = {
          _id: 'j',
          text: 'héllo ✓ 😀',
          empty: '',
          list: [],
          nested: { deep: { deeper: [1, { x: null }] } },
          big: 2 ** 40,
          frac: 0.1 + 0.2,
          neg: -7,
          t: true,
          f: false,
        };
        await c.upsert({ ...doc, gone: undefined });
        expect(await c.findById('j')).toEqual(doc);
        expect(Object.keys((await c.findById('j'))!)).not.toContain('gone');
        expect(await c.count({ big: { $gt: 2 ** 39 } })).toBe(1);
      });
    });

    describe('documents JSON can hold that some servers refuse', () => {
      const odd = {
        _id: 'odd',
        matrix: [[1, 2], [3, [4, []]], []],
        rows: [{ cells: [['a', 1]] }],
        'dotted.key': 1,
        nested: { 'a.b': { 'c.d': 2 }, $dollar: 'x', 'per%cent': 3, '%array': [4], '%2E': 5 },
      };

      it('stores nested arrays and keys with dots, a leading dollar or percent signs, and returns them unchanged', async () => {
        const c = fresh();
        await store.collection(c).upsert(odd);
        await store.commit([
          { collection: c, id: 'odd2', doc: { ...odd, _id: 'odd2' } },
          { collection: c, id: 'plain', doc: { _id: 'plain', list: [1, 2] } },
        ]);
        expect(await store.collection(c).findById('odd')).toEqual(odd);
        expect(await store.collection(c).find({ _id: { $in: ['odd', 'odd2'] } })).toEqual([odd, { ...odd, _id: 'odd2' }]);
        expect((await store.collection(c).findByIds(['odd2'])).get('odd2')).toEqual({ ...odd, _id: 'odd2' });
        expect(await store.collection(c).find({}, { sort: { _id: -1 }, limit: 1 })).toEqual([{ _id: 'plain', list: [1, 2] }]);
      });

      it('updateOne writes nested arrays through $set, $push and $setOnInsert', async () => {
        const c = store.collection(fresh());
        await c.updateOne({ _id: 'u' }, { $setOnInsert: { grid: [[0]] }, $push: { pairs: ['a', 1] } }, { upsert: true });
        await c.updateOne(
          { _id: 'u' },
          {
            $push: {
              pairs: {
                $each: [
                  ['b', 2],
                  ['c', 3],
                ],
              },
            },
            $set: { 'meta.shape': [[2, 2]] },
          },
        );
        expect(await c.findById('u')).toEqual({
          _id: 'u',
          grid: [[0]],
          pairs: [
            ['a', 1],
            ['b', 2],
            ['c', 3],
          ],
          meta: { shape: [[2, 2]] },
        });
      });
    });

    describe('updateOne', () => {
      it('applies $set (dotted too), $inc, $push and $unset to the matching document', async () => {
        const c = store.collection(fresh());
        await c.upsert({ _id: 'x', n: 1, list: ['a'], o: { p: 1, q: 2 }, gone: 'soon' });
        const result = await c.updateOne(
          { _id: 'x' },
          { $set: { 'o.p': 5, name: 'x!' }, $inc: { n: 2, fresh: 3 }, $push: { list: 'b', other: 1 }, $unset: { gone: '' } },
        );
        expect(result).toEqual({ matched: 1, upserted: false });
        expect(await c.findById('x')).toEqual({ _id: 'x', n: 3, list: ['a', 'b'], o: { p: 5, q: 2 }, name: 'x!', fresh: 3, other: [1] });
      });

      it('without upsert, no match changes nothing', async () => {
        const c = store.collection(fresh());
        await c.upsert({ _id: 'x', n: 1 });
        expect(await c.updateOne({ _id: 'y' }, { $set: { n: 2 } })).toEqual({ matched: 0, upserted: false });
        expect(await c.updateOne({ n: 5 }, { $set: { n: 2 } })).toEqual({ matched: 0, upserted: false });
        expect(await c.find()).toEqual([{ _id: 'x', n: 1 }]);
      });

      it('updates the first match in _id order only', async () => {
        const c = fresh();
        await seed(c, [
          { _id: 'm3', k: 1 },
          { _id: 'm1', k: 1 },
          { _id: 'm2', k: 1 },
        ]);
        expect(await store.collection(c).updateOne({ k: 1 }, { $inc: { hits: 1 } })).toEqual({ matched: 1, upserted: false });
        expect(await store.collection(c).find({ hits: 1 })).toEqual([{ _id: 'm1', k: 1, hits: 1 }]);
      });

      it('upserts from the equality conditions of the filter, with $setOnInsert, $inc from zero and $push', async () => {
        const c = store.collection(fresh());
        const update = { $setOnInsert: { createdAt: 't0' }, $set: { last: 't1' }, $inc: { count: 1 }, $push: { seen: 'e1' } };
        expect(await c.updateOne({ _id: 'k1', kind: 'lead', 'o.p': 3, n: { $eq: 4 } }, update, { upsert: true })).toEqual({
          matched: 0,
          upserted: true,
        });
        expect(await c.findById('k1')).toEqual({
          _id: 'k1',
          kind: 'lead',
          o: { p: 3 },
          n: 4,
          createdAt: 't0',
          last: 't1',
          count: 1,
          seen: ['e1'],
        });
        // matched this time: $setOnInsert is ignored
        const again = { $setOnInsert: { createdAt: 't9' }, $set: { last: 't2' }, $inc: { count: 1 }, $push: { seen: 'e2' } };
        expect(await c.updateOne({ _id: 'k1' }, again, { upsert: true })).toEqual({ matched: 1, upserted: false });
        expect(await c.findById('k1')).toEqual({
          _id: 'k1',
          kind: 'lead',
          o: { p: 3 },
          n: 4,
          createdAt: 't0',
          last: 't2',
          count: 2,
          seen: ['e1', 'e2'],
        });
      });

      it('upserts with the _id given in $setOnInsert, and from an $and of equalities', async () => {
        const c = store.collection(fresh());
        expect(await c.updateOne({ email: 'a@b.c' }, { $setOnInsert: { _id: 'by-email' }, $inc: { n: 1 } }, { upsert: true })).toEqual({
          matched: 0,
          upserted: true,
        });
        expect(await c.updateOne({ $and: [{ _id: 'and' }, { tier: 'gold' }] }, { $set: { ok: true } }, { upsert: true })).toEqual({
          matched: 0,
          upserted: true,
        });
        expect(await c.find()).toEqual([
          { _id: 'and', tier: 'gold', ok: true },
          { _id: 'by-email', email: 'a@b.c', n: 1 },
        ]);
      });

      it('rejects an upsert whose _id exists but does not match the filter (duplicate key)', async () => {
        const c = store.collection(fresh());
        await c.upsert({ _id: 'taken', kind: 'a' });
        await expect(c.updateOne({ _id: 'taken', kind: 'b' }, { $set: { x: 1 } }, { upsert: true })).rejects.toThrow(/duplicate key/i);
        expect(await c.find()).toEqual([{ _id: 'taken', kind: 'a' }]);
      });

      it('rejects an upsert that names no string _id, and writes nothing', async () => {
        const c = store.collection(fresh());
        await expect(c.updateOne({ kind: 'x' }, { $set: { a: 1 } }, { upsert: true })).rejects.toThrow(/_id/);
        expect(await c.count()).toBe(0);
      });
    });

    describe('deleteMany', () => {
      it('deletes the matching documents and says how many', async () => {
        const c = fresh();
        await seed(
          c,
          Array.from({ length: 10 }, (_, i) => ({ _id: `d${i}`, even: i % 2 === 0, n: i })),
        );
        expect(await store.collection(c).deleteMany({ even: true, n: { $gte: 4 } })).toBe(3);
        expect(ids(await store.collection(c).find())).toEqual(['d0', 'd1', 'd2', 'd3', 'd5', 'd7', 'd9']);
        expect(await store.collection(c).deleteMany({ n: 99 })).toBe(0);
        expect(await store.collection(c).deleteMany({})).toBe(7);
        expect(await store.collection(c).count()).toBe(0);
      });
    });

    describe('commit', () => {
      it('captures the documents when called: changing them before the commit settles changes nothing stored', async () => {
        // The projector applies the next page (changing cached documents in place) while a commit is under way.
        const [c1, c2] = [fresh(), fresh()];
        const docs = Array.from({ length: 1500 }, (_, i) => ({ _id: `d${i}`, n: 1, nested: { list: [1] } }));
        const done = store.commit([
          ...docs.map((doc) => ({ collection: c1, id: doc._id, doc })),
          { collection: c2, id: 'd0', doc: docs[0] },
        ]);
        for (const doc of docs) {
          doc.n = 2;
          doc.nested.list.push(2);
        }
        await done;
        expect(await store.collection(c1).findById('d7')).toEqual({ _id: 'd7', n: 1, nested: { list: [1] } });
        expect(await store.collection(c1).count({ n: 1 })).toBe(1500);
        expect(await store.collection(c2).findById('d0')).toEqual({ _id: 'd0', n: 1, nested: { list: [1] } });
      });

      it('applies after-images and deletions across collections', async () => {
        const [c1, c2] = [fresh(), fresh()];
        await seed(c1, [
          { _id: 'a', v: 1 },
          { _id: 'b', v: 1 },
          { _id: 'c', v: 1, extra: true },
        ]);
        await store.commit([
          { collection: c1, id: 'a', doc: { _id: 'a', v: 2 } },
          { collection: c1, id: 'b', doc: null },
          { collection: c1, id: 'c', doc: { _id: 'c', v: 2 } },
          { collection: c1, id: 'never-there', doc: null },
          { collection: c2, id: 's', doc: { _id: 's', checkpoint: 42 } },
        ]);
        expect(await store.collection(c1).find()).toEqual([
          { _id: 'a', v: 2 },
          { _id: 'c', v: 2 },
        ]);
        expect(await store.collection(c2).find()).toEqual([{ _id: 's', checkpoint: 42 }]);
      });

      it('an empty commit does nothing; a single change works like a batch', async () => {
        const c = fresh();
        await store.commit([]);
        await store.commit([{ collection: c, id: 'one', doc: { _id: 'one' } }]);
        await store.commit([{ collection: c, id: 'one', doc: { _id: 'one', v: 2 } }]);
        expect(await store.collection(c).find()).toEqual([{ _id: 'one', v: 2 }]);
        await store.commit([{ collection: c, id: 'one', doc: null }]);
        expect(await store.collection(c).count()).toBe(0);
      });

      it('the last change of an id in one commit wins', async () => {
        const c = fresh();
        await store.commit([
          { collection: c, id: 'x', doc: { _id: 'x', v: 1 } },
          { collection: c, id: 'y', doc: { _id: 'y', v: 1 } },
          { collection: c, id: 'x', doc: { _id: 'x', v: 2 } },
          { collection: c, id: 'y', doc: null },
        ]);
        expect(await store.collection(c).find()).toEqual([{ _id: 'x', v: 2 }]);
      });

      it('applies a large batch (thousands of documents, megabytes) completely', async () => {
        const [c1, c2] = [fresh(), fresh()];
        const pad = 'x'.repeat(2000);
        const changes: DocumentChange[] = Array.from({ length: 3000 }, (_, i) => ({
          collection: i % 3 ? c1 : c2,
          id: `b${i}`,
          doc: { _id: `b${i}`, i, pad },
        }));
        await store.commit(changes);
        expect(await store.collection(c1).count()).toBe(2000);
        expect(await store.collection(c2).count()).toBe(1000);
        expect(await store.collection(c1).findById('b2999')).toEqual({ _id: 'b2999', i: 2999, pad });
      });

      it('replaces and deletes hundreds of existing documents in one commit', async () => {
        const c = fresh();
        await seed(
          c,
          Array.from({ length: 400 }, (_, i) => ({ _id: `r${String(i).padStart(3, '0')}`, v: 1 })),
        );
        await store.commit(
          Array.from({ length: 400 }, (_, i) => ({
            collection: c,
            id: `r${String(i).padStart(3, '0')}`,
            doc: i % 4 === 0 ? null : { _id: `r${String(i).padStart(3, '0')}`, v: 2 },
          })),
        );
        expect(await store.collection(c).count({ v: 2 })).toBe(300);
        expect(await store.collection(c).count()).toBe(300);
        await store.commit(
          Array.from({ length: 150 }, (_, i) => ({
            collection: c,
            id: `r${String(i * 2 + 1).padStart(3, '0')}`,
            doc: { _id: `r${String(i * 2 + 1).padStart(3, '0')}`, v: 3 },
          })),
        );
        expect(await store.collection(c).count({ v: 3 })).toBe(150);
      });

      it('a commit that fails part-way applies none of its changes', async () => {
        const c = fresh();
        await seed(c, [{ _id: 'a', v: 1 }]);
        const bad: DocumentChange[] = [
          { collection: c, id: 'a', doc: { _id: 'a', v: 2 } },
          { collection: c, id: 'n', doc: { _id: 'n' } },
          { collection: 'not a valid name!', id: 'x', doc: { _id: 'x' } },
        ];
        await expect(store.commit(bad)).rejects.toThrow(/invalid collection name/);
        await expect(
          store.commit([
            { collection: c, id: 'b', doc: { _id: 'b' } },
            { collection: c, id: 'c', doc: { _id: 'other' } },
          ]),
        ).rejects.toThrow(/_id/);
        expect(await store.collection(c).find()).toEqual([{ _id: 'a', v: 1 }]);
      });

      it('concurrent commits to different documents all land', async () => {
        const c = fresh();
        await Promise.all(
          Array.from({ length: 10 }, (_, k) =>
            store.commit(Array.from({ length: 20 }, (_, i) => ({ collection: c, id: `c${k}-${i}`, doc: { _id: `c${k}-${i}`, k } }))),
          ),
        );
        expect(await store.collection(c).count()).toBe(200);
      });
    });

    describe('fences (one writer per role in a cluster)', () => {
      const fence = (role: string, token: number, valid = () => true): Fence => ({ role, token, valid });
      const under = (f: Fence, changes: DocumentChange[]) => changes.map((c) => ({ ...c, fence: f }));
      const doc = (c: string, id: string, v: number): DocumentChange => ({ collection: c, id, doc: { _id: id, v } });

      it('a commit under the claimed token lands; once a higher token claims the role, the lower one is refused and nothing of it is applied', async () => {
        const [role, c] = [fresh('role'), fresh()];
        const old = fence(role, 1);
        await store.claimFence(old);
        await store.commit(under(old, [doc(c, 'a', 1), doc(c, 's', 1)]));
        const other = await target.reopen(); // another process takes the role over
        try {
          const current = fence(role, 2);
          await other.claimFence(current);
          const refused = await store
            .commit(under(old, [doc(c, 'a', 99), { collection: c, id: 's', doc: null }, doc(c, 'n', 99)]))
            .catch((e: unknown) => e);
          expect(isFencedError(refused)).toBe(true);
          expect((refused as { roles: string[] }).roles).toEqual([role]);
          expect(await store.collection(c).find()).toEqual([
            { _id: 'a', v: 1 },
            { _id: 's', v: 1 },
          ]);
          await other.commit(under(current, [doc(c, 'a', 2)]));
          expect(await store.collection(c).findById('a')).toEqual({ _id: 'a', v: 2 });
          // the old token can neither claim again
          await expect(store.claimFence(old)).rejects.toThrow(/fenced/);
        } finally {
          await other.close();
        }
      });

      it('claiming again with the same token changes nothing: commits go on', async () => {
        const [role, c] = [fresh('role'), fresh()];
        const f = fence(role, 5);
        await store.claimFence(f);
        await store.commit(under(f, [doc(c, 'a', 1)]));
        await store.claimFence(f);
        await store.commit(under(f, [doc(c, 'a', 2), doc(c, 'b', 2)]));
        expect(await store.collection(c).find()).toEqual([
          { _id: 'a', v: 2 },
          { _id: 'b', v: 2 },
        ]);
      });

      it('a holder whose lease is no longer valid writes nothing, even with the current token', async () => {
        const [role, c] = [fresh('role'), fresh()];
        let valid = true;
        const f = fence(role, 1, () => valid);
        await store.claimFence(f);
        await store.commit(under(f, [doc(c, 'a', 1)]));
        valid = false;
        const refused = await store.commit(under(f, [doc(c, 'a', 2)])).catch((e: unknown) => e);
        expect(isFencedError(refused)).toBe(true);
        expect(await store.collection(c).findById('a')).toEqual({ _id: 'a', v: 1 });
      });

      it("one commit under two roles: the stale role's changes are never applied, the other's all or none", async () => {
        const [stale, live, c1, c2] = [fresh('role'), fresh('role'), fresh(), fresh()];
        const [f1, f2] = [fence(stale, 1), fence(live, 1)];
        await store.claimFence(f1);
        await store.claimFence(f2);
        const other = await target.reopen();
        try {
          await other.claimFence(fence(stale, 2));
        } finally {
          await other.close();
        }
        const error = await store
          .commit([...under(f1, [doc(c1, 'a', 1)]), ...under(f2, [doc(c2, 'b', 1), doc(c2, 'c', 1)])])
          .catch((e: unknown) => e);
        expect(await store.collection(c1).count()).toBe(0);
        if (error instanceof PartialCommitError) {
          // The redo journal commits each role on its own.
          expect([error.committed, error.fenced]).toEqual([[live], [stale]]);
          expect(await store.collection(c2).count()).toBe(2);
        } else {
          expect(isFencedError(error) && (error as { roles: string[] }).roles).toEqual([stale]);
          expect(await store.collection(c2).count()).toBe(0);
        }
      });

      it('refuses a commit with a fence on some changes and not on others', async () => {
        const [role, c] = [fresh('role'), fresh()];
        const f = fence(role, 1);
        await store.claimFence(f);
        await expect(store.commit([{ ...doc(c, 'a', 1), fence: f }, doc(c, 'b', 1)])).rejects.toThrow(/fence on every change or on none/);
        expect(await store.collection(c).count()).toBe(0);
      });
    });

    describe('crash during commit (recovery on reopen)', () => {
      const batch = (c1: string, c2: string, status: string): DocumentChange[] => [
        { collection: c1, id: 'a', doc: { _id: 'a', n: 2 } },
        { collection: c1, id: 'b', doc: null },
        { collection: c1, id: 'new', doc: { _id: 'new', n: 1 } },
        ...Array.from({ length: 40 }, (_, i) => ({ collection: c2, id: `f${i}`, doc: { _id: `f${i}`, pad: 'y'.repeat(500) } })),
        { collection: status, id: 'proj', doc: { _id: 'proj', checkpoint: 2 } },
      ];

      const points = options.crashPoints ?? [];
      it.each(points.map((p) => [p.point, p.outcome, p] as const))(
        'stopped at %s: a reopened store shows %s of the batch',
        async (_, __, entry) => {
          const crash = target.crash;
          if (!crash) throw new Error('crash points given without target.crash');
          const [c1, c2, status] = [fresh('c1'), fresh('c2'), fresh('status')];
          await seed(c1, [
            { _id: 'a', n: 1 },
            { _id: 'b', n: 1 },
          ]);
          await seed(status, [{ _id: 'proj', checkpoint: 1 }]);
          const doomed = await target.reopen();
          await crash.commitUntil(doomed, batch(c1, c2, status), entry.point);
          await doomed.close().catch(() => undefined);
          const restarted = await target.reopen();
          try {
            const state = {
              c1: await restarted.collection(c1).find(),
              c2: await restarted.collection(c2).count(),
              status: await restarted.collection(status).find(),
            };
            if (entry.outcome === 'none') {
              expect(state).toEqual({
                c1: [
                  { _id: 'a', n: 1 },
                  { _id: 'b', n: 1 },
                ],
                c2: 0,
                status: [{ _id: 'proj', checkpoint: 1 }],
              });
            } else {
              expect(state).toEqual({
                c1: [
                  { _id: 'a', n: 2 },
                  { _id: 'new', n: 1 },
                ],
                c2: 40,
                status: [{ _id: 'proj', checkpoint: 2 }],
              });
            }
            expect(await crash.leftovers(restarted)).toBe(0);
            // and the restarted store commits normally
            await restarted.commit([
              { collection: status, id: 'proj', doc: { _id: 'proj', checkpoint: 3 } },
              { collection: c1, id: 'a', doc: { _id: 'a', n: 3 } },
            ]);
            expect(await restarted.collection(status).findById('proj')).toEqual({ _id: 'proj', checkpoint: 3 });
            expect(await crash.leftovers(restarted)).toBe(0);
          } finally {
            await restarted.close();
          }
        },
      );
    });

    describe('indexes', () => {
      let plain: string;
      let indexed: string;
      beforeAll(async () => {
        plain = fresh('plain');
        indexed = fresh('indexed');
        for (const field of ['mixed', 'num', 'str', 'flag', 'group']) await store.ensureIndex(indexed, field);
        await seed(plain, scalarDocs());
        await seed(indexed, scalarDocs());
      });

      const same = async (filter: Filter, options?: FindOptions) => {
        const expected = await store.collection(plain).find(filter, options);
        expect(await store.collection(indexed).find(filter, options)).toEqual(expected);
        expect(await store.collection(indexed).count(filter)).toBe(await store.collection(plain).count(filter));
        return expected;
      };

      it.each(SCALAR_FILTERS.map((f) => [JSON.stringify(f), f] as const))(
        'an indexed field answers like an unindexed one: %s',
        async (_, filter) => {
          for (const sort of SCALAR_SORTS) {
            await same(filter, { sort });
            await same(filter, { sort, skip: 3, limit: 7 });
          }
        },
      );

      it('answers what MongoDB answers on mixed scalar types', async () => {
        const docs = scalarDocs();
        const expectIds = async (filter: Filter, wanted: (d: Document) => boolean) => {
          expect(ids(await same(filter))).toEqual(docs.filter(wanted).map((d) => d._id));
        };
        await expectIds({ mixed: 1 }, (d) => d.mixed === 1);
        await expectIds({ mixed: true }, (d) => d.mixed === true);
        await expectIds({ mixed: 0 }, (d) => d.mixed === 0);
        await expectIds({ mixed: { $gt: 1 } }, (d) => typeof d.mixed === 'number' && d.mixed > 1);
        await expectIds({ mixed: { $lt: 'b' } }, (d) => typeof d.mixed === 'string' && d.mixed < 'b');
        await expectIds({ mixed: { $in: [0, '0', true] } }, (d) => d.mixed === 0 || d.mixed === '0' || d.mixed === true);
        await expectIds({ mixed: null }, (d) => d.mixed === null || d.mixed === undefined);
        const order = ids(await same({}, { sort: { mixed: 1 } }));
        const rank = (v: unknown) => (v === null || v === undefined ? 0 : typeof v === 'number' ? 1 : typeof v === 'string' ? 2 : 3);
        const sorted = [...docs].sort(
          (x, y) => rank(x.mixed) - rank(y.mixed) || (x.mixed! < y.mixed! ? -1 : x.mixed! > y.mixed! ? 1 : 0) || (x._id < y._id ? -1 : 1),
        );
        expect(order).toEqual(ids(sorted));
      });

      it('stays correct once an indexed field holds an array or a document', async () => {
        const [p, i] = [fresh('plain'), fresh('indexed')];
        await store.ensureIndex(i, 'v');
        const docs: Document[] = [
          { _id: 'a', v: 1 },
          { _id: 'b', v: [1, 5] },
          { _id: 'c', v: 'x' },
          { _id: 'd', v: { w: 1 } },
          { _id: 'e', v: [] },
          { _id: 'f', v: 5 },
          { _id: 'g' },
        ];
        for (const c of [p, i]) await seed(c, docs);
        for (const filter of [
          { v: 1 },
          { v: 5 },
          { v: { $gt: 2 } },
          { v: { $in: [1, 'x'] } },
          { v: null },
          { v: [1, 5] },
          { v: { w: 1 } },
        ]) {
          const expected = ids(await store.collection(p).find(filter));
          expect(ids(await store.collection(i).find(filter))).toEqual(expected);
          expect(await store.collection(i).count(filter)).toBe(expected.length);
        }
        expect(ids(await store.collection(i).find({ v: 5 }))).toEqual(['b', 'f']);
        expect(ids(await store.collection(i).find({ v: { $gt: 2 } }))).toEqual(['b', 'f']);
        for (const sort of [{ v: 1 }, { v: -1 }] as const) {
          expect(ids(await store.collection(i).find({}, { sort }))).toEqual(ids(await store.collection(p).find({}, { sort })));
        }
      });

      it('ensureIndex is idempotent, works before or after data, and survives a reopen', async () => {
        const c = fresh();
        await seed(c, [
          { _id: 'a', f: 2 },
          { _id: 'b', f: 1 },
          { _id: 'c', f: true },
        ]);
        await store.ensureIndex(c, 'f');
        await store.ensureIndex(c, 'f');
        expect(ids(await store.collection(c).find({ f: { $gte: 1 } }, { sort: { f: -1 } }))).toEqual(['a', 'b']);
        expect(ids(await store.collection(c).find({}, { sort: { f: 1 } }))).toEqual(['b', 'a', 'c']);
        const other = await target.reopen();
        try {
          expect(ids(await other.collection(c).find({ f: 1 }))).toEqual(['b']);
          expect(ids(await other.collection(c).find({ f: true }))).toEqual(['c']);
        } finally {
          await other.close();
        }
      });

      it('ensureIndex of the same index by two processes at once succeeds for both (a role and its previous holder)', async () => {
        const other = await target.reopen();
        try {
          for (let round = 0; round < 20; round++) {
            // Each process creates its indexes one after the other, as a projection's join does.
            const c = fresh();
            const indexes = async (s: ReadStore) => {
              for (const field of ['f', 'g', 'h']) await s.ensureIndex(c, field);
            };
            await Promise.all([indexes(store), indexes(other), indexes(store), indexes(other)]);
            await store.commit([{ collection: c, id: 'a', doc: { _id: 'a', f: 1, g: 2, h: 3 } }]);
            expect(ids(await other.collection(c).find({ g: 2 }))).toEqual(['a']);
          }
        } finally {
          await other.close();
        }
      });

      it('rejects an invalid field name', async () => {
        await expect(store.ensureIndex(fresh(), 'bad field')).rejects.toThrow(/invalid index field/);
      });
    });

    describe('collections', () => {
      it('generations side by side are independent; drop removes one; a missing one drops quietly', async () => {
        const base = `proj${uid()}.deals`;
        const [g1, g2] = [`${base}.g1`, `${base}.g2`];
        await seed(g1, [{ _id: 'd1', v: 1 }]);
        await store.ensureIndex(g2, 'v');
        await seed(g2, [
          { _id: 'd1', v: 2 },
          { _id: 'd2', v: 2 },
        ]);
        const listed = await store.listCollections();
        expect(listed).toEqual(expect.arrayContaining([g1, g2]));
        expect([...listed].sort()).toEqual(listed);
        expect(listed.every((n) => !n.startsWith('system.'))).toBe(true);
        await store.dropCollection(g1);
        await store.dropCollection(g1);
        await store.dropCollection(`${base}.g9`);
        expect(await store.listCollections()).not.toContain(g1);
        expect(await store.collection(g1).find()).toEqual([]);
        expect(await store.collection(g2).find({ v: 2 })).toEqual([
          { _id: 'd1', v: 2 },
          { _id: 'd2', v: 2 },
        ]);
        // a dropped collection can be written again, from empty
        await seed(g1, [{ _id: 'd9', v: 9 }]);
        expect(await store.collection(g1).find()).toEqual([{ _id: 'd9', v: 9 }]);
        await store.dropCollection(g2);
        await store.ensureIndex(g2, 'v');
        expect(await store.collection(g2).count({ v: 2 })).toBe(0);
      });

      it('lists only the collections written to, not internal bookkeeping', async () => {
        const c = fresh('listed');
        expect(await store.listCollections()).not.toContain(c);
        await store.collection(c).upsert({ _id: 'x' });
        const listed = await store.listCollections();
        expect(listed).toContain(c);
        expect(listed.filter((n) => n === '_journal' || n === '_indexes')).toEqual([]);
      });

      it('rejects invalid collection names', () => {
        expect(() => store.collection('has space')).toThrow(/invalid collection name/);
        expect(() => store.collection('')).toThrow(/invalid collection name/);
        expect(() => store.collection('x"; DROP TABLE y')).toThrow(/invalid collection name/);
      });
    });
  });
}
