/**
 * Bench-only PROTOTYPES of fixes for the command path, applied by monkey-patching the compiled
 * app before it starts (bench/prototypes/patched-main.ts; `npm run bench -- --only=http
 * --http-proto=…`). They exist to measure what a fix would buy; none of this is production code,
 * and the real fixes belong in libs/ and apps/ (see bench/README.md, "Findings").
 *
 * - async-fsync:   the event store commits each group with synchronous=NORMAL and then fsyncs the
 *                  WAL on the libuv thread pool (fs.fsync) before resolving the group's appends:
 *                  the same durability for acknowledged appends as FULL, but the event loop keeps
 *                  serving requests during the fsync, and the next group commits meanwhile.
 * - coalesce-wakeups: live subscriptions in the process (projector, process manager) are woken at
 *                  most every 10 ms instead of after every group commit.
 * - no-preread:    LogInteraction without the `streamRevision` read before the append (a read
 *                  transaction of its own per command): the append's own StreamExists check, in
 *                  the group-commit transaction, decides; a missing stream becomes AggregateNotFound.
 * - pm-checkpoint: the acquisition process manager's checkpoint (state.db, synchronous=FULL: an
 *                  fsync) is written at most once a second instead of after every page, including
 *                  the empty pages its type filter yields on every group commit.
 * - lean-interceptors: Nest's interceptor chain (one AsyncResource.bind per interceptor per
 *                  request, expensive on Node 20) is skipped when both global interceptors would
 *                  pass through (no Idempotency-Key, no ?minPosition).
 * - uuidv7:        crypto.randomUUID returns time-ordered UUIDv7s (RFC 9562), so new event ids (and
 *                  the other generated ids) land at the right edge of the events.event_id index
 *                  instead of on a random page: far fewer pages dirtied per group commit once the
 *                  index no longer fits SQLite's page cache.
 * - cheap-bind:    AsyncResource.bind without the DEP0172 deprecate() wrappers (what Node ≥ 25
 *                  does; Node 20's wrappers call setPrototypeOf on every bind). Applies to the
 *                  bare route too when given to it.
 */
import { AsyncResource } from 'node:async_hooks';
import * as crypto from 'node:crypto';
import { closeSync, fsync, openSync } from 'node:fs';

