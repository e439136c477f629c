import {
  AssignmentConfig,
  chooseOwner,
  foldAssignmentBook,
  initialAssignmentBook,
  validateAssignmentConfig,
  workloads,
} from './assignment';

const config = (c: Partial<AssignmentConfig>): AssignmentConfig =>
  validateAssignmentConfig({ reps: [{ id: 'a' }, { id: 'b' }, { id: 'c' }], ...c });

/** Assigns n subjects in order, folding each assignment back as the feed would. */
function assignMany(cfg: AssignmentConfig, n: number, subject = {}) {
  const book = initialAssignmentBook();
  const owners: string[] = [];
  for (let i = 0; i < n; i++) {
    const choice = chooseOwner(cfg, book, subject);
    if (!choice) break;
    owners.push(choice.ownerId);
    foldAssignmentBook(book, { type: 'LeadAssigned', data: { leadId: `l${i}`, ownerId: choice.ownerId } });
  }
  return owners;
}

const count = (owners: string[]) => owners.reduce<Record<string, number>>((m, o) => ({ ...m, [o]: (m[o] ?? 0) + 1 }), {});

describe('auto-assignment', () => {
  it('round-robin: 100 leads over 3 reps → 34/33/33, in turn', () => {
    const owners = assignMany(config({ strategy: 'round-robin' }), 100);
    expect(count(owners)).toEqual({ a: 34, b: 33, c: 33 });
    expect(owners.slice(0, 4)).toEqual(['a', 'b', 'c', 'a']);
  });

  it('round-robin skips an unavailable rep and a rep at capacity', () => {
    const cfg = validateAssignmentConfig({
      strategy: 'round-robin',
      reps: [{ id: 'a', capacity: 1 }, { id: 'b', available: false }, { id: 'c' }],
    });
    expect(assignMany(cfg, 4)).toEqual(['a', 'c', 'c', 'c']);
    const book = initialAssignmentBook();
    const choice = chooseOwner(cfg, book, {});
    expect(choice).toEqual({ ownerId: 'a', strategy: 'round-robin', reason: 'round-robin turn 1 of 3' });
  });

  it('returns nothing when every rep is at capacity, and when assignment is off', () => {
    const cfg = validateAssignmentConfig({ strategy: 'round-robin', reps: [{ id: 'a', capacity: 2 }] });
    expect(assignMany(cfg, 5)).toEqual(['a', 'a']);
    expect(chooseOwner(validateAssignmentConfig({}), initialAssignmentBook(), {})).toBeUndefined();
  });

  it('least-busy: the rep with the fewest open leads and deals, ties in configured order', () => {
    const cfg = config({ strategy: 'least-busy' });
    const book = initialAssignmentBook();
    foldAssignmentBook(book, { type: 'DealOpened', data: { dealId: 'd1', ownerId: 'a' } });
    foldAssignmentBook(book, { type: 'DealOpened', data: { dealId: 'd2', ownerId: 'a' } });
    foldAssignmentBook(book, { type: 'LeadAssigned', data: { leadId: 'x', ownerId: 'b' } });
    foldAssignmentBook(book, { type: 'DealOpened', data: { dealId: 'd3', ownerId: 'c' } });
    foldAssignmentBook(book, { type: 'DealWon', data: { dealId: 'd3' } }); // c is free again
    expect(chooseOwner(cfg, book, {})).toEqual({ ownerId: 'c', strategy: 'least-busy', reason: 'least busy: 0 open leads and deals' });
    foldAssignmentBook(book, { type: 'LeadAssigned', data: { leadId: 'y', ownerId: 'c' } });
    expect(chooseOwner(cfg, book, {})?.ownerId).toBe('b'); // b 1, c 1: b comes first
    foldAssignmentBook(book, { type: 'LeadConverted', data: { leadId: 'x' } }); // b 0
    expect(chooseOwner(cfg, book, {})?.ownerId).toBe('b');
    expect(Object.fromEntries(workloads(book))).toEqual({ a: 2, c: 1 });
    // A reopened deal is open again: it weighs on its current owner's workload.
    foldAssignmentBook(book, { type: 'DealReopened', data: { dealId: 'd3', ownerId: 'b' } });
    expect(Object.fromEntries(workloads(book))).toEqual({ a: 2, b: 1, c: 1 });
  });

  it('territory: first matching rule by region/industry, round-robin within, fallback to all reps', () => {
    const cfg = validateAssignmentConfig({
      strategy: 'territory',
      reps: [{ id: 'eu1' }, { id: 'eu2' }, { id: 'fin' }, { id: 'us' }],
      territories: [
        { region: ['emea'], reps: ['eu1', 'eu2'] },
        { industry: ['finance'], reps: ['fin'] },
      ],
    });
    const book = initialAssignmentBook();
    const pick = (s: { region?: string; industry?: string }) => chooseOwner(cfg, book, s)!;
    expect(pick({ region: 'EMEA', industry: 'finance' })).toEqual({
      ownerId: 'eu1',
      strategy: 'territory',
      reason: 'territory 1 (region emea), round-robin turn 1 of 2',
    });
    expect(pick({ region: 'emea' }).ownerId).toBe('eu2');
    expect(pick({ region: 'emea' }).ownerId).toBe('eu1');
    expect(pick({ region: 'na', industry: 'finance' }).ownerId).toBe('fin');
    const fallback = pick({ region: 'apac' });
    expect(fallback).toEqual({
      ownerId: 'eu1',
      strategy: 'territory',
      reason: 'no territory matched: fallback to all reps, round-robin turn 1 of 4',
    });
    expect(pick({}).ownerId).toBe('eu2');
  });

  it('availability in time: a rep away when the subject arrives is skipped', () => {
    const cfg = validateAssignmentConfig({
      strategy: 'round-robin',
      reps: [{ id: 'a', away: [{ from: '2024-03-01T00:00:00Z', to: '2024-03-08T00:00:00Z' }] }, { id: 'b' }],
    });
    const book = initialAssignmentBook();
    const during = Date.parse('2024-03-07T23:59:59Z');
    expect(chooseOwner(cfg, book, { at: during })).toEqual({
      ownerId: 'b',
      strategy: 'round-robin',
      reason: 'round-robin turn 2 of 2 (skipped 1 unavailable or at capacity)',
    });
    expect(chooseOwner(cfg, book, { at: Date.parse('2024-03-08T00:00:00Z') })?.ownerId).toBe('a'); // back (to is exclusive)
    expect(() => validateAssignmentConfig({ reps: [{ id: 'a', away: [{ from: '2024-03-08', to: '2024-03-01' }] }] })).toThrow(
      /reps\[0\]\.away\[0\]/,
    );
  });

  it('validates the configuration, naming the field', () => {
    expect(() => validateAssignmentConfig({ strategy: 'random' })).toThrow(/strategy must be one of/);
    expect(() => validateAssignmentConfig({ strategy: 'round-robin' })).toThrow(/needs at least one rep/);
    expect(() => validateAssignmentConfig({ reps: [{ id: 'a' }, { id: 'a' }] })).toThrow(/reps\[1\]\.id/);
    expect(() => validateAssignmentConfig({ reps: [{ id: 'a', capacity: -1 }] })).toThrow(/reps\[0\]\.capacity/);
    expect(() => validateAssignmentConfig({ strategy: 'territory', reps: [{ id: 'a' }], territories: [{ reps: ['z'] }] })).toThrow(
      /territories\[0\]\.reps: "z"/,
    );
  });
});
