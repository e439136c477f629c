import fc from 'fast-check';
import { InvalidInput } from '@chronicle/domain';
import { appendAndProject } from '../testing/append';
import { project, Projected, ScenarioEvent } from '../testing/harness';
import { asMerged, lastTimeOf, mergeEvents, mergePair, unmergeEvents } from '../testing/merge';
import { createDuplicatesProjection, DUPLICATES_PROJECTION, pairScore } from './projection';
import { DuplicatePair, listDuplicates } from './query';

const KEY = Buffer.from('a-test-key-of-at-least-thirty-two-characters');
const duplicates = createDuplicatesProjection(KEY);

const C = (n: number) => `c0000000-0000-4000-8000-00000000000${n}`;
let clock = Date.parse('2024-03-01T09:00:00.000Z');
const at = () => new Date((clock += 60_000)).toISOString();

const registered = (n: number, profile: Record<string, unknown>): ScenarioEvent => ({
  streamId: `customer-${C(n)}`,
  type: 'CustomerRegistered',
  data: { customerId: C(n), source: 'web', ...profile },
  occurredAt: at(),
});
const updated = (n: number, changes: Record<string, unknown>): ScenarioEvent => ({
  streamId: `customer-${C(n)}`,
  type: 'CustomerProfileUpdated',
  data: { customerId: C(n), ...changes },
  occurredAt: at(),
});
const erased = (n: number): ScenarioEvent => ({
  streamId: `customer-${C(n)}`,
  type: 'CustomerPersonalDataErased',
  data: { customerId: C(n) },
  occurredAt: at(),
});

const pair = (a: number, b: number, reasons: DuplicatePair['reasons'], score: number): DuplicatePair => ({
  customers: [C(a), C(b)],
  reasons,
  score,
});

/** Every pair, through the pages of the list (two at a time, to cross page boundaries). */
async function allPairs(p: Projected): Promise<DuplicatePair[]> {
  const items: DuplicatePair[] = [];
  let after: string | undefined;
  for (;;) {
    const page = await listDuplicates(p.readModels, { limit: 2, after });
    items.push(...page.items);
    if (page.nextCursor === null) return items;
    after = page.nextCursor;
  }
}

/** Every document of the projection's collections, as JSON. */
async function dump(p: Projected): Promise<string> {
  const docs: unknown[] = [];
  for (const name of duplicates.collections) docs.push(...(await (await p.readModels.collection(DUPLICATES_PROJECTION, name)).find({})));
  return JSON.stringify(docs);
}

