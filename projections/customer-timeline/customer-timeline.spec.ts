import fc from 'fast-check';
import { ERASED, InvalidInput } from '@chronicle/domain';
import type { RecordedEvent } from '@chronicle/event-store';
import { appendAndProject } from '../testing/append';
import { project, Projected, ScenarioEvent } from '../testing/harness';
import { lastTimeOf, mergeEvents, mergePair, registeredCustomers, unmergeEvents } from '../testing/merge';
import { historyArbitrary } from '../testing/random-history';
import { Document, EmbeddedReadStore } from '@chronicle/read-store';
import type { ReadModelAccess } from '../common/report';
import { BUCKET_CHARS, bucketOf, entryKey, HASH_CHARS, SUFFIX_CHARS } from './keys';
import { customerTimelineProjection } from './projection';
import { customerTimeline, TimelineEntry } from './query';

const C1 = 'c1000000-0000-4000-8000-000000000001';
const C2 = 'c2000000-0000-4000-8000-000000000002';
const D1 = 'd1000000-0000-4000-8000-000000000001';
const D2 = 'd2000000-0000-4000-8000-000000000002';

const customer = (id: string, type: string, occurredAt: string, data: Record<string, unknown> = {}): ScenarioEvent => ({
  streamId: `customer-${id}`,
  type,
  data: { customerId: id, ...data },
  occurredAt,
});
const deal = (dealId: string, type: string, occurredAt: string, data: Record<string, unknown>): ScenarioEvent => ({
  streamId: `deal-${dealId}`,
  type,
  data: { dealId, ...data },
  occurredAt,
});

/** Every page of a customer's timeline, following the cursors. */
async function walk(p: Projected, customerId: string, limit: number): Promise<{ pages: number[]; items: TimelineEntry[] }> {
  const pages: number[] = [];
  const items: TimelineEntry[] = [];
  let before: string | undefined;
  for (;;) {
    const page = await customerTimeline(p.readModels, customerId, { limit, before });
    pages.push(page.items.length);
    items.push(...page.items);
    if (page.nextCursor === null) return { pages, items };
    before = page.nextCursor;
  }
}

