import { createHmac } from 'node:crypto';
import type { Projection, ProjectionContext } from '@chronicle/projector';
import { defineProjection } from '../common/define-projection';
import { duplicatesKeyFrom } from './key';
import { normaliseEmail, normaliseName, normalisePhone } from './normalise';

/**
 * Candidate duplicate customers (`GET /customers/duplicates`), found on their sealed personal
 * fields without keeping them in clear: per customer only keyed hashes (HMAC-SHA256 with
 * DUPLICATES_KEY, see key.ts) of the normalised email, phone, and name with company.
 *
 * - `people`: per customer, its current hashes (`null` where the field is absent or unusable).
 * - `groups`: per reason and hash (`<reason>:<hash>`), the customers that have it. A changed field
 *   moves the customer from one group to another, so pairs are found by id, never by a scan.
 * - `pairs`: per pair of customers sharing at least one group, the reasons and the score, with
 *   `order` (score descending, then the ids) indexed for the list's pages.
 *
 * Erasing a customer drops its hashes (and so its pairs): an erased person is never matched, and
 * the hash of a known email could otherwise still tell whether they were a customer.
 */
export const DUPLICATES_PROJECTION = 'duplicates';

export const DUPLICATE_REASONS = ['email', 'phone', 'name-company'] as const;
export type DuplicateReason = (typeof DUPLICATE_REASONS)[number];

/** Each reason's weight, in hundredths; a pair's score is their sum, at most 100 (docs/http-api.md). */
export const REASON_WEIGHTS: Record<DuplicateReason, number> = { email: 60, phone: 30, 'name-company': 30 };

export type PersonHashesDocument = {
  _id: string;
  email: string | null;
  phone: string | null;
  /** Hashes of the normalised name and company alone: either may change without the other. */
  name: string | null;
  company: string | null;
  /** A hash of both, when both are there: the name-company group. */
  nameCompany: string | null;
  erased: boolean;
  /** Archived: its hashes are kept but it is in no group, so in no pair, until it is restored. */
  archived: boolean;
  /** Merged into another customer (docs/merging.md): likewise in no group until it is unmerged, archived or not. */
  merged: boolean;
};

export type GroupDocument = { _id: string; members: string[] };

export type PairDocument = {
  _id: string;
  /** The two customer ids, sorted. */
  customers: [string, string];
  reasons: DuplicateReason[];
  /** In hundredths (0–100). */
  score: number;
  /** `<100 - score, 3 digits>|<id>|<id>`: ascending is score descending, then by ids. */
  order: string;
};

const GROUP_FIELD: Record<DuplicateReason, 'email' | 'phone' | 'nameCompany'> = {
  email: 'email',
  phone: 'phone',
  'name-company': 'nameCompany',
};

export const pairId = (a: string, b: string): string => (a < b ? `${a}|${b}` : `${b}|${a}`);
export const pairOrder = (score: number, customers: readonly [string, string]): string =>
  `${String(100 - score).padStart(3, '0')}|${customers[0]}|${customers[1]}`;

export const pairScore = (reasons: readonly DuplicateReason[]): number =>
  Math.min(
    100,
    reasons.reduce((sum, r) => sum + REASON_WEIGHTS[r], 0),
  );

type Hasher = (purpose: string, value: string | null) => string | null;

function hasher(key: Buffer): Hasher {
  return (purpose, value) => (value === null ? null : createHmac('sha256', key).update(`${purpose}\u0000${value}`).digest('base64url'));
}

const blank = (id: string): PersonHashesDocument => ({
  _id: id,
  email: null,
  phone: null,
  name: null,
  company: null,
  nameCompany: null,
  erased: false,
  archived: false,
  merged: false,
});

/** Adds or removes `reason` on the pair of `a` and `b`; a pair left without reasons is deleted. */
async function touchPair(ctx: ProjectionContext, a: string, b: string, reason: DuplicateReason, present: boolean): Promise<void> {
  const id = pairId(a, b);
  const current = await ctx.get<PairDocument>('pairs', id);
  const reasons = new Set(current?.reasons ?? []);
  if (present) reasons.add(reason);
  else reasons.delete(reason);
  if (reasons.size === 0) {
    if (current) ctx.delete('pairs', id);
    return;
  }
  const customers: [string, string] = a < b ? [a, b] : [b, a];
  const ordered = DUPLICATE_REASONS.filter((r) => reasons.has(r));
  const score = pairScore(ordered);
  ctx.put<PairDocument>('pairs', { _id: id, customers, reasons: ordered, score, order: pairOrder(score, customers) });
}