describe('duplicates projection', () => {
  let p: Projected;
  afterEach(() => p?.close());

  it('pairs customers by email, phone and name with company, with the documented scores, strongest first', async () => {
    p = await project(
      [
        registered(1, { name: 'Ada Lovelace', email: 'Ada@Engines.io', phone: '+44 20 7946 0000', company: 'Analytical Engines' }),
        // Same email (+tag, case) and phone (00 form), same name and company (accents, punctuation): all three.
        registered(2, { name: 'ADA  lovelace', email: 'ada+crm@engines.io', phone: '0044 20-7946-0000', company: 'Analytical-Engines' }),
        // Same phone only.
        registered(3, { name: 'Charles Babbage', email: 'charles@engines.io', phone: '+442079460000', company: 'Difference Engines' }),
        // Same name and company as 1 and 2, nothing else.
        registered(4, { name: 'Ada Lovelace', email: 'countess@lovelace.org', company: 'analytical engines' }),
        // Same name, another company: no pair. No company at all: no name-company pair either.
        registered(5, { name: 'Ada Lovelace', company: 'Somewhere Else' }),
        registered(6, { name: 'Ada Lovelace' }),
      ],
      [duplicates],
    );
    expect(await allPairs(p)).toEqual([
      pair(1, 2, ['email', 'phone', 'name-company'], 1),
      pair(1, 3, ['phone'], 0.3),
      pair(1, 4, ['name-company'], 0.3),
      pair(2, 3, ['phone'], 0.3),
      pair(2, 4, ['name-company'], 0.3),
    ]);
    expect((await listDuplicates(p.readModels)).items.map((i) => i.score)).toEqual([1, 0.3, 0.3, 0.3, 0.3]);
  });

  it('three customers sharing an email are three pairs', async () => {
    p = await project(
      [
        registered(1, { name: 'A', email: 'shared@example.com' }),
        registered(2, { name: 'B', email: ' SHARED@example.com' }),
        registered(3, { name: 'C', email: 'shared+x@example.com' }),
      ],
      [duplicates],
    );
    expect(await allPairs(p)).toEqual([pair(1, 2, ['email'], 0.6), pair(1, 3, ['email'], 0.6), pair(2, 3, ['email'], 0.6)]);
  });

  it('an archived customer is in no pair until it is restored; then its pairs are back as they were', async () => {
    const lifecycle = (n: number, type: 'CustomerArchived' | 'CustomerRestored'): ScenarioEvent => ({
      streamId: `customer-${C(n)}`,
      type,
      data: { customerId: C(n) },
      occurredAt: at(),
    });
    p = await project(
      [
        registered(1, { name: 'Ada', company: 'Engines', email: 'ada@example.com', phone: '+44 20 7946 0000' }),
        registered(2, { name: 'ADA', company: 'engines', email: 'ada@example.com' }),
        registered(3, { name: 'Bob', phone: '+442079460000' }),
      ],
      [duplicates],
    );
    const all = [pair(1, 2, ['email', 'name-company'], 0.9), pair(1, 3, ['phone'], 0.3)];
    expect(await allPairs(p)).toEqual(all);
    await appendAndProject(p, [lifecycle(1, 'CustomerArchived')]);
    expect(await allPairs(p)).toEqual([]);
    await appendAndProject(p, [lifecycle(3, 'CustomerArchived'), lifecycle(1, 'CustomerRestored')]);
    expect(await allPairs(p)).toEqual([all[0]]);
    await appendAndProject(p, [lifecycle(3, 'CustomerRestored')]);
    expect(await allPairs(p)).toEqual(all);
  });

  it('a profile update that changes the email removes the old pair and adds the new one; a phone update adds to a pair', async () => {
    p = await project(
      [
        registered(1, { name: 'A', email: 'one@example.com' }),
        registered(2, { name: 'B', email: 'one@example.com' }),
        registered(3, { name: 'C', email: 'two@example.com', phone: '+1 415 555 0100' }),
      ],
      [duplicates],
    );
    expect(await allPairs(p)).toEqual([pair(1, 2, ['email'], 0.6)]);
    await appendAndProject(p, [updated(2, { email: 'two@example.com' })]);
    expect(await allPairs(p)).toEqual([pair(2, 3, ['email'], 0.6)]);
    await appendAndProject(p, [updated(2, { phone: '001 (415) 555-0100' })]);
    expect(await allPairs(p)).toEqual([pair(2, 3, ['email', 'phone'], 0.9)]);
    // A company change alone completes the name-company reason when the names match.
    await appendAndProject(p, [updated(2, { name: 'C.' }), updated(2, { company: 'Acme' }), updated(3, { company: 'ACME' })]);
    expect(await allPairs(p)).toEqual([pair(2, 3, ['email', 'phone', 'name-company'], 1)]);
    await appendAndProject(p, [updated(3, { company: 'Other' })]);
    expect(await allPairs(p)).toEqual([pair(2, 3, ['email', 'phone'], 0.9)]);
  });

  it('erasure removes every pair of the customer and their hashes; erased customers never match each other', async () => {
    p = await project(
      [
        registered(1, { name: 'Ada Lovelace', email: 'ada@engines.io', phone: '+44 20 7946 0000', company: 'AE' }),
        registered(2, { name: 'Ada Lovelace', email: 'ada@engines.io', company: 'AE' }),
        registered(3, { name: 'Someone', phone: '+44 20 7946 0000' }),
      ],
      [duplicates],
    );
    expect(await allPairs(p)).toEqual([pair(1, 2, ['email', 'name-company'], 0.9), pair(1, 3, ['phone'], 0.3)]);
    await appendAndProject(p, [erased(1)]);
    expect(await allPairs(p)).toEqual([]);
    const people = await p.readModels.collection(DUPLICATES_PROJECTION, 'people');
    expect(await people.findById(C(1))).toEqual({
      _id: C(1),
      email: null,
      phone: null,
      name: null,
      company: null,
      nameCompany: null,
      erased: true,
      archived: false,
      merged: false,
    });
    const groups = await (await p.readModels.collection<{ _id: string; members: string[] }>(DUPLICATES_PROJECTION, 'groups')).find({});
    expect(groups.map((g) => g.members).sort()).toEqual([[C(2)], [C(2)], [C(3)]]);
    // Events of erased customers read as "[erased]" (on a rebuild too): that matches nothing.
    await appendAndProject(p, [
      erased(2),
      registered(7, { name: '[erased]', email: '[erased]', phone: '[erased]', company: 'AE' }),
      registered(8, { name: '[erased]', email: '[erased]', phone: '[erased]', company: 'AE' }),
      // An identity update after the erasure (which the decider refuses anyway) matches nothing.
      updated(1, { email: 'ada@engines.io', name: 'Ada Lovelace' }),
      registered(9, { name: 'Ada Lovelace', email: 'ada@engines.io', company: 'AE' }),
    ]);
    expect(await allPairs(p)).toEqual([]);
  });

  it('keeps no email, phone or name in clear: only keyed hashes, which another key does not reproduce', async () => {
    const clear = [
      'Ada@Engines.io',
      'ada@engines.io',
      'engines.io',
      '+44 20 7946 0000',
      '442079460000',
      '79460000',
      'Lovelace',
      'lovelace',
    ];
    const scenario = [
      registered(1, { name: 'Ada Lovelace', email: 'Ada@Engines.io', phone: '+44 20 7946 0000', company: 'Analytical Engines' }),
      registered(2, { name: 'Ada Lovelace', email: 'ada@engines.io', phone: '+44 20 7946 0000', company: 'Analytical Engines' }),
    ];
    p = await project(scenario, [duplicates]);
    const text = (await dump(p)).toLowerCase();
    expect(text).toContain(C(1));
    for (const value of clear) expect([value, text.includes(value.toLowerCase())]).toEqual([value, false]);
    const hashes = await dump(p);
    await p.close();

    p = await project(scenario, [createDuplicatesProjection(Buffer.from('another-key-of-at-least-thirty-two-chars'))]);
    const other = JSON.parse(await dump(p)) as Array<Record<string, unknown>>;
    const mine = JSON.parse(hashes) as Array<Record<string, unknown>>;
    const emailOf = (docs: Array<Record<string, unknown>>) => docs.find((d) => d._id === C(1) && 'email' in d)!.email;
    expect(emailOf(other)).toEqual(expect.any(String));
    expect(emailOf(other)).not.toEqual(emailOf(mine));
  });

  it('without a key (production without DUPLICATES_KEY) keeps nothing', async () => {
    const unkeyed = createDuplicatesProjection(undefined);
    expect(unkeyed.keyed).toBe(false);
    expect(duplicates.keyed).toBe(true);
    p = await project([registered(1, { name: 'A', email: 'x@y.io' }), registered(2, { name: 'B', email: 'x@y.io' })], [unkeyed]);
    expect(await dump(p)).toBe('[]');
  });

  it('pages by cursor; bad limits and cursors are InvalidInput naming the parameter', async () => {
    p = await project([registered(1, { name: 'A', email: 'x@y.io' }), registered(2, { name: 'B', email: 'x@y.io' })], [duplicates]);
    const first = await listDuplicates(p.readModels, { limit: 1 });
    expect(first).toEqual({ items: [pair(1, 2, ['email'], 0.6)], limit: 1, nextCursor: null });
    for (const [params, field] of [
      [{ limit: 0 }, 'limit'],
      [{ limit: 201 }, 'limit'],
      [{ limit: 1.5 }, 'limit'],
      [{ after: 'not a cursor!' }, 'after'],
      [{ after: Buffer.from('nonsense').toString('base64url') }, 'after'],
    ] as const) {
      const error = await listDuplicates(p.readModels, params).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(InvalidInput);
      expect((error as InvalidInput).field).toBe(field);
    }
  });

  it('scores: the sum of the weights (email 0.6, phone 0.3, name-company 0.3), at most 1', () => {
    expect(pairScore(['email'])).toBe(60);
    expect(pairScore(['phone'])).toBe(30);
    expect(pairScore(['name-company'])).toBe(30);
    expect(pairScore(['phone', 'name-company'])).toBe(60);
    expect(pairScore(['email', 'phone'])).toBe(90);
    expect(pairScore(['email', 'name-company'])).toBe(90);
    expect(pairScore(['email', 'phone', 'name-company'])).toBe(100);
  });
});