describe('customer timeline', () => {
  let p: Projected;
  afterEach(() => p?.close());

  it('lists interactions, deals, purchases and lifecycle events newest first, ties by position, with working cursors', async () => {
    p = await project(
      [
        customer(C1, 'CustomerRegistered', '2024-01-01T09:00:00.000Z', { name: 'Ada', source: 'web' }),
        customer(C2, 'CustomerRegistered', '2024-01-01T09:30:00.000Z', { name: 'Bob', source: 'ads' }),
        customer(C1, 'InteractionLogged', '2024-01-02T10:00:00.000Z', {
          interactionId: 'i1',
          type: 'call',
          direction: 'outbound',
          subject: 'intro',
          durationMinutes: 15,
        }),
        customer(C1, 'InteractionLogged', '2024-01-02T10:00:00.000Z', {
          interactionId: 'i2',
          type: 'email',
          direction: 'inbound',
          subject: 'thanks',
        }),
        deal(D1, 'DealOpened', '2024-01-03T00:00:00.000Z', {
          customerId: C1,
          title: 'Engine',
          amount: 1000,
          ownerId: 'u1',
          source: 'web',
          stage: 'qualification',
        }),
        customer(C2, 'InteractionLogged', '2024-01-03T12:00:00.000Z', {
          interactionId: 'i9',
          type: 'sms',
          direction: 'outbound',
          subject: 'hi',
        }),
        deal(D1, 'DealStageChanged', '2024-01-04T00:00:00.000Z', { from: 'qualification', to: 'proposal' }),
        deal(D1, 'DealAmountChanged', '2024-01-04T01:00:00.000Z', { from: 1000, to: 1200 }),
        deal(D1, 'DealWon', '2024-01-05T00:00:00.000Z', { customerId: C1, amount: 1200, stage: 'proposal' }),
        customer(C1, 'CustomerAcquired', '2024-01-05T00:00:00.000Z', { channel: 'web', trigger: { type: 'DealWon', dealId: D1 } }),
        customer(C1, 'PurchaseRecorded', '2024-01-06T00:00:00.000Z', { purchaseId: 'p1', amount: 50 }),
        // imported with an old business time: it sorts into its place, not on top
        customer(C1, 'InteractionLogged', '2024-01-01T12:00:00.000Z', {
          interactionId: 'i3',
          type: 'note',
          direction: 'outbound',
          subject: 'met at fair',
        }),
        deal(D2, 'DealOpened', '2024-01-07T00:00:00.000Z', {
          customerId: C1,
          title: 'Support',
          amount: 300,
          ownerId: 'u2',
          source: 'web',
          stage: 'proposal',
        }),
        deal(D2, 'DealLost', '2024-01-08T00:00:00.000Z', { customerId: C1, amount: 300, stage: 'proposal', reason: 'price' }),
        customer(C1, 'CustomerChurned', '2024-02-01T00:00:00.000Z', { reason: 'moved' }),
      ],
      [customerTimelineProjection],
    );
    const full = await customerTimeline(p.readModels, C1);
    expect(full.nextCursor).toBeNull();
    expect(full.limit).toBe(50);
    expect(full.items.map((e) => [e.type, e.occurredAt, e.position])).toEqual([
      ['CustomerChurned', '2024-02-01T00:00:00.000Z', 15],
      ['DealLost', '2024-01-08T00:00:00.000Z', 14],
      ['DealOpened', '2024-01-07T00:00:00.000Z', 13],
      ['PurchaseRecorded', '2024-01-06T00:00:00.000Z', 11],
      ['CustomerAcquired', '2024-01-05T00:00:00.000Z', 10],
      ['DealWon', '2024-01-05T00:00:00.000Z', 9],
      ['DealStageChanged', '2024-01-04T00:00:00.000Z', 7],
      ['DealOpened', '2024-01-03T00:00:00.000Z', 5],
      ['InteractionLogged', '2024-01-02T10:00:00.000Z', 4],
      ['InteractionLogged', '2024-01-02T10:00:00.000Z', 3],
      ['InteractionLogged', '2024-01-01T12:00:00.000Z', 12],
      ['CustomerRegistered', '2024-01-01T09:00:00.000Z', 1],
    ]);
    const byPosition = new Map(full.items.map((e) => [e.position, e]));
    expect(byPosition.get(7)).toEqual<TimelineEntry>({
      type: 'DealStageChanged',
      kind: 'deal',
      occurredAt: '2024-01-04T00:00:00.000Z',
      position: 7,
      streamId: `deal-${D1}`,
      actor: 'tester',
      details: { dealId: D1, title: 'Engine', from: 'qualification', to: 'proposal' },
    });
    expect(byPosition.get(9)!.details).toEqual({ dealId: D1, title: 'Engine', amount: 1200, stage: 'proposal' });
    expect(byPosition.get(14)!.details).toEqual({ dealId: D2, title: 'Support', amount: 300, stage: 'proposal', reason: 'price' });
    expect(byPosition.get(3)).toMatchObject({
      kind: 'interaction',
      details: { interactionId: 'i1', interactionType: 'call', direction: 'outbound', subject: 'intro', durationMinutes: 15 },
    });
    expect(byPosition.get(11)).toMatchObject({ kind: 'purchase', details: { purchaseId: 'p1', amount: 50 } });
    expect(byPosition.get(10)).toMatchObject({ kind: 'lifecycle', details: { channel: 'web', trigger: { type: 'DealWon', dealId: D1 } } });

    // cursors: pages of 5 walk the same list; a page that ends exactly at the oldest has no cursor
    const paged = await walk(p, C1, 5);
    expect(paged.pages).toEqual([5, 5, 2]);
    expect(paged.items).toEqual(full.items);
    expect((await walk(p, C1, 6)).pages).toEqual([6, 6]);

    // a cursor keeps its place when newer entries arrive meanwhile
    const first = await customerTimeline(p.readModels, C1, { limit: 4 });
    await appendAndProject(p, [
      customer(C1, 'InteractionLogged', '2024-03-01T00:00:00.000Z', {
        interactionId: 'i4',
        type: 'call',
        direction: 'inbound',
        subject: 'come back?',
      }),
    ]);
    const second = await customerTimeline(p.readModels, C1, { limit: 4, before: first.nextCursor! });
    expect(second.items).toEqual(full.items.slice(4, 8));
    expect((await customerTimeline(p.readModels, C1, { limit: 1 })).items[0].details).toMatchObject({ interactionId: 'i4' });

    // an entry imported with a business time before any other (an older month) is found at the end
    await appendAndProject(p, [
      customer(C1, 'InteractionLogged', '2023-11-15T00:00:00.000Z', {
        interactionId: 'i0',
        type: 'meeting',
        direction: 'inbound',
        subject: 'trade fair',
      }),
    ]);
    const all = await walk(p, C1, 5);
    expect(all.pages).toEqual([5, 5, 4]);
    expect(all.items.map((e) => e.position)).toEqual([16, ...full.items.map((e) => e.position), 17]);

    expect((await customerTimeline(p.readModels, C2)).items.map((e) => e.position)).toEqual([6, 2]);
    expect(await customerTimeline(p.readModels, 'no-such-customer')).toEqual({
      customerId: 'no-such-customer',
      items: [],
      limit: 50,
      nextCursor: null,
    });
    for (const bad of [{ before: 'garbage!' }, { before: Buffer.from('2024-01-01').toString('base64url') }, { limit: 0 }, { limit: 201 }]) {
      await expect(customerTimeline(p.readModels, C1, bad)).rejects.toBeInstanceOf(InvalidInput);
    }
  });
});

