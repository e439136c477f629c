import fc from 'fast-check';
import { decodeDocument, encodeDocument, encodeUpdate } from './ferretdb-codec';

/** What FerretDB v1 refuses: arrays in arrays, keys with '.' or a leading '$'. */
function refused(value: unknown, inArray = false): boolean {
  if (Array.isArray(value)) return inArray || value.some((v) => refused(v, true));
  if (value && typeof value === 'object') return Object.entries(value).some(([k, v]) => k.includes('.') || k.startsWith('$') || refused(v));
  return false;
}

const key = fc.oneof(fc.string({ maxLength: 6 }), fc.constantFrom('a.b', '$x', '%', '%25', '%2E', '%array', '.', '$', '%24', 'plain'));
const json = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    fc.string(),
    fc.double({ noNaN: true, noDefaultInfinity: true }).map((n) => (Object.is(n, -0) ? 0 : n)) /* JSON has no -0 */,
    fc.boolean(),
    fc.constant(null),
    tie('array'),
    tie('object'),
  ),
  array: fc.array(tie('value'), { maxLength: 4 }),
  object: fc.dictionary(key, tie('value'), { maxKeys: 4 }),
})).object;

describe('FerretDB codec', () => {
  it('round-trips any JSON document, and what it stores is something FerretDB takes', () => {
    fc.assert(
      fc.property(json, (body) => {
        const doc = { ...body, _id: 'x' };
        const copy = JSON.parse(JSON.stringify(doc));
        const encoded = encodeDocument(doc);
        expect(refused(encoded)).toBe(false);
        expect(decodeDocument(JSON.parse(JSON.stringify(encoded)))).toEqual(copy);
        expect(doc).toEqual(copy); // the input is left alone
      }),
      { numRuns: 500 },
    );
  });

  it('leaves documents that need nothing as they are (same object)', () => {
    const doc = { _id: 'a', list: [1, { b: [2] }], o: { p: 'q' } };
    expect(encodeDocument(doc)).toBe(doc);
    expect(decodeDocument(doc)).toBe(doc);
  });

  it('encodes the values of $set, $setOnInsert, $push (and $each) and $addToSet, not the paths', () => {
    expect(
      encodeUpdate({ $set: { 'a.b': [[1]] }, $push: { l: [1], m: { $each: [[2]] } }, $addToSet: { s: { 'k.k': 1 } }, $inc: { n: 1 } }),
    ).toEqual({
      $set: { 'a.b': [{ '%array': [1] }] },
      $push: { l: { '%array': [1] }, m: { $each: [{ '%array': [2] }] } },
      $addToSet: { s: { 'k%2Ek': 1 } },
      $inc: { n: 1 },
    });
  });
});