const lifecycle = (n: number, type: 'CustomerArchived' | 'CustomerRestored'): ScenarioEvent => ({
  streamId: `customer-${C(n)}`,
  type,
  data: { customerId: C(n) },
  occurredAt: at(),
});

describe('duplicates and merges (docs/merging.md)', () => {
  let p: Projected;
  afterEach(() => p?.close());

  it('a merged customer is in no pair while merged, the survivor keeps its other pairs; the unmerge brings its pairs back', async () => {
    p = await project(
      [
        registered(1, { name: 'Ada', company: 'Engines', email: 'ada@example.com', phone: '+44 20 7946 0000' }),
        registered(2, { name: 'ADA', company: 'engines', email: 'ada@example.com' }),
        registered(3, { name: 'Bob', phone: '+442079460000' }),
        registered(4, { name: 'Ada', company: 'Engines' }),
      ],
      [duplicates],
    );
    expect(await allPairs(p)).toEqual([
      pair(1, 2, ['email', 'name-company'], 0.9),
      pair(1, 3, ['phone'], 0.3),
      pair(1, 4, ['name-company'], 0.3),
      pair(2, 4, ['name-company'], 0.3),
    ]);
    await appendAndProject(p, mergeEvents(C(1), C(2), at()));
    expect(await allPairs(p)).toEqual([pair(2, 4, ['name-company'], 0.3)]);

    // while merged, the others change: new pairs with the survivor, none with the merged customer
    await appendAndProject(p, [updated(2, { phone: '+44 20 7946 0000' }), updated(3, { email: 'ada@example.com' })]);
    expect(await allPairs(p)).toEqual([pair(2, 3, ['email', 'phone'], 0.9), pair(2, 4, ['name-company'], 0.3)]);

    await appendAndProject(p, unmergeEvents(C(1), C(2), at()));
    expect(await allPairs(p)).toEqual([
      pair(1, 2, ['email', 'phone', 'name-company'], 1),
      pair(1, 3, ['email', 'phone'], 0.9),
      pair(2, 3, ['email', 'phone'], 0.9),
      pair(1, 4, ['name-company'], 0.3),
      pair(2, 4, ['name-company'], 0.3),
    ]);

    // merged again, into another survivor: out of every pair again, then back
    await appendAndProject(p, mergeEvents(C(1), C(4), at()));
    expect(await allPairs(p)).toEqual([pair(2, 3, ['email', 'phone'], 0.9), pair(2, 4, ['name-company'], 0.3)]);
    await appendAndProject(p, unmergeEvents(C(1), C(4), at()));
    expect(await allPairs(p)).toHaveLength(5);
  });

  it('an archived customer merged and unmerged stays in no pair until it is restored', async () => {
    p = await project(
      [
        registered(1, { name: 'Ada', email: 'ada@example.com' }),
        registered(2, { name: 'Ada', email: 'ada@example.com' }),
        registered(3, { name: 'Bob', email: 'ada@example.com' }),
        lifecycle(1, 'CustomerArchived'),
      ],
      [duplicates],
    );
    expect(await allPairs(p)).toEqual([pair(2, 3, ['email'], 0.6)]);
    await appendAndProject(p, mergeEvents(C(1), C(2), at()));
    expect(await allPairs(p)).toEqual([pair(2, 3, ['email'], 0.6)]);
    await appendAndProject(p, unmergeEvents(C(1), C(2), at()));
    expect(await allPairs(p)).toEqual([pair(2, 3, ['email'], 0.6)]); // archived again, as before the merge
    await appendAndProject(p, [lifecycle(1, 'CustomerRestored')]);
    expect(await allPairs(p)).toEqual([pair(1, 2, ['email'], 0.6), pair(1, 3, ['email'], 0.6), pair(2, 3, ['email'], 0.6)]);
  });
});