describe('customer timeline: reopened deals', () => {
  let p: Projected;
  afterEach(() => p?.close());

  it('keeps the won and lost entries and adds a reopened one per reopen, which erasure leaves alone', async () => {
    const opened = (dealId: string, title: string, amount: number) =>
      deal(dealId, 'DealOpened', '2024-01-02T00:00:00.000Z', {
        customerId: C1,
        title,
        amount,
        ownerId: 'u1',
        source: 'web',
        stage: 'proposal',
      });
    p = await project(
      [
        customer(C1, 'CustomerRegistered', '2024-01-01T00:00:00.000Z', { name: 'Ada', source: 'web' }),
        opened(D1, 'Engine', 1000),
        opened(D2, 'Support', 300),
        deal(D1, 'DealWon', '2024-01-10T00:00:00.000Z', { customerId: C1, amount: 1000, stage: 'proposal' }),
        deal(D1, 'DealReopened', '2024-02-01T00:00:00.000Z', {
          customerId: C1,
          ownerId: 'u1',
          amount: 1000,
          stage: 'negotiation',
          outcome: 'won',
          closedAt: '2024-01-10T00:00:00.000Z',
          closedStage: 'proposal',
          reason: 'billing error',
        }),
        deal(D1, 'DealAmountChanged', '2024-02-05T00:00:00.000Z', { from: 1000, to: 1500 }),
        deal(D1, 'DealWon', '2024-02-10T00:00:00.000Z', { customerId: C1, amount: 1500, stage: 'negotiation' }),
        deal(D2, 'DealLost', '2024-01-20T00:00:00.000Z', { customerId: C1, amount: 300, stage: 'proposal', reason: 'price' }),
        deal(D2, 'DealReopened', '2024-02-20T00:00:00.000Z', {
          customerId: C1,
          ownerId: 'u1',
          amount: 300,
          stage: 'proposal',
          outcome: 'lost',
          closedAt: '2024-01-20T00:00:00.000Z',
          closedStage: 'proposal',
          lostReason: 'price',
        }),
      ],
      [customerTimelineProjection],
    );
    const expected: [string, string, Record<string, unknown>][] = [
      [
        'DealReopened',
        'deal',
        {
          dealId: D2,
          title: 'Support',
          amount: 300,
          stage: 'proposal',
          closedAs: 'lost',
          closedAt: '2024-01-20T00:00:00.000Z',
          closedStage: 'proposal',
          lostReason: 'price',
        },
      ],
      ['DealWon', 'deal', { dealId: D1, title: 'Engine', amount: 1500, stage: 'negotiation' }],
      [
        'DealReopened',
        'deal',
        {
          dealId: D1,
          title: 'Engine',
          amount: 1000,
          stage: 'negotiation',
          closedAs: 'won',
          closedAt: '2024-01-10T00:00:00.000Z',
          closedStage: 'proposal',
          reason: 'billing error',
        },
      ],
      ['DealLost', 'deal', { dealId: D2, title: 'Support', amount: 300, stage: 'proposal', reason: 'price' }],
      ['DealWon', 'deal', { dealId: D1, title: 'Engine', amount: 1000, stage: 'proposal' }],
      ['DealOpened', 'deal', { dealId: D2, title: 'Support', amount: 300, stage: 'proposal', ownerId: 'u1' }],
      ['DealOpened', 'deal', { dealId: D1, title: 'Engine', amount: 1000, stage: 'proposal', ownerId: 'u1' }],
      ['CustomerRegistered', 'lifecycle', { source: 'web' }],
    ];
    const entries = async () => (await customerTimeline(p.readModels, C1)).items.map((e) => [e.type, e.kind, e.details]);
    expect(await entries()).toEqual(expected);
    // No personal text in a reopen entry: erasure changes nothing here.
    await appendAndProject(p, [customer(C1, 'CustomerPersonalDataErased', '2024-03-01T00:00:00.000Z')]);
    expect(await entries()).toEqual(expected);
  });
});

