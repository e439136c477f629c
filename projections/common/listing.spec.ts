import fc from 'fast-check';
import { InvalidInput } from '@chronicle/domain';
import { EmbeddedReadStore } from '@chronicle/read-store';
import type { ProjectionContext } from '@chronicle/projector';
import { compositeKey, compositeRange, countedTotal, CountsDocument, pageWindow, recount, sortableNumber } from './listing';

describe('list helpers', () => {
  it('sortableNumber orders strings as the numbers are ordered (negative, zero, fractions, huge)', () => {
    fc.assert(
      fc.property(fc.array(fc.double({ noNaN: true, noDefaultInfinity: true }), { minLength: 2, maxLength: 30 }), (numbers) => {
        const byNumber = [...numbers].sort((a, b) => a - b).map((n) => (n === 0 ? 0 : n));
        const byString = [...numbers]
          .sort((a, b) => (sortableNumber(a) < sortableNumber(b) ? -1 : sortableNumber(a) > sortableNumber(b) ? 1 : 0))
          .map((n) => (n === 0 ? 0 : n));
        expect(byString).toEqual(byNumber);
      }),
      { numRuns: 200, seed: 1 },
    );
    expect(sortableNumber(-0)).toBe(sortableNumber(0));
    expect(sortableNumber(0.1 + 0.2) > sortableNumber(0.3)).toBe(true);
  });

  it('composite keys of one status stay in its range and sort by the key (absent first)', () => {
    const keys = [
      compositeKey('open', null),
      compositeKey('open', ''),
      compositeKey('open', 'a'),
      compositeKey('open', 'a|b'),
      compositeKey('open', '\uffff'),
    ];
    const range = compositeRange('open');
    for (const key of keys) expect(key >= range.$gte && key < range.$lt).toBe(true);
    for (const other of [compositeKey('opened', 'a'), compositeKey('ope', 'z'), compositeKey('won', '')])
      expect(other >= range.$gte && other < range.$lt).toBe(false);
    expect([...keys].sort()).toEqual(keys);
  });

  it('pageWindow defaults to 50 from 0 and refuses what is out of bounds', () => {
    expect(pageWindow({})).toEqual({ limit: 50, offset: 0 });
    expect(pageWindow({ limit: 200, offset: 7 })).toEqual({ limit: 200, offset: 7 });
    for (const bad of [{ limit: 0 }, { limit: 201 }, { limit: 2.5 }, { offset: -1 }]) expect(() => pageWindow(bad)).toThrow(InvalidInput);
  });

  it('counts by field and by pair of fields; a counts document kept before pairs answers pairs from the store (undefined)', async () => {
    const store = new EmbeddedReadStore(':memory:');
    const stats = store.collection<CountsDocument>('stats');
    const docs = new Map<string, CountsDocument>();
    const ctx: ProjectionContext = {
      get: async <T>(_: string, id: string) => docs.get(id) as T | undefined,
      put: (_: string, doc) => void docs.set(doc._id, doc as unknown as CountsDocument),
      delete: (_: string, id: string) => void docs.delete(id),
    };
    const fields = ['status', 'region', 'ownerId'] as const;
    type Row = { status: string; region: string; ownerId?: string };
    const rows: Row[] = [
      { status: 'active', region: 'emea', ownerId: 'u1' },
      { status: 'active', region: 'emea', ownerId: 'u2' },
      { status: 'active', region: 'amer' },
      { status: 'churned', region: 'emea', ownerId: 'u1' },
    ];
    for (const row of rows) await recount<Row>(ctx, 'stats', fields, undefined, row);
    // The second one moves to amer; the last one is removed.
    await recount<Row>(ctx, 'stats', fields, rows[1], { ...rows[1], region: 'amer' });
    await recount<Row>(ctx, 'stats', fields, rows[3], undefined);
    await stats.upsert(docs.get('counts')!);
    const total = (filter: Record<string, string>) => countedTotal(stats, filter, fields);
    expect(await total({})).toBe(3);
    expect(await total({ region: 'emea' })).toBe(1);
    expect(await total({ region: 'emea', status: 'active' })).toBe(1);
    expect(await total({ status: 'active', region: 'amer' })).toBe(2);
    expect(await total({ ownerId: 'u1', status: 'active' })).toBe(1);
    expect(await total({ status: 'churned', region: 'emea' })).toBe(0);
    expect(await total({ status: 'active', region: 'amer', ownerId: 'u2' })).toBeUndefined(); // three fields: the store counts
    // Kept before pairs: no answer by pair (the store counts), and later changes keep it without pairs.
    const { pairs: _, ...old } = docs.get('counts')!;
    docs.set('counts', old);
    await recount<Row>(ctx, 'stats', fields, undefined, { status: 'active', region: 'apac' });
    expect(docs.get('counts')!.pairs).toBeUndefined();
    await stats.upsert(docs.get('counts')!);
    expect(await total({ status: 'active', region: 'amer' })).toBeUndefined();
    expect(await total({ region: 'apac' })).toBe(1);
    await store.close();
  });
});