/**
 * Random customers with profiles from small pools (so that they collide), profile updates, archives,
 * restores and erasures, in a valid order (archive only a listed customer, restore only an archived
 * one, nothing after an erasure but the unmerge).
 */
const profileHistoryArbitrary = fc
  .array(
    fc.record({
      kind: fc.constantFrom('register', 'register', 'update', 'update', 'archive', 'restore', 'erase'),
      pick: fc.nat(),
      email: fc.constantFrom(undefined, 'a@example.com', 'A+x@example.com', 'b@example.com'),
      phone: fc.constantFrom(undefined, '+1 415 555 0100', '001 415 555 0100', '+1 415 555 0101'),
      name: fc.constantFrom('Ada', 'ada', 'Bob'),
      company: fc.constantFrom(undefined, 'Acme', 'Engines'),
    }),
    { minLength: 10, maxLength: 40 },
  )
  .map((steps) => {
    const history: ScenarioEvent[] = [];
    const state = new Map<string, 'listed' | 'archived' | 'erased'>();
    const event = (customerId: string, type: string, data: Record<string, unknown> = {}) =>
      history.push({ streamId: `customer-${customerId}`, type, data: { customerId, ...data }, occurredAt: at() });
    for (const step of steps) {
      const ids = [...state.keys()];
      const target = ids.length ? ids[step.pick % ids.length] : undefined;
      const profile = { email: step.email, phone: step.phone, name: step.name, company: step.company };
      if (step.kind === 'register' || !target) {
        const customerId = `c0000000-0000-4000-8000-${String(ids.length + 1).padStart(12, '0')}`;
        state.set(customerId, 'listed');
        event(customerId, 'CustomerRegistered', { source: 'web', ...profile });
      } else if (state.get(target) === 'erased') {
        continue;
      } else if (step.kind === 'update') {
        // the contact fields or the name and company change (an absent one is left as it was)
        const changes = step.pick % 2 === 0 ? { email: step.email, phone: step.phone } : { name: step.name, company: step.company };
        event(target, 'CustomerProfileUpdated', JSON.parse(JSON.stringify(changes)));
      } else if (step.kind === 'archive' && state.get(target) === 'listed') {
        state.set(target, 'archived');
        event(target, 'CustomerArchived');
      } else if (step.kind === 'restore' && state.get(target) === 'archived') {
        state.set(target, 'listed');
        event(target, 'CustomerRestored');
      } else if (step.kind === 'erase') {
        state.set(target, 'erased');
        event(target, 'CustomerPersonalDataErased');
      }
    }
    return history;
  });