describe('customer timeline and erasure', () => {
  let p: Projected;
  afterEach(() => p?.close());

  it("rewrites the erased customer's interaction subjects and outcomes and purchase descriptions, in every month; keeps the rest", async () => {
    const logged = (n: number, occurredAt: string, text: Record<string, unknown>) =>
      customer(C1, 'InteractionLogged', occurredAt, {
        interactionId: `i${n}`,
        type: 'call',
        direction: 'outbound',
        durationMinutes: n,
        ...text,
      });
    p = await project(
      [
        customer(C1, 'CustomerRegistered', '2024-01-01T00:00:00.000Z', { name: 'Ada', source: 'web' }),
        customer(C2, 'CustomerRegistered', '2024-01-01T00:00:00.000Z', { name: 'Bob', source: 'web' }),
        logged(1, '2024-03-02T00:00:00.000Z', { subject: 'Call Ada Lovelace', outcome: 'ada@engines.example' }),
        customer(C2, 'InteractionLogged', '2024-03-03T00:00:00.000Z', {
          interactionId: 'b1',
          type: 'sms',
          direction: 'inbound',
          subject: 'Bob says hi',
        }),
        customer(C1, 'PurchaseRecorded', '2024-04-01T00:00:00.000Z', { purchaseId: 'p1', amount: 50, description: "Ada's order" }),
        customer(C1, 'PurchaseRecorded', '2024-04-02T00:00:00.000Z', { purchaseId: 'p2', amount: 7 }),
        deal(D1, 'DealOpened', '2024-04-03T00:00:00.000Z', {
          customerId: C1,
          title: 'Engine',
          amount: 1000,
          ownerId: 'u1',
          source: 'web',
          stage: 'qualification',
        }),
        // imported with an older business time: another month, earlier than the rest
        logged(2, '2023-12-24T00:00:00.000Z', { subject: 'Christmas card to Ada' }),
      ],
      [customerTimelineProjection],
    );
    const before = (await customerTimeline(p.readModels, C1)).items;
    expect(JSON.stringify(before)).toContain('Lovelace');
    await appendAndProject(p, [customer(C1, 'CustomerPersonalDataErased', '2024-05-01T00:00:00.000Z')]);
    const after = (await customerTimeline(p.readModels, C1)).items;
    expect(after.map((e) => e.position)).toEqual(before.map((e) => e.position)); // no entry added or lost
    const text = JSON.stringify(after);
    for (const gone of ['Lovelace', 'ada@engines', "Ada's order", 'Christmas']) expect(text).not.toContain(gone);
    const details = (type: string, key: string, value: string) => after.find((e) => e.type === type && e.details[key] === value)!.details;
    expect(details('InteractionLogged', 'interactionId', 'i1')).toEqual({
      interactionId: 'i1',
      interactionType: 'call',
      direction: 'outbound',
      durationMinutes: 1,
      subject: ERASED,
      outcome: ERASED,
    });
    expect(details('InteractionLogged', 'interactionId', 'i2')).toMatchObject({ subject: ERASED, durationMinutes: 2 });
    expect(details('PurchaseRecorded', 'purchaseId', 'p1')).toEqual({ purchaseId: 'p1', amount: 50, description: ERASED });
    expect(details('PurchaseRecorded', 'purchaseId', 'p2')).toEqual({ purchaseId: 'p2', amount: 7 });
    expect(details('DealOpened', 'dealId', D1)).toMatchObject({ title: 'Engine', amount: 1000 });
    // Another customer's text is theirs.
    expect((await customerTimeline(p.readModels, C2)).items[0].details).toMatchObject({ subject: 'Bob says hi' });
  });
});

