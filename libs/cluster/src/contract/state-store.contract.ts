import { randomUUID } from 'node:crypto';
import type { EventFailure, FailureRequest, SkippedEvent } from '../failure';
import { Fence, FencedError, isFencedError, soloFence } from '../fence';
import type { IdempotencyRecord, StateStore, WorkerInfo } from '../state-store';

/**
 * The behaviour every state-store adapter must have (SQLite in `npm test`, MongoDB/FerretDB in the
 * integration tier). Names are fresh per test, so the suite also holds on a shared, non-empty store.
 */
export interface StateStoreTarget {
  store: StateStore;
  close(): Promise<void>;
}

const uid = () => randomUUID().replace(/-/g, '').slice(0, 12);
const fence = (role: string, token: number): Fence => ({ role, token, valid: () => true });

export function worker(n: number, extra: Partial<WorkerInfo> = {}): WorkerInfo {
  return { id: `host-${n}:${1000 + n}:${uid()}`, host: `host-${n}`, pid: 1000 + n, startedAt: '2024-01-02T03:04:05.000Z', ...extra };
}

async function fencedErrorOf(promise: Promise<unknown>): Promise<FencedError> {
  try {
    await promise;
  } catch (error) {
    expect(isFencedError(error)).toBe(true);
    return error as FencedError;
  }
  throw new Error('expected a FencedError');
}

const shuffled = <T>(items: T[]): T[] =>
  items
    .map((item) => [Math.random(), item] as const)
    .sort((a, b) => a[0] - b[0])
    .map(([, item]) => item);

