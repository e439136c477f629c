import fc from 'fast-check';
import { InvalidInput } from '@chronicle/domain';
import { compositeKey, compositeRange, pageWindow, sortableNumber } from './listing';

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
});