describe('customer timeline: owner changes, tags, campaigns and tasks', () => {
  let p: Projected;
  afterEach(() => p?.close());

  it("shows them as entries of their own kinds, a task's later events on its customer, and erases a task's text with the person", async () => {
    const task = (type: string, occurredAt: string, data: Record<string, unknown>): ScenarioEvent => ({
      streamId: 'task-t1',
      type,
      data: { taskId: 't1', ...data },
      occurredAt,
    });
    p = await project(
      [
        customer(C1, 'CustomerRegistered', '2024-01-01T00:00:00.000Z', { name: 'Ada', source: 'web' }),
        customer(C1, 'CustomerOwnerAssigned', '2024-01-02T00:00:00.000Z', {
          ownerId: 'u2',
          previousOwnerId: 'u1',
          strategy: 'round-robin',
        }),
        customer(C1, 'CustomerTagged', '2024-01-03T00:00:00.000Z', { tag: 'vip', reason: 'rule big-spender' }),
        customer(C1, 'CustomerEnrolled', '2024-01-04T00:00:00.000Z', { campaign: 'nurture' }),
        task('TaskCreated', '2024-01-05T00:00:00.000Z', {
          ownerId: 'u2',
          subject: 'Call Ada back',
          dueAt: '2024-01-10T00:00:00.000Z',
          customerId: C1,
        }),
        task('TaskUpdated', '2024-01-06T00:00:00.000Z', { dueAt: '2024-01-12T00:00:00.000Z', previousDueAt: '2024-01-10T00:00:00.000Z' }),
        task('TaskReassigned', '2024-01-07T00:00:00.000Z', { ownerId: 'u3', previousOwnerId: 'u2' }),
        task('TaskCompleted', '2024-01-08T00:00:00.000Z', { outcome: 'Ada will buy', customerId: C1 }),
        // Another task, about a lead: on no customer's timeline.
        {
          streamId: 'task-t2',
          type: 'TaskCreated',
          data: { taskId: 't2', ownerId: 'u1', subject: 'Lead', dueAt: '2024-01-09T00:00:00.000Z', leadId: 'l1' },
          occurredAt: '2024-01-05T00:00:00.000Z',
        },
      ],
      [customerTimelineProjection],
    );
    const entries = (await customerTimeline(p.readModels, C1)).items.map((e) => [e.kind, e.type, e.details]);
    expect(entries).toEqual([
      ['task', 'TaskCompleted', { taskId: 't1', outcome: 'Ada will buy' }],
      ['task', 'TaskReassigned', { taskId: 't1', ownerId: 'u3', previousOwnerId: 'u2' }],
      ['task', 'TaskUpdated', { taskId: 't1', dueAt: '2024-01-12T00:00:00.000Z' }],
      ['task', 'TaskCreated', { taskId: 't1', subject: 'Call Ada back', dueAt: '2024-01-10T00:00:00.000Z', ownerId: 'u2' }],
      ['campaign', 'CustomerEnrolled', { campaign: 'nurture' }],
      ['tag', 'CustomerTagged', { tag: 'vip', reason: 'rule big-spender' }],
      ['owner', 'CustomerOwnerAssigned', { ownerId: 'u2', previousOwnerId: 'u1', strategy: 'round-robin' }],
      ['lifecycle', 'CustomerRegistered', { source: 'web' }],
    ]);
    await appendAndProject(p, [customer(C1, 'CustomerPersonalDataErased', '2024-02-01T00:00:00.000Z')]);
    const erased = (await customerTimeline(p.readModels, C1)).items;
    expect(erased.find((e) => e.type === 'TaskCreated')!.details).toMatchObject({ subject: ERASED, dueAt: '2024-01-10T00:00:00.000Z' });
    expect(erased.find((e) => e.type === 'TaskCompleted')!.details).toEqual({ taskId: 't1', outcome: ERASED });
  });
});

describe('customer timeline keys', () => {
  it('keep two customers apart when their hashes collide (entries interleave in one key range)', async () => {
    const store = new EmbeddedReadStore(':memory:');
    const access: ReadModelAccess = {
      collection: async <T extends Document>(_: string, collection: string) => store.collection<T>(collection),
    };
    // 30 days across a month boundary and a gap month
    const at = (i: number) => new Date(Date.UTC(2024, 0, 15 + i + (i >= 20 ? 31 : 0))).toISOString();
    // 'a' owns entries 1, 4, 7, …; 'b' (pretending to share the hash) owns all the others
    const docs = Array.from({ length: 30 }, (_, i) => ({
      _id: entryKey('a', at(i + 1), i + 1),
      customerId: i % 3 === 0 ? 'a' : 'b',
      type: 'InteractionLogged',
      occurredAt: at(i + 1),
      position: i + 1,
      streamId: 'customer-x',
      actor: 't',
      details: {},
    }));
    await store.commit([
      ...docs.map((doc) => ({ collection: 'entries', id: doc._id, doc })),
      { collection: 'spans', id: 'a', doc: { _id: 'a', firstMonth: bucketOf(at(1)) } },
    ]);
    const positions: number[][] = [];
    let before: string | undefined;
    do {
      const page = await customerTimeline(access, 'a', { limit: 3, before });
      positions.push(page.items.map((e) => e.position));
      before = page.nextCursor ?? undefined;
    } while (before);
    expect(positions).toEqual([[28, 25, 22], [19, 16, 13], [10, 7, 4], [1]]);
    await store.close();
  });

  it('sort by business time first, then position, over the whole range of times', () => {
    const keys = [
      entryKey('c', '0900-01-01T00:00:00.000Z', 5),
      entryKey('c', '1969-12-31T23:59:59.999Z', 4),
      entryKey('c', '2024-01-01T00:00:00.000Z', 2),
      entryKey('c', '2024-01-01T00:00:00.000Z', 10),
      entryKey('c', '2024-01-01T00:00:00.001Z', 1),
      entryKey('c', '2999-12-31T23:59:59.999Z', 3),
    ];
    expect([...keys].sort()).toEqual(keys);
    expect(new Set(keys.map((k) => k.length))).toEqual(new Set([BUCKET_CHARS + HASH_CHARS + SUFFIX_CHARS]));
  });
});