describe('duplicate pairs after a merge = without the merged customer, after the unmerge = as before (property)', () => {
  it('holds for random profiles, archives and erasures, with changes while merged', async () => {
    let mergedHadPairs = 0;
    let archivedWhenMerged = 0;
    await fc.assert(
      fc.asyncProperty(profileHistoryArbitrary, fc.nat(), fc.integer({ min: 30, max: 100 }), async (history, pick, percent) => {
        // The merge comes after the first part; the rest follows while merged, less the merged customer's
        // own events (refused while merged) but for its erasure (allowed: it stays after the unmerge).
        const split = Math.floor((history.length * percent) / 100);
        const first = history.slice(0, split);
        const pair = mergePair(first, pick);
        if (!pair) return;
        const [mergedId, survivorId] = pair;
        const mergedStream = `customer-${mergedId}`;
        const rest = history.slice(split).filter((e) => e.streamId !== mergedStream || e.type === 'CustomerPersonalDataErased');
        const all = [...first, ...rest];
        const [p, reference, unmerged, before] = [
          await project([...first, ...mergeEvents(mergedId, survivorId, lastTimeOf(first)), ...rest], [duplicates]),
          await project(asMerged(all, mergedId, survivorId), [duplicates]),
          await project(all, [duplicates]),
          await project(first, [duplicates]),
        ];
        try {
          const withoutMerged = (await allPairs(unmerged)).filter((x) => !x.customers.includes(mergedId));
          expect(await allPairs(p)).toEqual(withoutMerged);
          expect(await allPairs(p)).toEqual(await allPairs(reference));
          if ((await allPairs(before)).some((x) => x.customers.includes(mergedId))) mergedHadPairs += 1;
          const archived = first.filter((e) => e.streamId === mergedStream && /Customer(Archived|Restored)/.test(e.type)).pop();
          if (archived?.type === 'CustomerArchived') archivedWhenMerged += 1;

          await appendAndProject(p, unmergeEvents(mergedId, survivorId, at()));
          expect(await allPairs(p)).toEqual(await allPairs(unmerged));
        } finally {
          await Promise.all([p.close(), reference.close(), unmerged.close(), before.close()]);
        }
      }),
      { numRuns: 15, seed: 1607 },
    );
    expect(mergedHadPairs).toBeGreaterThan(3);
    expect(archivedWhenMerged).toBeGreaterThan(0);
  });
});
