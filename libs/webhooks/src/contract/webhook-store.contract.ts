import { randomUUID } from 'node:crypto';
import type { DeadLetter, WebhookStore, WebhookSubscription } from '../webhook-store';

/**
 * Whether the promise rejected. Not `rejects.toThrow()`: better-sqlite3's native addon keeps the
 * error class of the first test file that loaded it in a Jest worker, so in later files its
 * errors are not instances of that file's Error and toThrow() reports "did not throw".
 */
const refused = (promise: Promise<unknown>) =>
  promise.then(
    () => false,
    () => true,
  );

/**
 * The behaviour every webhook-store adapter must have (SQLite in `npm test`, MongoDB/FerretDB in
 * the integration tier). Ids are fresh per test and lists are filtered by them, so the suite also
 * holds on a shared, non-empty store.
 */
export interface WebhookStoreTarget {
  store: WebhookStore;
  /** Another store on the same file or database (another process, as far as the store can tell), closed by close(). */
  another(): Promise<WebhookStore>;
  close(): Promise<void>;
}

const uid = () => randomUUID().replace(/-/g, '').slice(0, 12);

function subscription(extra: Partial<WebhookSubscription> = {}): WebhookSubscription {
  return {
    id: `wh-${uid()}`,
    url: 'https://hooks.example.com/chronicle',
    secret: 'c2VjcmV0LXNlY3JldC1zZWNyZXQ=',
    status: 'active',
    createdAt: '2024-05-01T10:00:00.000Z',
    createdBy: 'user-1',
    updatedAt: '2024-05-01T10:00:00.000Z',
    ...extra,
  };
}

function deadLetter(subscriptionId: string, extra: Partial<DeadLetter> = {}): DeadLetter {
  return {
    id: `dl-${uid()}`,
    subscriptionId,
    events: [{ id: 'e-1', type: 'DealWon', position: 10, data: { dealId: 'd-1', amount: 1200 } }],
    fromPosition: 10,
    toPosition: 10,
    attempts: 5,
    lastStatus: 503,
    lastError: 'HTTP 503 Service Unavailable',
    failedAt: '2024-05-01T11:00:00.000Z',
    ...extra,
  };
}

/** Events as JSON can hold them: nesting, arrays, unicode (astral, combining, RTL, escapes), keys with dots and a leading $, numbers of every kind. */
const awkwardEvents = [
  {
    id: 'e-1',
    type: 'CustomerRenamed',
    position: 7,
    metadata: { actor: { id: 'user-1', roles: ['admin', 'sales'] }, correlationId: null },
    data: {
      name: 'Zoë Åström-Nguyễn 山田太郎 😀👩‍👩‍👧',
      note: 'e\u0301 (combining) · שלום · \u200b zero-width · "quoted" \\ back\nslash\ttab',
      'key.with.dots': { $dollar: 1, '': 'empty key', nested: [[1, [2, [3]]], { deep: { deeper: { deepest: true } } }] },
      numbers: [0, -1, 3.14159, 1e21, Number.MAX_SAFE_INTEGER, -2147483649, 2147483648, 0.1 + 0.2],
      flags: [true, false, null],
      empty: { list: [], object: {} },
    },
  },
  { id: 'e-2', type: 'Noted', position: 8, data: { text: '' } },
];