const TASK_TYPES = ['TaskCreated', 'TaskUpdated', 'TaskCompleted', 'TaskCancelled', 'TaskReassigned'];
const TIMELINE_TYPES = new Set([
  'CustomerRegistered',
  'CustomerAcquired',
  'CustomerChurned',
  'CustomerReactivated',
  'CustomerArchived',
  'CustomerRestored',
  'PurchaseRecorded',
  'InteractionLogged',
  'DealOpened',
  'DealStageChanged',
  'DealWon',
  'DealLost',
  'DealReopened',
  'CustomerOwnerAssigned',
  'CustomerTagged',
  'CustomerEnrolled',
  ...TASK_TYPES,
]);

/** Each customer's timeline folded from the raw events, newest first. */
function foldTimelines(events: RecordedEvent[]): Map<string, RecordedEvent[]> {
  const dealCustomer = new Map<string, string>();
  const taskCustomer = new Map<string, string>();
  const timelines = new Map<string, RecordedEvent[]>();
  for (const e of events) {
    const d = e.data as Record<string, string>;
    if (e.type === 'DealOpened') dealCustomer.set(d.dealId, d.customerId);
    if (e.type === 'TaskCreated' && d.customerId) taskCustomer.set(d.taskId, d.customerId);
    if (!TIMELINE_TYPES.has(e.type)) continue;
    // A task is on its customer's timeline, if it has one (not on its deal's customer's).
    const customerId = TASK_TYPES.includes(e.type) ? taskCustomer.get(d.taskId) : (d.customerId ?? dealCustomer.get(d.dealId));
    if (customerId === undefined) continue;
    if (!timelines.has(customerId)) timelines.set(customerId, []);
    timelines.get(customerId)!.push(e);
  }
  for (const list of timelines.values()) {
    list.sort((a, b) => (a.occurredAt !== b.occurredAt ? (a.occurredAt < b.occurredAt ? 1 : -1) : b.globalPosition - a.globalPosition));
  }
  return timelines;
}

describe('customer timeline = a fold of the raw events (property)', () => {
  it('walks every customer page by page to exactly their events, newest first', async () => {
    await fc.assert(
      fc.asyncProperty(
        historyArbitrary({ minSteps: 120, maxSteps: 200, taskChanges: true }),
        fc.integer({ min: 1, max: 9 }),
        async (scenario, limit) => {
          const p = await project(scenario, [customerTimelineProjection]);
          try {
            const expected = foldTimelines(p.events);
            const customers = p.events
              .filter((e) => e.type === 'CustomerRegistered')
              .map((e) => (e.data as { customerId: string }).customerId);
            for (const customerId of customers) {
              const { items, pages } = await walk(p, customerId, limit);
              const want = expected.get(customerId) ?? [];
              expect(pages.length).toBe(Math.max(1, Math.ceil(want.length / limit)));
              expect(items.map((e) => [e.type, e.occurredAt, e.position, e.streamId, e.actor])).toEqual(
                want.map((e) => [e.type, e.occurredAt, e.globalPosition, e.streamId, e.actor]),
              );
            }
          } finally {
            await p.close();
          }
        },
      ),
      { numRuns: 20, seed: 7 },
    );
  });

  it('walks every customer to exactly their events in histories with reopened deals', async () => {
    let withReopens = 0;
    await fc.assert(
      fc.asyncProperty(
        historyArbitrary({ minSteps: 100, maxSteps: 250, reopens: true }),
        fc.integer({ min: 1, max: 9 }),
        async (scenario, limit) => {
          const p = await project(scenario, [customerTimelineProjection]);
          try {
            const expected = foldTimelines(p.events);
            const customers = p.events
              .filter((e) => e.type === 'CustomerRegistered')
              .map((e) => (e.data as { customerId: string }).customerId);
            for (const customerId of customers) {
              const { items, pages } = await walk(p, customerId, limit);
              const want = expected.get(customerId) ?? [];
              expect(pages.length).toBe(Math.max(1, Math.ceil(want.length / limit)));
              expect(items.map((e) => [e.type, e.occurredAt, e.position, e.streamId, e.actor])).toEqual(
                want.map((e) => [e.type, e.occurredAt, e.globalPosition, e.streamId, e.actor]),
              );
            }
            if (p.events.some((e) => e.type === 'DealReopened')) withReopens += 1;
          } finally {
            await p.close();
          }
        },
      ),
      { numRuns: 15, seed: 1615 },
    );
    expect(withReopens).toBeGreaterThan(5);
  });
});