export function describeStateStoreContract(label: string, open: () => Promise<StateStoreTarget>): void {
  describe(`state store contract: ${label}`, () => {
    let target: StateStoreTarget;
    let store: StateStore;
    beforeEach(async () => {
      target = await open();
      store = target.store;
    });
    afterEach(async () => target?.close());

    const positionOf = async (name: string) => (await store.checkpoints()).find((c) => c.name === name)?.position;

    describe('checkpoints', () => {
      it('a new checkpoint claims at 0; a save is what the next claim with the same token returns', async () => {
        const name = `pm-${uid()}`;
        expect(await store.claim(name, fence(name, 1))).toBe(0);
        await store.save(name, 42, fence(name, 1));
        expect(await store.claim(name, fence(name, 1))).toBe(42);
        // Claiming again with the same token changed nothing: its saves still go through.
        await store.save(name, 57, fence(name, 1));
        expect(await store.claim(name, fence(name, 1))).toBe(57);
      });

      it('forgets a removed checkpoint: it is not listed, a save to it is fenced, a claim starts at 0', async () => {
        const [gone, kept] = [`webhook-${uid()}`, `webhook-${uid()}`];
        for (const name of [gone, kept]) {
          await store.claim(name, fence(name, 2));
          await store.save(name, 30, fence(name, 2));
        }
        await store.removeCheckpoint(gone);
        const names = (await store.checkpoints()).map((c) => c.name);
        expect([names.includes(gone), names.includes(kept)]).toEqual([false, true]);
        await fencedErrorOf(store.save(gone, 31, fence(gone, 2)));
        expect(await store.claim(gone, fence(gone, 1))).toBe(0);
        await store.removeCheckpoint(`never-${uid()}`);
      });

      it('lists name, position, token and the time of the last save', async () => {
        const [a, b] = [`pm-a-${uid()}`, `pm-b-${uid()}`];
        await store.claim(a, fence(a, 3));
        await store.save(a, 10, fence(a, 3));
        await store.claim(b, fence(b, 1));
        await store.save(b, 20, fence(b, 1));
        await store.claim(b, fence(b, 2));
        const listed = (await store.checkpoints()).filter((c) => c.name === a || c.name === b).sort((x, y) => x.name.localeCompare(y.name));
        expect(listed.map(({ name, position, token }) => ({ name, position, token }))).toEqual([
          { name: a, position: 10, token: 3 },
          { name: b, position: 20, token: 2 },
        ]);
        for (const c of listed) expect(Number.isNaN(Date.parse(c.updatedAt))).toBe(false);
      });

      it('passes the position on to a higher token, and refuses the older holder’s saves from then on', async () => {
        const name = `relay-${uid()}`;
        await store.claim(name, fence(name, 1));
        await store.save(name, 100, fence(name, 1));
        expect(await store.claim(name, fence(name, 2))).toBe(100);
        const error = await fencedErrorOf(store.save(name, 150, fence(name, 1)));
        expect(error.roles).toEqual([name]);
        expect(await positionOf(name)).toBe(100);
        expect(await store.claim(name, fence(name, 2))).toBe(100);
        await store.save(name, 160, fence(name, 2));
        expect(await positionOf(name)).toBe(160);
      });

      it('refuses a claim with a token below the current one, and leaves the current holder be', async () => {
        const name = `pm-${uid()}`;
        await store.claim(name, fence(name, 5));
        await store.save(name, 9, fence(name, 5));
        await fencedErrorOf(store.claim(name, fence(name, 4)));
        await fencedErrorOf(store.claim(name, soloFence(name)));
        await store.save(name, 11, fence(name, 5));
        expect((await store.checkpoints()).find((c) => c.name === name)).toMatchObject({ position: 11, token: 5 });
      });

      it('refuses a save with a token it was never claimed with', async () => {
        const name = `pm-${uid()}`;
        await fencedErrorOf(store.save(name, 3, fence(name, 1)));
        await store.claim(name, fence(name, 2));
        await fencedErrorOf(store.save(name, 3, fence(name, 3)));
        expect(await positionOf(name)).toBe(0);
      });

      it('a solo fence (token 0) works alone, and is fenced once a lease claims the checkpoint', async () => {
        const name = `rebuild-${uid()}`;
        expect(await store.claim(name, soloFence(name))).toBe(0);
        await store.save(name, 7, soloFence(name));
        expect(await store.claim(name, fence(name, 1))).toBe(7);
        await fencedErrorOf(store.save(name, 8, soloFence(name)));
        expect(await positionOf(name)).toBe(7);
      });

      it('keeps the checkpoints of two names apart', async () => {
        const [a, b] = [`pm-a-${uid()}`, `pm-b-${uid()}`];
        await store.claim(a, fence(a, 1));
        await store.claim(b, fence(b, 1));
        await store.save(a, 10, fence(a, 1));
        await store.save(b, 20, fence(b, 1));
        expect(await store.claim(a, fence(a, 2))).toBe(10);
        // A claim of `a` fences nothing of `b`.
        await store.save(b, 21, fence(b, 1));
        expect(await store.claim(b, fence(b, 1))).toBe(21);
        expect(await positionOf(a)).toBe(10);
      });

      it('two holders claiming at once (tokens 1 and 2, random order): token 2 wins, token 1 can save nothing after', async () => {
        for (let round = 0; round < 10; round++) {
          const name = `race-${uid()}`;
          const claims = shuffled([1, 2]).map((token) => ({ token, result: store.claim(name, fence(name, token)) }));
          const settled = await Promise.allSettled(claims.map((c) => c.result));
          const byToken = new Map(claims.map((c, i) => [c.token, settled[i]]));
          expect(byToken.get(2)).toEqual({ status: 'fulfilled', value: 0 });
          const one = byToken.get(1)!;
          if (one.status === 'rejected') expect(isFencedError(one.reason)).toBe(true);
          else expect(one.value).toBe(0);
          await fencedErrorOf(store.save(name, 5, fence(name, 1)));
          await store.save(name, 6, fence(name, 2));
          expect((await store.checkpoints()).find((c) => c.name === name)).toMatchObject({ position: 6, token: 2 });
        }
      });

      it('a takeover while the old holder keeps saving continues from the last save that succeeded, and fences the old holder', async () => {
        for (let round = 0; round < 5; round++) {
          const name = `relay-${uid()}`;
          await store.claim(name, fence(name, 1));
          let lastSaved = 0;
          const oldHolder = (async () => {
            for (let position = 1; position < 100_000; position++) {
              try {
                await store.save(name, position, fence(name, 1));
                lastSaved = position;
              } catch (error) {
                if (isFencedError(error)) return;
                throw error;
              }
              await new Promise((resolve) => setImmediate(resolve)); // a synchronous store would starve the timer below
            }
            throw new Error('the old holder was never fenced');
          })();
          await new Promise((resolve) => setTimeout(resolve, 5 + Math.random() * 20));
          const claimed = await store.claim(name, fence(name, 2));
          await oldHolder;
          // The new holder does not redo what the old one was told is saved (what a refused save covered it may: at least once).
          expect(claimed).toBeGreaterThanOrEqual(lastSaved);
          expect(lastSaved).toBeGreaterThan(0);
          expect(await positionOf(name)).toBe(claimed);
        }
      });

      it('the same token claimed twice at once returns one position to both', async () => {
        const name = `pm-${uid()}`;
        await store.claim(name, fence(name, 1));
        await store.save(name, 33, fence(name, 1));
        expect(await Promise.all([store.claim(name, fence(name, 2)), store.claim(name, fence(name, 2))])).toEqual([33, 33]);
        await store.save(name, 34, fence(name, 2));
        expect(await positionOf(name)).toBe(34);
      });
    });

    describe('checkpoint details (failure, skipped events)', () => {
      const failure: EventFailure = {
        eventId: 'e-1',
        eventType: 'DealWon',
        position: 41,
        error: 'boom',
        attempts: 2,
        firstFailedAt: '2024-01-01T00:00:00.000Z',
        lastFailedAt: '2024-01-01T00:00:01.000Z',
        nextRetryAt: '2024-01-01T00:00:03.000Z',
      };
      const skip: SkippedEvent = {
        eventId: 'e-1',
        eventType: 'DealWon',
        position: 41,
        error: 'boom',
        reason: 'bad data',
        skippedBy: 'ops',
        skippedAt: '2024-01-01T00:01:00.000Z',
      };
      const detailsOf = async (name: string) => {
        const c = (await store.checkpoints()).find((r) => r.name === name)!;
        return { position: c.position, failure: c.failure, skipped: c.skipped };
      };

      it('are saved with the position, kept by saves without details, replaced by saves with them, and passed on to a higher token', async () => {
        const name = `pm-${uid()}`;
        await store.claim(name, fence(name, 1));
        await store.save(name, 40, fence(name, 1), { failure });
        expect(await detailsOf(name)).toEqual({ position: 40, failure, skipped: undefined });
        await store.save(name, 40, fence(name, 1));
        expect(await detailsOf(name)).toEqual({ position: 40, failure, skipped: undefined });
        // The new holder of the role sees the failure (and honours it).
        expect(await store.claim(name, fence(name, 2))).toBe(40);
        expect(await detailsOf(name)).toEqual({ position: 40, failure, skipped: undefined });
        await fencedErrorOf(store.save(name, 41, fence(name, 1), { skipped: [skip] }));
        await store.save(name, 41, fence(name, 2), { skipped: [skip] });
        expect(await detailsOf(name)).toEqual({ position: 41, failure: undefined, skipped: [skip] });
        expect(await store.claim(name, fence(name, 3))).toBe(41);
        expect(await detailsOf(name)).toEqual({ position: 41, failure: undefined, skipped: [skip] });
      });
    });

    describe('failure requests', () => {
      const request = (role: string, action: FailureRequest['action'], extra: Partial<FailureRequest> = {}): FailureRequest => ({
        id: uid(),
        role,
        action,
        requestedBy: 'ops',
        requestedAt: '2024-01-01T00:00:00.000Z',
        ...extra,
      });

      it('keeps one request per role and action, the newest; removing a request leaves a newer one of the same kind', async () => {
        const [role, other] = [`pm-${uid()}`, `pm-${uid()}`];
        expect(await store.requests(role)).toEqual([]);
        const retry = request(role, 'retry');
        const firstSkip = request(role, 'skip', { eventId: 'e-1', reason: 'first' });
        const secondSkip = request(role, 'skip', { eventId: 'e-1', reason: 'second' });
        await store.leaveRequest(retry);
        await store.leaveRequest(firstSkip);
        await store.leaveRequest(secondSkip);
        await store.leaveRequest(request(other, 'retry'));
        expect(await store.requests(role)).toEqual([retry, secondSkip]);
        await store.removeRequest(firstSkip); // already replaced: the newer one stays
        await store.removeRequest(retry);
        expect(await store.requests(role)).toEqual([secondSkip]);
        await store.removeRequest(secondSkip);
        expect(await store.requests(role)).toEqual([]);
        expect(await store.requests(other)).toHaveLength(1);
      });
    });

    describe('leases', () => {
      it('20 processes acquiring a new role at once: exactly one gets token 1', async () => {
        const role = `projector-${uid()}`;
        const workers = Array.from({ length: 20 }, (_, i) => worker(i));
        const results = await Promise.all(workers.map((w) => store.acquire(role, w, 0)));
        const granted = results.filter((r) => r !== undefined);
        expect(granted).toHaveLength(1);
        expect(granted[0]).toMatchObject({ role, token: 1, beat: 0, released: false });
        const lease = (await store.leases()).find((l) => l.role === role);
        expect(lease).toMatchObject({ token: 1, holder: granted[0].holder });
      });

      it('20 processes taking a role over from the same token at once: exactly one gets the next token', async () => {
        const role = `relay-${uid()}`;
        await store.acquire(role, worker(99), 0);
        const results = await Promise.all(Array.from({ length: 20 }, (_, i) => store.acquire(role, worker(i), 1)));
        const granted = results.filter((r) => r !== undefined);
        expect(granted).toHaveLength(1);
        expect(granted[0].token).toBe(2);
        expect((await store.leases()).find((l) => l.role === role)).toMatchObject({ token: 2, holder: granted[0].holder });
        // The next round starts from the winner's token, and nothing else.
        expect(await store.acquire(role, worker(1), 1)).toBeUndefined();
        expect(await store.acquire(role, worker(1), 2)).toMatchObject({ token: 3 });
      });

      it('refuses an acquire whose current token is not the role’s', async () => {
        const role = `pm-${uid()}`;
        expect(await store.acquire(role, worker(1), 1)).toBeUndefined();
        expect((await store.leases()).find((l) => l.role === role)).toBeUndefined();
        const first = await store.acquire(role, worker(1), 0);
        expect(first).toMatchObject({ token: 1 });
        expect(await store.acquire(role, worker(2), 0)).toBeUndefined();
        expect(await store.acquire(role, worker(2), 5)).toBeUndefined();
        await store.acquire(role, worker(3), 1);
        await store.acquire(role, worker(4), 2);
        // Token 1's document may be long gone: acquiring "after" it must still be refused.
        expect(await store.acquire(role, worker(2), 1)).toBeUndefined();
        expect(await store.acquire(role, worker(2), 0)).toBeUndefined();
        expect((await store.leases()).find((l) => l.role === role)).toMatchObject({ token: 3, holder: { host: 'host-4' } });
      });

      it('renews the holder’s lease, counting beats; leases() shows holder, times and beat', async () => {
        const role = `projector-${uid()}`;
        const holder = worker(1, { pidNamespace: 'pid:[4026531836]' });
        const lease = (await store.acquire(role, holder, 0))!;
        expect(lease).toMatchObject({ role, token: 1, beat: 0, holder, released: false });
        expect(Number.isNaN(Date.parse(lease.since))).toBe(false);
        expect(await store.renew(role, 1)).toBe(true);
        expect(await store.renew(role, 1)).toBe(true);
        const listed = (await store.leases()).find((l) => l.role === role)!;
        expect(listed).toMatchObject({ role, token: 1, beat: 2, holder, since: lease.since, released: false });
        expect(listed.renewedAt >= lease.since).toBe(true);
        expect(await store.renew(role, 2)).toBe(false);
        expect(await store.renew(`other-${uid()}`, 1)).toBe(false);
      });

      it('a lease taken over cannot be renewed any more; the new holder starts at beat 0', async () => {
        const role = `relay-${uid()}`;
        await store.acquire(role, worker(1), 0);
        expect(await store.renew(role, 1)).toBe(true);
        const next = await store.acquire(role, worker(2), 1);
        expect(next).toMatchObject({ token: 2, beat: 0, holder: { host: 'host-2' } });
        expect(await store.renew(role, 1)).toBe(false);
        expect(await store.renew(role, 2)).toBe(true);
        // The old holder's release does not touch the new lease.
        await store.release(role, 1);
        expect((await store.leases()).find((l) => l.role === role)).toMatchObject({
          token: 2,
          beat: 1,
          released: false,
          holder: { host: 'host-2' },
        });
        expect(await store.renew(role, 2)).toBe(true);
      });

      it('release: the flag shows, renewals fail, and another process can take the role at once', async () => {
        const role = `pm-${uid()}`;
        await store.acquire(role, worker(1), 0);
        await store.release(role, 1);
        expect((await store.leases()).find((l) => l.role === role)).toMatchObject({ token: 1, released: true, holder: { host: 'host-1' } });
        expect(await store.renew(role, 1)).toBe(false);
        const next = await store.acquire(role, worker(2), 1);
        expect(next).toMatchObject({ token: 2, released: false });
        expect((await store.leases()).find((l) => l.role === role)).toMatchObject({ token: 2, released: false, beat: 0 });
      });

      it('lists the highest token of every role, roles apart', async () => {
        const [a, b, c] = [`a-${uid()}`, `b-${uid()}`, `c-${uid()}`];
        await store.acquire(a, worker(1), 0);
        await store.acquire(a, worker(2), 1);
        await store.acquire(a, worker(3), 2);
        await store.acquire(b, worker(4), 0);
        await store.acquire(c, worker(5), 0);
        await store.release(c, 1);
        await store.renew(b, 1);
        const mine = (await store.leases()).filter((l) => [a, b, c].includes(l.role)).sort((x, y) => x.role.localeCompare(y.role));
        expect(mine.map(({ role, token, beat, released, holder }) => ({ role, token, beat, released, host: holder.host }))).toEqual([
          { role: a, token: 3, beat: 0, released: false, host: 'host-3' },
          { role: b, token: 1, beat: 1, released: false, host: 'host-4' },
          { role: c, token: 1, beat: 0, released: true, host: 'host-5' },
        ]);
      });
    });

    describe('idempotency results', () => {
      const record = (body: unknown, statusCode = 201): IdempotencyRecord => ({
        requestHash: `h-${uid()}`,
        statusCode,
        body,
        createdAt: '2024-05-06T07:08:09.000Z',
      });

      it('stores a result and finds it again, its body intact', async () => {
        const key = uid();
        expect(await store.findResult('user-1', key)).toBeUndefined();
        const body = { id: 'c-1', 'dotted.key': { $weird: [1, 'two', null, { 'a.b': true }] }, name: 'Zoë 🚀', n: 1.5 };
        const saved = record(body);
        await store.saveResult('user-1', key, saved);
        expect(await store.findResult('user-1', key)).toEqual(saved);
      });

      it('the first result saved wins, also among concurrent saves', async () => {
        const key = uid();
        const first = record({ attempt: 1 });
        await store.saveResult('user-1', key, first);
        await store.saveResult('user-1', key, record({ attempt: 2 }, 200));
        expect(await store.findResult('user-1', key)).toEqual(first);

        const raced = uid();
        const candidates = Array.from({ length: 10 }, (_, i) => record({ attempt: i }));
        await Promise.all(candidates.map((c) => store.saveResult('user-1', raced, c)));
        const kept = await store.findResult('user-1', raced);
        expect(candidates).toContainEqual(kept);
        await store.saveResult('user-1', raced, record({ attempt: 'late' }));
        expect(await store.findResult('user-1', raced)).toEqual(kept);
      });

      it('keeps actors apart, even when actor and key could run into each other', async () => {
        const key = uid();
        const mine = record({ who: 'one' });
        const theirs = record({ who: 'two' });
        await store.saveResult('user-1', key, mine);
        expect(await store.findResult('user-2', key)).toBeUndefined();
        await store.saveResult('user-2', key, theirs);
        expect(await store.findResult('user-1', key)).toEqual(mine);
        expect(await store.findResult('user-2', key)).toEqual(theirs);
        const joined = record({ who: 'joined' });
        await store.saveResult(`a\n${key}`, 'b', joined);
        await store.saveResult('a', `${key}\nb`, record({ who: 'split' }));
        expect(await store.findResult(`a\n${key}`, 'b')).toEqual(joined);
        expect(await store.findResult('a', `${key}\nb`)).toMatchObject({ body: { who: 'split' } });
      });
    });

    describe('workers', () => {
      it('records heartbeats (an upsert), lists them, and forgets a worker', async () => {
        const one = worker(1, { pidNamespace: 'pid:[4026531836]' });
        const two = worker(2);
        await store.heartbeat(one, ['projector'], []);
        await store.heartbeat(two, ['projector', 'relay'], ['relay']);
        const before = (await store.workers()).find((w) => w.id === one.id)!;
        expect(before).toEqual({ ...one, groups: ['projector'], roles: [], beatAt: expect.any(String) });
        await store.heartbeat(one, ['projector', 'relay'], ['projector:customers', 'projector:leads']);
        const mine = (await store.workers()).filter((w) => w.id === one.id || w.id === two.id).sort((a, b) => a.id.localeCompare(b.id));
        expect(mine).toEqual(
          [
            { ...one, groups: ['projector', 'relay'], roles: ['projector:customers', 'projector:leads'], beatAt: expect.any(String) },
            { ...two, groups: ['projector', 'relay'], roles: ['relay'], beatAt: expect.any(String) },
          ].sort((a, b) => a.id.localeCompare(b.id)),
        );
        expect(mine.find((w) => w.id === two.id)).not.toHaveProperty('pidNamespace');
        expect(mine.find((w) => w.id === one.id)!.beatAt >= before.beatAt).toBe(true);
        expect(Number.isNaN(Date.parse(before.beatAt))).toBe(false);

        await store.removeWorker(one.id);
        await store.removeWorker(`never-${uid()}`);
        const ids = (await store.workers()).map((w) => w.id);
        expect(ids).not.toContain(one.id);
        expect(ids).toContain(two.id);
      });
    });
  });
}
