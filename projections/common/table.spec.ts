import { tableRow } from './table';

describe('tableRow', () => {
  it('merges its parts left to right into flat columns, nested objects as dotted columns', () => {
    expect(tableRow({ start: 's', end: 'e' }, { ownerId: 'u1', interactionsByType: { call: 2, email: 0 }, winRate: null })).toEqual({
      start: 's',
      end: 'e',
      ownerId: 'u1',
      'interactionsByType.call': 2,
      'interactionsByType.email': 0,
      winRate: null,
    });
  });

  it('leaves undefined out, keeps a list as one JSON cell and a null object as null', () => {
    expect(tableRow({ a: undefined, tags: ['x', 'y'], cancelled: null, baseline: { value: null } })).toEqual({
      tags: '["x","y"]',
      cancelled: null,
      'baseline.value': null,
    });
  });
});