describe('customer timeline: merges', () => {
  let p: Projected;
  afterEach(() => p?.close());

  it("shows the merged customer's entries on the survivor's, whenever recorded, interleaved and paged as one; the merge and unmerge on both", async () => {
    // C1 is the duplicate (merged), C2 the survivor.
    p = await project(
      [
        customer(C2, 'CustomerRegistered', '2024-01-01T00:00:00.000Z', { name: 'Ada', source: 'web' }), // 1
        customer(C1, 'CustomerRegistered', '2024-01-02T00:00:00.000Z', { name: 'Ada L.', source: 'ads' }), // 2
        customer(C2, 'InteractionLogged', '2024-01-03T00:00:00.000Z', { interactionId: 'i1', type: 'call', direction: 'outbound' }), // 3
        deal(D1, 'DealOpened', '2024-01-04T00:00:00.000Z', {
          customerId: C1,
          title: 'Engine',
          amount: 1000,
          ownerId: 'u1',
          source: 'ads',
          stage: 'proposal',
        }), // 4
        customer(C1, 'PurchaseRecorded', '2024-01-05T00:00:00.000Z', { purchaseId: 'p1', amount: 50 }), // 5
        customer(C2, 'PurchaseRecorded', '2024-02-01T00:00:00.000Z', { purchaseId: 'p2', amount: 70 }), // 6
        // the same business time as C2's interaction: ties go by position across the two customers too
        customer(C1, 'InteractionLogged', '2024-01-03T00:00:00.000Z', { interactionId: 'i2', type: 'email', direction: 'inbound' }), // 7
        ...mergeEvents(C1, C2, '2024-03-01T00:00:00.000Z', 'same person'), // 8 (C1's copy), 9 (C2's)
        // recorded while merged: the merged customer's deal closes, and an interaction is imported with an
        // old business time (a month before the survivor's first)
        deal(D1, 'DealWon', '2024-03-02T00:00:00.000Z', { customerId: C1, amount: 1000, stage: 'proposal' }), // 10
        customer(C1, 'InteractionLogged', '2023-12-20T00:00:00.000Z', { interactionId: 'i0', type: 'note', direction: 'outbound' }), // 11
      ],
      [customerTimelineProjection],
    );
    const positions = async (customerId: string) => (await customerTimeline(p.readModels, customerId)).items.map((e) => e.position);
    const full = (await customerTimeline(p.readModels, C2)).items;
    expect(full.map((e) => [e.type, e.occurredAt, e.position, e.streamId])).toEqual([
      ['DealWon', '2024-03-02T00:00:00.000Z', 10, `deal-${D1}`],
      ['CustomerMerged', '2024-03-01T00:00:00.000Z', 9, `customer-${C2}`], // the survivor's copy only
      ['PurchaseRecorded', '2024-02-01T00:00:00.000Z', 6, `customer-${C2}`],
      ['PurchaseRecorded', '2024-01-05T00:00:00.000Z', 5, `customer-${C1}`],
      ['DealOpened', '2024-01-04T00:00:00.000Z', 4, `deal-${D1}`],
      ['InteractionLogged', '2024-01-03T00:00:00.000Z', 7, `customer-${C1}`],
      ['InteractionLogged', '2024-01-03T00:00:00.000Z', 3, `customer-${C2}`],
      ['CustomerRegistered', '2024-01-02T00:00:00.000Z', 2, `customer-${C1}`],
      ['CustomerRegistered', '2024-01-01T00:00:00.000Z', 1, `customer-${C2}`],
      ['InteractionLogged', '2023-12-20T00:00:00.000Z', 11, `customer-${C1}`],
    ]);
    const merged: TimelineEntry = {
      type: 'CustomerMerged',
      kind: 'lifecycle',
      occurredAt: '2024-03-01T00:00:00.000Z',
      position: 9,
      streamId: `customer-${C2}`,
      actor: 'tester',
      details: { mergedId: C1, survivorId: C2, reason: 'same person' },
    };
    expect(full[1]).toEqual(merged);
    // The merged customer's own timeline: its entries, as before, and its copy of the merge.
    expect(await positions(C1)).toEqual([10, 8, 5, 4, 7, 2, 11]);
    expect((await customerTimeline(p.readModels, C1)).items[1]).toEqual({ ...merged, position: 8, streamId: `customer-${C1}` });

    // Pages across the union walk the same list, whatever the page size.
    for (const [limit, pages] of [
      [3, [3, 3, 3, 1]],
      [5, [5, 5]],
      [1, Array(10).fill(1)],
    ] as const) {
      const walked = await walk(p, C2, limit);
      expect(walked.pages).toEqual(pages);
      expect(walked.items).toEqual(full);
    }
    // A cursor keeps its place when newer entries of either customer arrive meanwhile.
    const first = await customerTimeline(p.readModels, C2, { limit: 4 });
    await appendAndProject(p, [
      customer(C1, 'InteractionLogged', '2024-03-05T00:00:00.000Z', { interactionId: 'i3', type: 'call', direction: 'inbound' }), // 12
    ]);
    expect((await customerTimeline(p.readModels, C2, { limit: 4, before: first.nextCursor! })).items).toEqual(full.slice(4, 8));
    expect(await positions(C2)).toEqual([12, 10, 9, 6, 5, 4, 7, 3, 2, 1, 11]);

    // Unmerged: the survivor's own entries again, with the merge and the unmerge; the merged customer's keep theirs.
    await appendAndProject(p, unmergeEvents(C1, C2, '2024-04-01T00:00:00.000Z', 'not the same')); // 13, 14
    expect(await positions(C2)).toEqual([14, 9, 6, 3, 1]);
    expect(await positions(C1)).toEqual([13, 12, 10, 8, 5, 4, 7, 2, 11]);
    expect((await customerTimeline(p.readModels, C2)).items[0]).toEqual({
      ...merged,
      type: 'CustomerUnmerged',
      occurredAt: '2024-04-01T00:00:00.000Z',
      position: 14,
      details: { mergedId: C1, survivorId: C2, reason: 'not the same' },
    });
    expect((await walk(p, C2, 2)).pages).toEqual([2, 2, 1]);
  });
});

