import { ATTRIBUTES_LIMITS, jsonTextProblem, NESTED_VALUE_LIMITS, shapeProblem } from './body-shape';

const keys = (n: number, value: unknown = 'v') => Object.fromEntries(Array.from({ length: n }, (_, i) => [`k${i}`, value]));

describe('shapeProblem', () => {
  it('accepts a maximal attributes object and anything within the limits', () => {
    const maximal = Object.fromEntries(Array.from({ length: 100 }, (_, i) => [`${i}`.padStart(64, 'k'), 'v'.repeat(1000)]));
    expect(shapeProblem(maximal, ATTRIBUTES_LIMITS)).toBeUndefined();
    expect(shapeProblem({ a: { b: [1, 'two', true, null] } }, ATTRIBUTES_LIMITS)).toBeUndefined();
    expect(shapeProblem('not an object', ATTRIBUTES_LIMITS)).toBeUndefined(); // the type is class-validator's business
  });

  it('names the limit that is passed', () => {
    expect(shapeProblem(keys(110_000), ATTRIBUTES_LIMITS)).toBe(
      'must have at most 100 keys and array items in all, at every level (it has at least 110,000)',
    );
    expect(shapeProblem({ a: keys(60), b: keys(60) }, ATTRIBUTES_LIMITS)).toMatch(/^must have at most 100 keys and array items/);
    expect(shapeProblem({ list: Array(100).fill(1) }, ATTRIBUTES_LIMITS)).toMatch(/at least 101/);
    expect(shapeProblem({ a: { b: { c: {} } } }, ATTRIBUTES_LIMITS)).toBe('must not be nested more than 3 levels deep');
    expect(shapeProblem({ a: [[[1]]] }, ATTRIBUTES_LIMITS)).toBe('must not be nested more than 3 levels deep');
    expect(shapeProblem({ ['k'.repeat(65)]: 1 }, ATTRIBUTES_LIMITS)).toBe(
      `keys must be at most 64 characters ("${'k'.repeat(20)}…" has 65)`,
    );
    expect(shapeProblem({ a: ['x'.repeat(1001)] }, ATTRIBUTES_LIMITS)).toBe('string values must be at most 1000 characters (one has 1001)');
  });

  it('bounds only the size of other nested values', () => {
    expect(shapeProblem([[[[[[1]]]]]], NESTED_VALUE_LIMITS)).toBeUndefined();
    expect(shapeProblem({ owner: 'x'.repeat(5000) }, NESTED_VALUE_LIMITS)).toBeUndefined();
    expect(shapeProblem(Array(101).fill(0), NESTED_VALUE_LIMITS)).toMatch(/at most 100 keys and array items/);
  });

  it('is linear: 110,000 keys are refused in milliseconds', () => {
    const big = keys(110_000);
    const started = process.hrtime.bigint();
    shapeProblem(big, ATTRIBUTES_LIMITS);
    expect(Number(process.hrtime.bigint() - started) / 1e6).toBeLessThan(200);
  });
});

describe('jsonTextProblem (before parsing)', () => {
  const text = (value: unknown) => JSON.stringify(value);

  it('passes every body within the bounds, and malformed JSON (the parser refuses it)', () => {
    const maximal = Object.fromEntries(Array.from({ length: 100 }, (_, i) => [String(i).padStart(64, 'k'), 'v'.repeat(1000)]));
    expect(jsonTextProblem(text({ name: 'Ada', attributes: maximal, segment: { owner: 'x' } }))).toBeUndefined();
    expect(jsonTextProblem(text({ a: { b: [1, [2, 3], { c: '{[,:"\\' }] }, list: [] }))).toBeUndefined();
    expect(jsonTextProblem(text({ list: Array(100).fill(0) }))).toBeUndefined();
    expect(jsonTextProblem(' {"a":1}')).toBeUndefined();
    for (const malformed of ['{', '{"a":}', '{"a":1}x', "{'a':1}", '{"a":NaN}', '{"a":"\\', '}]]{']) {
      expect(() => jsonTextProblem(malformed)).not.toThrow();
    }
  });

  it('stops at the first bound passed, naming the field', () => {
    const attributes = Object.fromEntries(Array.from({ length: 110_000 }, (_, i) => [i.toString(36), i % 10]));
    expect(jsonTextProblem(text({ name: 'Ada', attributes }))).toBe(
      'attributes: attributes must have at most 100 keys and array items in all, at every level',
    );
    expect(jsonTextProblem(text({ name: Array(101).fill('x') }))).toBe(
      'name: name must have at most 100 keys and array items in all, at every level',
    );
    expect(jsonTextProblem(text({ a: { b: Array(60).fill(1), c: Array(60).fill(1) } }))).toMatch(/^a: a must have at most 100/);
    expect(jsonTextProblem(text(Object.fromEntries(Array.from({ length: 101 }, (_, i) => [`f${i}`, 1]))))).toBe(
      'body: must have at most 100 fields',
    );
    expect(jsonTextProblem('{"a":' + '['.repeat(40) + ']'.repeat(40) + '}')).toBe('body: must not be nested more than 32 levels deep');
    for (const notAnObject of ['[1,2]', '"Ada"', '42', 'null', 'true'])
      expect(jsonTextProblem(notAnObject)).toBe('body: must be a JSON object');
  });

  it('counts structure, not characters inside strings', () => {
    expect(jsonTextProblem(text({ notes: ',:[{'.repeat(10_000) }))).toBeUndefined();
    expect(jsonTextProblem(text({ 'a"b': 1, 'c\\': [1, 2] }))).toBeUndefined();
  });
});