/** Moves customer `id` from the group of hash `from` to that of `to` for one reason, updating its pairs. */
async function move(ctx: ProjectionContext, id: string, reason: DuplicateReason, from: string | null, to: string | null): Promise<void> {
  if (from === to) return;
  if (from !== null) {
    const groupId = `${reason}:${from}`;
    const group = await ctx.get<GroupDocument>('groups', groupId);
    const others = (group?.members ?? []).filter((m) => m !== id);
    for (const other of others) await touchPair(ctx, id, other, reason, false);
    if (others.length === 0) ctx.delete('groups', groupId);
    else ctx.put<GroupDocument>('groups', { _id: groupId, members: others });
  }
  if (to !== null) {
    const groupId = `${reason}:${to}`;
    const group = await ctx.get<GroupDocument>('groups', groupId);
    const others = (group?.members ?? []).filter((m) => m !== id);
    for (const other of others) await touchPair(ctx, id, other, reason, true);
    ctx.put<GroupDocument>('groups', { _id: groupId, members: [...others, id].sort() });
  }
}

/** The hash by which the customer is in the group of `reason`: none while archived or merged. */
const groupOf = (doc: PersonHashesDocument, reason: DuplicateReason): string | null =>
  doc.archived || doc.merged ? null : doc[GROUP_FIELD[reason]];

/** Applies a change of the customer's hashes: every group it leaves or joins, and the pairs with their members. */
async function update(ctx: ProjectionContext, id: string, change: (doc: PersonHashesDocument) => void, hash: Hasher): Promise<void> {
  const current = (await ctx.get<PersonHashesDocument>('people', id)) ?? blank(id);
  const next = { ...current };
  change(next);
  next.nameCompany = next.name !== null && next.company !== null ? hash('name-company', `${next.name}\u0000${next.company}`) : null;
  for (const reason of DUPLICATE_REASONS) await move(ctx, id, reason, groupOf(current, reason), groupOf(next, reason));
  ctx.put('people', next);
}

type ProfileFields = { name?: unknown; email?: unknown; phone?: unknown; company?: unknown };

/** The hashes of the profile fields an event carries (a field it leaves out keeps its hash). */
function profileChange(d: ProfileFields, hash: Hasher): (doc: PersonHashesDocument) => void {
  return (doc) => {
    // An erased customer is never matched again: its identity fields read as erased, and may not be set again.
    if (doc.erased) return;
    if (d.email !== undefined) doc.email = hash('email', normaliseEmail(d.email));
    if (d.phone !== undefined) doc.phone = hash('phone', normalisePhone(d.phone));
    if (d.name !== undefined) doc.name = hash('name', normaliseName(d.name));
    if (d.company !== undefined) doc.company = hash('company', normaliseName(d.company));
  };
}

export type DuplicatesProjection = Projection & {
  /** False when no key is configured (production without DUPLICATES_KEY): the projection keeps nothing. */
  readonly keyed: boolean;
};

/** The projection, hashing with `key`; without a key it keeps nothing (see key.ts). */
export function createDuplicatesProjection(key: Buffer | undefined): DuplicatesProjection {
  const hash = key ? hasher(key) : undefined;
  const projection = defineProjection({
    name: DUPLICATES_PROJECTION,
    // 2: archived customers are in no pair until restored. 3: merged customers are in no pair until unmerged.
    version: 3,
    collections: ['people', 'groups', 'pairs'],
    indexes: { pairs: ['order'] },
    scrubAfter: ['CustomerPersonalDataErased'],
    on: {
      CustomerRegistered(event, ctx) {
        if (!hash) return;
        return update(ctx, event.data.customerId, profileChange(event.data, hash), hash);
      },
      CustomerProfileUpdated(event, ctx) {
        if (!hash) return;
        return update(ctx, event.data.customerId, profileChange(event.data, hash), hash);
      },
      CustomerPersonalDataErased(event, ctx) {
        if (!hash) return;
        // An erasure is no unmerge: `merged` stays until CustomerUnmerged.
        return update(ctx, event.data.customerId, (doc) => Object.assign(doc, blank(doc._id), { erased: true, merged: doc.merged }), hash);
      },
      CustomerArchived(event, ctx) {
        if (!hash) return;
        return update(ctx, event.data.customerId, (doc) => void (doc.archived = true), hash);
      },
      CustomerRestored(event, ctx) {
        if (!hash) return;
        return update(ctx, event.data.customerId, (doc) => void (doc.archived = false), hash);
      },
      // On the merged customer's copy (the decision); the survivor keeps its groups and so its other pairs.
      CustomerMerged(event, ctx) {
        const d = event.data;
        if (!hash || d.customerId !== d.mergedId) return;
        return update(ctx, d.mergedId, (doc) => void (doc.merged = true), hash);
      },
      CustomerUnmerged(event, ctx) {
        const d = event.data;
        if (!hash || d.customerId !== d.mergedId) return;
        return update(ctx, d.mergedId, (doc) => void (doc.merged = false), hash);
      },
    },
  });
  return { ...projection, keyed: hash !== undefined };
}

/** The registered projection, keyed by DUPLICATES_KEY (or the development key outside production). */
export const duplicatesProjection = createDuplicatesProjection(duplicatesKeyFrom(process.env));