export function describeWebhookStoreContract(label: string, open: () => Promise<WebhookStoreTarget>): void {
  describe(`webhook store contract: ${label}`, () => {
    let target: WebhookStoreTarget;
    let store: WebhookStore;
    beforeEach(async () => {
      target = await open();
      store = target.store;
    });
    afterEach(async () => target?.close());

    const listed = async (ids: string[]) => (await store.list()).filter((s) => ids.includes(s.id));

    describe('subscriptions', () => {
      it('creates and gets one, every field as given, and no keys for absent optional fields', async () => {
        const bare = subscription();
        const full = subscription({
          eventTypes: ['DealWon', 'DealLost'],
          categories: ['deal'],
          status: 'paused',
          replay: { fromPosition: 0, requestedAt: '2024-05-01T10:00:01.000Z' },
        });
        await store.create(bare);
        await store.create(full);
        expect(await store.get(bare.id)).toEqual(bare);
        expect(Object.keys((await store.get(bare.id))!).sort()).toEqual(Object.keys(bare).sort());
        expect(await store.get(full.id)).toEqual(full);
        expect(await store.get(`wh-${uid()}`)).toBeUndefined();
      });

      it('keeps empty filters apart from absent ones', async () => {
        const none = subscription({ eventTypes: [], categories: [] });
        await store.create(none);
        expect(await store.get(none.id)).toEqual(none);
      });

      it('lists oldest first, by createdAt then id', async () => {
        const tag = uid();
        const at = (s: number) => `2024-05-01T10:00:0${s}.000Z`;
        const subs = [
          subscription({ id: `wh-${tag}-c`, createdAt: at(3) }),
          subscription({ id: `wh-${tag}-b`, createdAt: at(1) }),
          subscription({ id: `wh-${tag}-z`, createdAt: at(2), eventTypes: ['DealWon'] }),
          subscription({ id: `wh-${tag}-a`, createdAt: at(2) }),
        ];
        for (const s of subs) await store.create(s);
        expect(await listed(subs.map((s) => s.id))).toEqual([subs[1], subs[3], subs[2], subs[0]]);
      });

      it('refuses a second subscription with an id in use, and keeps the first', async () => {
        const first = subscription();
        await store.create(first);
        expect(await refused(store.create(subscription({ id: first.id, url: 'https://evil.example.com/' })))).toBe(true);
        expect(await store.get(first.id)).toEqual(first);
        expect(await listed([first.id])).toEqual([first]);
      });

      it('stores the secret as given', async () => {
        const s = subscription({ secret: 'ünïcødé/+= secret ' + uid() });
        await store.create(s);
        expect((await store.get(s.id))!.secret).toBe(s.secret);
      });
    });

    describe('update', () => {
      it('changes each field given, sets updatedAt, leaves the rest, and returns the subscription as stored', async () => {
        const s = subscription({ eventTypes: ['DealWon'] });
        await store.create(s);
        const steps: Array<[Parameters<WebhookStore['update']>[1], Partial<WebhookSubscription>]> = [
          [{ url: 'https://hooks.example.com/v2' }, { url: 'https://hooks.example.com/v2' }],
          [{ eventTypes: ['LeadCreated', 'LeadQualified'] }, { eventTypes: ['LeadCreated', 'LeadQualified'] }],
          [{ categories: ['lead', 'customer'] }, { categories: ['lead', 'customer'] }],
          [{ status: 'paused' }, { status: 'paused' }],
          [
            { replay: { fromPosition: 42, requestedAt: '2024-05-02T00:00:00.000Z' } },
            { replay: { fromPosition: 42, requestedAt: '2024-05-02T00:00:00.000Z' } },
          ],
          [
            { status: 'active', url: 'https://hooks.example.com/v3' },
            { status: 'active', url: 'https://hooks.example.com/v3' },
          ],
        ];
        let expected = s;
        for (const [i, [changes, fields]] of steps.entries()) {
          const updatedAt = `2024-05-03T00:00:0${i}.000Z`;
          expected = { ...expected, ...fields, updatedAt };
          expect(await store.update(s.id, changes, updatedAt)).toEqual(expected);
          expect(await store.get(s.id)).toEqual(expected);
        }
        // Never changed by an update: id, secret, creation.
        expect(expected).toMatchObject({ id: s.id, secret: s.secret, createdAt: s.createdAt, createdBy: s.createdBy });
      });

      it('removes the fields named in unset (filters dropped, a replay done), leaving no keys for them', async () => {
        const s = subscription({
          eventTypes: ['DealWon'],
          categories: ['deal'],
          replay: { fromPosition: 3, requestedAt: '2024-05-02T00:00:00.000Z' },
        });
        await store.create(s);
        const { eventTypes: _types, ...withoutTypes } = s;
        const afterTypes = { ...withoutTypes, updatedAt: '2024-05-03T00:00:00.000Z' };
        expect(await store.update(s.id, { unset: ['eventTypes'] }, afterTypes.updatedAt)).toEqual(afterTypes);

        const { categories: _categories, replay: _replay, ...bare } = afterTypes;
        const afterAll = { ...bare, url: 'https://hooks.example.com/all', updatedAt: '2024-05-03T00:00:01.000Z' };
        expect(await store.update(s.id, { url: afterAll.url, unset: ['categories', 'replay'] }, afterAll.updatedAt)).toEqual(afterAll);
        const stored = (await store.get(s.id))!;
        expect(stored).toEqual(afterAll);
        expect('categories' in stored || 'replay' in stored || 'eventTypes' in stored).toBe(false);

        // Unsetting what is absent already changes nothing but updatedAt.
        expect(await store.update(s.id, { unset: ['eventTypes'] }, '2024-05-03T00:00:02.000Z')).toEqual({
          ...afterAll,
          updatedAt: '2024-05-03T00:00:02.000Z',
        });
      });

      it('with no changes sets only updatedAt', async () => {
        const s = subscription({ categories: ['deal'] });
        await store.create(s);
        expect(await store.update(s.id, {}, '2024-06-01T00:00:00.000Z')).toEqual({ ...s, updatedAt: '2024-06-01T00:00:00.000Z' });
      });

      it('of an unknown id returns undefined and creates nothing', async () => {
        const id = `wh-${uid()}`;
        expect(await store.update(id, { url: 'https://x.example.com/' }, '2024-06-01T00:00:00.000Z')).toBeUndefined();
        expect(await store.get(id)).toBeUndefined();
        expect(await listed([id])).toEqual([]);
      });
    });

    describe('clearReplay', () => {
      const first = { fromPosition: 100, requestedAt: '2024-05-02T00:00:00.000Z' };
      const newer = { fromPosition: 50, requestedAt: '2024-05-02T00:05:00.000Z' };

      it('clears the replay asked for with that requestedAt, and nothing else', async () => {
        const s = subscription({ replay: first });
        await store.create(s);
        expect(await store.clearReplay(s.id, first.requestedAt)).toBe(true);
        const { replay: _replay, ...rest } = s;
        expect(await store.get(s.id)).toEqual(rest);
        // Done already: nothing to clear.
        expect(await store.clearReplay(s.id, first.requestedAt)).toBe(false);
        expect(await store.get(s.id)).toEqual(rest);
      });

      it('leaves a newer request made meanwhile (another requestedAt)', async () => {
        const s = subscription({ replay: first });
        await store.create(s);
        const renewed = await store.update(s.id, { replay: newer }, '2024-05-02T00:05:00.000Z');
        expect(await store.clearReplay(s.id, first.requestedAt)).toBe(false);
        expect(await store.get(s.id)).toEqual(renewed);
        expect(renewed!.replay).toEqual(newer);
        expect(await store.clearReplay(s.id, newer.requestedAt)).toBe(true);
        expect((await store.get(s.id))!.replay).toBeUndefined();
      });

      it('is false for a subscription without a replay, and for an unknown id', async () => {
        const s = subscription();
        await store.create(s);
        expect(await store.clearReplay(s.id, first.requestedAt)).toBe(false);
        expect(await store.get(s.id)).toEqual(s);
        expect(await store.clearReplay(`wh-${uid()}`, first.requestedAt)).toBe(false);
      });
    });

    describe('remove', () => {
      it('removes the subscription; false for an unknown id or a second time', async () => {
        const [gone, kept] = [subscription(), subscription()];
        await store.create(gone);
        await store.create(kept);
        expect(await store.remove(gone.id)).toBe(true);
        expect(await store.get(gone.id)).toBeUndefined();
        expect(await listed([gone.id, kept.id])).toEqual([kept]);
        expect(await store.remove(gone.id)).toBe(false);
        expect(await store.remove(`wh-${uid()}`)).toBe(false);
        // Its id may be used again.
        await store.create(gone);
        expect(await store.get(gone.id)).toEqual(gone);
      });

      it('removes its dead letters, not another subscription’s', async () => {
        const [gone, kept] = [subscription(), subscription()];
        await store.create(gone);
        await store.create(kept);
        await store.addDeadLetter(deadLetter(gone.id));
        await store.addDeadLetter(deadLetter(gone.id, { fromPosition: 20, toPosition: 25 }));
        const keptLetter = deadLetter(kept.id);
        await store.addDeadLetter(keptLetter);
        expect(await store.remove(gone.id)).toBe(true);
        expect(await store.deadLetters(gone.id)).toEqual([]);
        expect(await store.deadLetters(kept.id)).toEqual([keptLetter]);
      });
    });

    describe('dead letters', () => {
      it('adds and gets them, every field as given, and no lastStatus key when there was no response', async () => {
        const s = subscription();
        await store.create(s);
        const answered = deadLetter(s.id);
        const { lastStatus: _status, ...unanswered } = deadLetter(s.id, { fromPosition: 11, toPosition: 14, lastError: 'ECONNREFUSED' });
        await store.addDeadLetter(answered);
        await store.addDeadLetter(unanswered);
        expect(await store.deadLetter(s.id, answered.id)).toEqual(answered);
        const got = (await store.deadLetter(s.id, unanswered.id))!;
        expect(got).toEqual(unanswered);
        expect('lastStatus' in got).toBe(false);
        expect(await store.deadLetter(s.id, `dl-${uid()}`)).toBeUndefined();
        // A dead letter belongs to its subscription: not found under another one.
        expect(await store.deadLetter(`wh-${uid()}`, answered.id)).toBeUndefined();
      });

      it('lists a subscription’s own, oldest first (by fromPosition, then id)', async () => {
        const [s, other] = [subscription(), subscription()];
        await store.create(s);
        await store.create(other);
        const tag = uid();
        const letters = [
          deadLetter(s.id, { id: `dl-${tag}-b`, fromPosition: 30, toPosition: 39 }),
          deadLetter(s.id, { id: `dl-${tag}-z`, fromPosition: 5, toPosition: 9 }),
          deadLetter(s.id, { id: `dl-${tag}-a`, fromPosition: 30, toPosition: 31 }),
          deadLetter(s.id, { id: `dl-${tag}-c`, fromPosition: 12, toPosition: 20 }),
        ];
        await store.addDeadLetter(deadLetter(other.id, { fromPosition: 1, toPosition: 2 }));
        for (const letter of letters) await store.addDeadLetter(letter);
        expect(await store.deadLetters(s.id)).toEqual([letters[1], letters[3], letters[2], letters[0]]);
        expect(await store.deadLetters(`wh-${uid()}`)).toEqual([]);
      });

      it('records another failed attempt, and removes the status when the new attempt had no response', async () => {
        const s = subscription();
        await store.create(s);
        const letter = deadLetter(s.id);
        const untouched = deadLetter(s.id, { fromPosition: 40, toPosition: 41 });
        await store.addDeadLetter(letter);
        await store.addDeadLetter(untouched);

        const failure = { attempts: 6, lastStatus: 500, lastError: 'HTTP 500', failedAt: '2024-05-01T12:00:00.000Z' };
        await store.updateDeadLetter(s.id, letter.id, failure);
        expect(await store.deadLetter(s.id, letter.id)).toEqual({ ...letter, ...failure });

        const timedOut = { attempts: 7, lastError: 'timed out after 10000 ms', failedAt: '2024-05-01T13:00:00.000Z' };
        await store.updateDeadLetter(s.id, letter.id, timedOut);
        const { lastStatus: _status, ...rest } = letter;
        const got = (await store.deadLetter(s.id, letter.id))!;
        expect(got).toEqual({ ...rest, ...timedOut });
        expect('lastStatus' in got).toBe(false);

        expect(await store.deadLetter(s.id, untouched.id)).toEqual(untouched);
        // An unknown one: nothing happens, nothing is created.
        const unknown = `dl-${uid()}`;
        await store.updateDeadLetter(s.id, unknown, failure);
        expect(await store.deadLetter(s.id, unknown)).toBeUndefined();
      });

      it('removes one; false when there was none', async () => {
        const s = subscription();
        await store.create(s);
        const [gone, kept] = [deadLetter(s.id), deadLetter(s.id, { fromPosition: 20, toPosition: 22 })];
        await store.addDeadLetter(gone);
        await store.addDeadLetter(kept);
        expect(await store.removeDeadLetter(`wh-${uid()}`, gone.id)).toBe(false);
        expect(await store.removeDeadLetter(s.id, gone.id)).toBe(true);
        expect(await store.removeDeadLetter(s.id, gone.id)).toBe(false);
        expect(await store.deadLetters(s.id)).toEqual([kept]);
        expect(await store.get(s.id)).toEqual(s);
      });

      it('keeps the events exactly: nested objects, unicode, keys with dots and $, numbers', async () => {
        const s = subscription();
        await store.create(s);
        const letter = deadLetter(s.id, { events: awkwardEvents, fromPosition: 7, toPosition: 8 });
        await store.addDeadLetter(letter);
        expect(await store.deadLetter(s.id, letter.id)).toEqual(letter);
        expect(await store.deadLetters(s.id)).toEqual([letter]);
        // Key order too: the events are delivered as they were kept.
        expect(JSON.stringify((await store.deadLetter(s.id, letter.id))!.events)).toBe(JSON.stringify(awkwardEvents));
      });
    });

    describe('two stores on the same file or database (processes)', () => {
      it('see each other’s writes', async () => {
        const other = await target.another();
        const s = subscription({ eventTypes: ['DealWon'] });
        await store.create(s);
        expect(await other.get(s.id)).toEqual(s);
        expect(await refused(other.create(s))).toBe(true);

        const changed = await other.update(
          s.id,
          { replay: { fromPosition: 9, requestedAt: '2024-05-04T00:00:00.000Z' } },
          '2024-05-04T00:00:00.000Z',
        );
        expect(await store.get(s.id)).toEqual(changed);
        expect(await store.clearReplay(s.id, '2024-05-04T00:00:00.000Z')).toBe(true);
        expect((await other.get(s.id))!.replay).toBeUndefined();

        const letter = deadLetter(s.id, { events: awkwardEvents });
        await other.addDeadLetter(letter);
        expect(await store.deadLetters(s.id)).toEqual([letter]);
        expect(await store.remove(s.id)).toBe(true);
        expect(await other.get(s.id)).toBeUndefined();
        expect(await other.deadLetters(s.id)).toEqual([]);
        expect((await other.list()).find((x) => x.id === s.id)).toBeUndefined();
      });
    });
  });
}