describe('customer timeline after a merge = the union, after the unmerge = as before (property)', () => {
  /** Newest first, as the timeline orders entries: business time, then position. */
  const newestFirst = (a: TimelineEntry, b: TimelineEntry) =>
    a.occurredAt !== b.occurredAt ? (a.occurredAt < b.occurredAt ? 1 : -1) : b.position - a.position;

  it("the survivor's timeline is both customers' entries and the merge entry; unmerged, each its own and the two entries", async () => {
    await fc.assert(
      fc.asyncProperty(
        historyArbitrary({ minSteps: 100, maxSteps: 200, taskChanges: true, reopens: true }),
        fc.integer({ min: 1, max: 9 }),
        fc.nat(10_000),
        async (history, limit, pick) => {
          const pair = mergePair(history, pick);
          if (!pair) return;
          const [mergedId, survivorId] = pair;
          const p = await project(history, [customerTimelineProjection]);
          try {
            const customers = registeredCustomers(history);
            const timelines = async () => {
              const all = new Map<string, TimelineEntry[]>();
              for (const id of customers) {
                const { items, pages } = await walk(p, id, limit);
                expect(pages.length).toBe(Math.max(1, Math.ceil(items.length / limit)));
                all.set(id, items);
              }
              return all;
            };
            const before = await timelines();
            // The two copies of each event follow the history: the merged customer's, then the survivor's.
            const at = new Date(Date.parse(lastTimeOf(history)) + 60_000).toISOString();
            const entry = (type: string, customerId: string, position: number): TimelineEntry => ({
              type,
              kind: 'lifecycle',
              occurredAt: at,
              position,
              streamId: `customer-${customerId}`,
              actor: 'tester',
              details: { mergedId, survivorId },
            });
            const n = p.events.length;
            await appendAndProject(p, mergeEvents(mergedId, survivorId, at));
            const merged = await timelines();
            const union = [...before.get(survivorId)!, ...before.get(mergedId)!].sort(newestFirst);
            expect(merged.get(survivorId)).toEqual([entry('CustomerMerged', survivorId, n + 2), ...union]);
            expect(merged.get(mergedId)).toEqual([entry('CustomerMerged', mergedId, n + 1), ...before.get(mergedId)!]);
            for (const id of customers) if (id !== survivorId && id !== mergedId) expect(merged.get(id)).toEqual(before.get(id));

            await appendAndProject(p, unmergeEvents(mergedId, survivorId, at));
            const unmerged = await timelines();
            for (const [id, copy] of [
              [mergedId, 1],
              [survivorId, 2],
            ] as const)
              expect(unmerged.get(id)).toEqual([
                entry('CustomerUnmerged', id, n + 2 + copy),
                entry('CustomerMerged', id, n + copy),
                ...before.get(id)!,
              ]);
            for (const id of customers) if (id !== survivorId && id !== mergedId) expect(unmerged.get(id)).toEqual(before.get(id));
          } finally {
            await p.close();
          }
        },
      ),
      { numRuns: 15, seed: 1617 },
    );
  });
});
