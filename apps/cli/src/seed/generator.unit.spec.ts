import { generateHistory, seedId } from './generator';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('the seeded history', () => {
  const history = generateHistory({ events: 3000, seed: 7, end: new Date('2026-01-01T00:00:00Z') });

  it('names every record by a lower-case UUID, as the API does, so seeded records can be read and erased', () => {
    const ids = new Set(
      history
        .map((e) => e.streamId.slice(e.streamId.indexOf('-') + 1))
        .filter((id) => !['unattributed'].includes(id) && !/^[a-z-]+$/.test(id)),
    );
    expect(ids.size).toBeGreaterThan(100);
    for (const id of ids) expect(id).toMatch(UUID);
  });

  it('is the same for the same seed, and its ids differ between seeds', () => {
    expect(generateHistory({ events: 3000, seed: 7, end: new Date('2026-01-01T00:00:00Z') })).toEqual(history);
    expect(seedId(7, 'cust', 1, 100)).toBe(seedId(7, 'cust', 1, 100));
    expect(new Set([seedId(7, 'cust', 1, 100), seedId(8, 'cust', 1, 100), seedId(7, 'lead', 1, 100), seedId(7, 'cust', 2, 100)]).size).toBe(
      4,
    );
  });
});