/** A UUIDv7: 48-bit Unix milliseconds, then random bits (RFC 9562). */
export function uuidv7(): string {
  const b = crypto.randomBytes(16);
  b.writeUIntBE(Date.now(), 0, 6);
  b[6] = (b[6] & 0x0f) | 0x70;
  b[8] = (b[8] & 0x3f) | 0x80;
  const h = b.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

export const PATCHES = [
  'async-fsync',
  'coalesce-wakeups',
  'no-preread',
  'pm-checkpoint',
  'lean-interceptors',
  'uuidv7',
  'cheap-bind',
] as const;

/* eslint-disable @typescript-eslint/no-explicit-any */
export function applyPatches(names: string[]): void {
  for (const name of names)
    if (!(PATCHES as readonly string[]).includes(name)) throw new Error(`unknown patch "${name}" (${PATCHES.join(', ')})`);
  const on = new Set(names);

  if (on.has('uuidv7')) {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    (require('node:crypto') as { randomUUID: () => string }).randomUUID = uuidv7;
  }

  if (on.has('cheap-bind')) {
    (AsyncResource.prototype as any).bind = function (this: AsyncResource, fn: (...args: any[]) => any, thisArg?: unknown) {
      // eslint-disable-next-line @typescript-eslint/no-this-alias -- the returned function has a `this` of its own
      const resource = this;
      return thisArg === undefined
        ? function (this: unknown, ...args: any[]) {
            return resource.runInAsyncScope(fn, this, ...args);
          }
        : resource.runInAsyncScope.bind(resource, fn, thisArg);
    };
    (AsyncResource as any).bind = function (fn: (...args: any[]) => any, type?: string, thisArg?: unknown) {
      return (new AsyncResource(type || fn.name || 'bound-anonymous-fn') as any).bind(fn, thisArg);
    };
  }

  if (on.has('async-fsync') || on.has('coalesce-wakeups')) {
    const asyncFsync = on.has('async-fsync');
    const coalesce = on.has('coalesce-wakeups');
    if (asyncFsync) process.env.SQLITE_SYNCHRONOUS = 'NORMAL'; // the event store's commits; the fsync is issued below
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { SqliteEventStore } = require('../../libs/event-store/src');
    const proto = SqliteEventStore.prototype;
    const originalClose = proto.close;
    const notify = (store: any) => {
      if (!coalesce) return void store.notifier.emit('append');
      // Live subscriptions (projector, process manager) are woken at most every 10 ms, and then
      // read everything appended meanwhile in one page, instead of one read per group commit.
      store.wakeTimer ??= setTimeout(() => {
        store.wakeTimer = undefined;
        store.notifier.emit('append');
      }, 10);
    };
    proto.flush = function (this: any): void {
      this.flushScheduled = false;
      while (this.pending.length > 0) {
        const group = this.pending.splice(0, this.maxGroupSize);
        let results: unknown[];
        try {
          results = this.appendGroup(group);
        } catch (error) {
          for (const append of group) append.reject(error);
          continue;
        }
        const settle = (error: Error | null) => {
          group.forEach((append: any, i: number) => {
            const result = results[i];
            if (error) append.reject(error);
            else if (result instanceof Error) append.reject(result);
            else append.resolve(result);
          });
          notify(this);
        };
        if (!asyncFsync || this.db.memory) settle(null);
        else {
          this.walFd ??= openSync(`${this.db.name}-wal`, 'r+');
          fsync(this.walFd, settle);
        }
      }
    };
    proto.close = async function (this: any) {
      if (this.wakeTimer) clearTimeout(this.wakeTimer);
      await originalClose.call(this);
      if (this.walFd !== undefined) closeSync(this.walFd);
      this.walFd = undefined;
    };
  }

  if (on.has('no-preread')) {
    /* eslint-disable @typescript-eslint/no-require-imports */
    const { CustomerHandler } = require('../../libs/commands/src/handlers/customer.handler');
    const { AggregateNotFound, decideLogInteraction } = require('../../libs/domain/src');
    const { ExpectedRevision, WrongExpectedRevisionError } = require('../../libs/event-store/src');
    /* eslint-enable @typescript-eslint/no-require-imports */
    const original = CustomerHandler.prototype.execute;
    CustomerHandler.prototype.execute = async function (this: any, message: any) {
      const { command, context } = message;
      if (command.type !== 'LogInteraction' || context.expectedRevision !== undefined) return original.call(this, message);
      const streamId = `customer-${command.data.customerId}`;
      const events = decideLogInteraction(command, true);
      try {
        const appended = await this.executor.append(streamId, events, ExpectedRevision.StreamExists, context);
        return { id: command.data.interactionId, streamId, revision: appended.revision, position: appended.position };
      } catch (error) {
        if (error instanceof WrongExpectedRevisionError && (error as { actual: number }).actual < 0) throw new AggregateNotFound(streamId);
        throw error;
      }
    };
  }

  if (on.has('pm-checkpoint')) {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { SqliteStateStore } = require('../../libs/cluster/src/sqlite/sqlite-state-store');
    const original = SqliteStateStore.prototype.save;
    const last = new Map<string, number>();
    SqliteStateStore.prototype.save = async function (this: unknown, name: string, position: number, fence: unknown, details?: unknown) {
      const now = Date.now();
      // at-least-once: a stale checkpoint only means re-reading events (one with failure details is always written)
      if (details === undefined && now - (last.get(name) ?? 0) < 1000) return;
      last.set(name, now);
      return original.call(this, name, position, fence, details);
    };
  }

  if (on.has('lean-interceptors')) {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { InterceptorsConsumer } = require('@nestjs/core/interceptors/interceptors-consumer');
    const original = InterceptorsConsumer.prototype.intercept;
    InterceptorsConsumer.prototype.intercept = function (this: unknown, interceptors: unknown[], args: any[], ...rest: any[]) {
      const request = args[0];
      const passThrough =
        request?.headers &&
        request.headers['idempotency-key'] === undefined &&
        !(request.query && typeof request.query === 'object' && 'minPosition' in request.query);
      if (passThrough) return rest[2](); // next()
      return original.call(this, interceptors, args, ...rest);
    };
  }
}
