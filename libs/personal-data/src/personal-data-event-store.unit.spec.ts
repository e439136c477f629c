import { randomUUID } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ERASED } from '@chronicle/domain';
import { NewEvent, RecordedEvent, SqliteEventStore } from '@chronicle/event-store';
import { parseEnvelope, toMessage } from '@chronicle/messaging';
import { openPersonalData } from '../../../examples/consumer/personal-data';
import { PersonalDataErasedError } from './key-store';
import { isSealed, PersonalDataEventStore } from './personal-data-event-store';
import { SqliteKeyStore } from './sqlite-key-store';

const EMAIL = 'ada.lovelace.7f3a@example.org';
const event = (type: string, data: Record<string, unknown>): NewEvent => ({
  eventId: randomUUID(),
  type,
  data,
  metadata: { occurredAt: '2024-01-01T00:00:00.000Z', actor: 't', correlationId: 'c', causationId: 'c' },
});

describe('PersonalDataEventStore', () => {
  let dir: string;
  let store: PersonalDataEventStore;
  const open = () =>
    new PersonalDataEventStore(new SqliteEventStore({ filename: join(dir, 'events.db') }), new SqliteKeyStore(join(dir, 'keys.db')));
  const registered = {
    customerId: 'c1',
    name: 'Ada Lovelace',
    email: EMAIL,
    phone: '+44 20 7946 0000',
    company: 'Analytical',
    source: 'web',
    attributes: { note: 'met at the engine' },
  };

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'chronicle-pd-'));
    store = open();
  });
  afterEach(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('stores personal fields sealed and gives them back exactly on every read path', async () => {
    await store.append('customer-c1', [
      event('CustomerRegistered', registered),
      event('PurchaseRecorded', { customerId: 'c1', purchaseId: 'p', amount: 5 }),
    ]);

    const [stored, purchase] = await store.sealed.readStream('customer-c1');
    expect(isSealed(stored.data)).toBe(true);
    expect(JSON.stringify(stored.data)).not.toContain('Ada');
    expect(stored.data).toMatchObject({
      customerId: 'c1',
      company: 'Analytical',
      source: 'web',
      sealed: { subject: 'customer-c1', fields: ['name', 'email', 'phone', 'attributes'] },
    });
    expect(purchase.data).toEqual({ customerId: 'c1', purchaseId: 'p', amount: 5 });

    expect((await store.readStream('customer-c1'))[0].data).toEqual(registered);
    expect((await store.readAll()).events[0].data).toEqual(registered);
    const subscription = store.subscribeToAll();
    for await (const page of subscription) {
      expect(page.events.map((e) => e.data)).toEqual([registered, purchase.data]);
      break;
    }
    await subscription.close();
  });

  it('after erasure reads the fields as erased (attributes dropped) and refuses new personal data', async () => {
    await store.append('customer-c1', [
      event('CustomerRegistered', registered),
      event('CustomerProfileUpdated', { customerId: 'c1', email: 'new@example.org', region: 'EU' }),
    ]);
    await store.erase('customer-c1');
    await store.append('customer-c1', [event('CustomerPersonalDataErased', { customerId: 'c1' })]);

    const [first, update] = await store.readStream('customer-c1');
    expect(first.data).toEqual({ customerId: 'c1', name: ERASED, email: ERASED, phone: ERASED, company: 'Analytical', source: 'web' });
    expect(update.data).toEqual({ customerId: 'c1', email: ERASED, region: 'EU' });
    // Non-personal updates are still fine; personal ones are refused.
    await store.append('customer-c1', [event('CustomerProfileUpdated', { customerId: 'c1', region: 'US' })]);
    await expect(store.append('customer-c1', [event('CustomerProfileUpdated', { customerId: 'c1', name: 'Ada' })])).rejects.toBeInstanceOf(
      PersonalDataErasedError,
    );
    expect(await store.streamRevision('customer-c1')).toBe(3);
  });

  it('another process holding the key in its cache stops opening once it reads the erasure event', async () => {
    await store.append('lead-l1', [event('LeadCaptured', { leadId: 'l1', name: 'Grace', email: EMAIL, source: 'ads' })]);
    const other = open();
    try {
      expect((await other.readStream('lead-l1'))[0].data).toMatchObject({ name: 'Grace' }); // key cached there now
      await store.erase('lead-l1');
      await store.append('lead-l1', [event('LeadPersonalDataErased', { leadId: 'l1' })]);
      const events: RecordedEvent[] = (await other.readAll()).events;
      expect(events.map((e) => e.data)).toEqual([{ leadId: 'l1', name: ERASED, email: ERASED, source: 'ads' }, { leadId: 'l1' }]);
    } finally {
      await other.close();
    }
  });

  it('never writes a personal field to the event store files', async () => {
    for (let i = 0; i < 20; i++) {
      await store.append(`customer-c${i}`, [event('CustomerRegistered', { ...registered, customerId: `c${i}` })]);
    }
    const files = readdirSync(dir).filter((f) => f.startsWith('events.db'));
    expect(files.length).toBeGreaterThan(0);
    const bytes = Buffer.concat(files.map((f) => readFileSync(join(dir, f))));
    expect(bytes.includes(Buffer.from('c19'))).toBe(true); // the stored events are there, in clear where not personal
    expect(bytes.includes(Buffer.from(EMAIL))).toBe(false);
    expect(bytes.includes(Buffer.from('Lovelace'))).toBe(false);
  });
});

describe('PersonalDataEventStore: free text about a person', () => {
  let dir: string;
  let store: PersonalDataEventStore;
  const interaction = {
    customerId: 'c1',
    interactionId: 'i1',
    type: 'call',
    direction: 'outbound',
    subject: 'Call Ada Lovelace',
    outcome: `wrote to ${EMAIL}`,
    durationMinutes: 5,
  };
  const purchase = { customerId: 'c1', purchaseId: 'p1', amount: 40, description: `gift for ${EMAIL}` };
  const personTask = { taskId: 't1', ownerId: 'u', subject: 'Call Ada Lovelace', dueAt: '2024-02-01', customerId: 'c1' };
  // An edit's new subject: sealed like the first one (the erasure covers it); the due date stays outside.
  const taskEdit = { taskId: 't1', subject: `Email ${EMAIL} instead`, customerId: 'c1', dueAt: '2024-02-02', previousDueAt: '2024-02-01' };
  const leadTask = { taskId: 't2', ownerId: 'u', subject: 'Email Grace Hopper', dueAt: '2024-02-01', leadId: 'l1' };
  const dealTask = { taskId: 't3', ownerId: 'u', subject: 'Review the pricing', dueAt: '2024-02-01', dealId: 'd1' };
  const leadInteraction = { leadId: 'l1', interactionId: 'i2', type: 'call', subject: 'Grace Hopper called back' };

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'chronicle-pd-text-'));
    store = new PersonalDataEventStore(
      new SqliteEventStore({ filename: join(dir, 'events.db') }),
      new SqliteKeyStore(join(dir, 'keys.db')),
    );
    await store.append('customer-c1', [event('InteractionLogged', interaction), event('PurchaseRecorded', purchase)]);
    await store.append('lead-l1', [event('LeadInteractionLogged', leadInteraction)]);
    await store.append('task-t1', [
      event('TaskCreated', personTask),
      event('TaskCompleted', { taskId: 't1', outcome: `left a message for ${EMAIL}`, customerId: 'c1' }),
    ]);
    await store.append('task-t2', [event('TaskCreated', leadTask)]);
    await store.append('task-t3', [event('TaskCreated', dealTask)]);
    await store.append('task-t1', [event('TaskUpdated', taskEdit)]);
  });
  afterEach(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("is sealed under the customer's or lead's key; a task about no one stays in clear", async () => {
    const stored = (await store.sealed.readAll()).events;
    const sealedAs = stored.map((e) =>
      isSealed(e.data) ? `${e.type}:${e.data.sealed.subject}:${e.data.sealed.fields.join('+')}` : `${e.type}:clear`,
    );
    expect(sealedAs).toEqual([
      'InteractionLogged:customer-c1:subject+outcome',
      'PurchaseRecorded:customer-c1:description',
      'LeadInteractionLogged:lead-l1:subject',
      'TaskCreated:customer-c1:subject',
      'TaskCompleted:customer-c1:outcome',
      'TaskCreated:lead-l1:subject',
      'TaskCreated:clear',
      'TaskUpdated:customer-c1:subject',
    ]);
    const bytes = Buffer.concat(
      readdirSync(dir)
        .filter((f) => f.startsWith('events.db'))
        .map((f) => readFileSync(join(dir, f))),
    );
    for (const text of ['Lovelace', 'Grace Hopper', EMAIL]) expect(bytes.includes(Buffer.from(text))).toBe(false);
    expect(bytes.includes(Buffer.from('Review the pricing'))).toBe(true);
    // Opened on read, exactly as written; what is not personal is outside the seal (durations, amounts).
    expect((await store.readStream('customer-c1')).map((e) => e.data)).toEqual([interaction, purchase]);
    expect(stored[0].data).toMatchObject({ durationMinutes: 5, type: 'call' });
    expect(stored[1].data).toMatchObject({ amount: 40 });
  });

  it('reads as [erased] once the key is gone, and no new free text about the person can be recorded', async () => {
    await store.erase('customer-c1');
    await store.append('customer-c1', [event('CustomerPersonalDataErased', { customerId: 'c1' })]);
    const [loggedAfter, purchasedAfter] = await store.readStream('customer-c1');
    expect(loggedAfter.data).toEqual({ ...interaction, subject: ERASED, outcome: ERASED });
    expect(purchasedAfter.data).toEqual({ ...purchase, description: ERASED });
    expect((await store.readStream('task-t1')).map((e) => e.data)).toEqual([
      { ...personTask, subject: ERASED },
      { taskId: 't1', outcome: ERASED, customerId: 'c1' },
      { ...taskEdit, subject: ERASED },
    ]);
    // The lead is someone else: untouched; so is the task about no one.
    expect((await store.readStream('lead-l1'))[0].data).toEqual(leadInteraction);
    expect((await store.readStream('task-t3'))[0].data).toEqual(dealTask);
    await expect(store.append('customer-c1', [event('InteractionLogged', { ...interaction, interactionId: 'i9' })])).rejects.toBeInstanceOf(
      PersonalDataErasedError,
    );
    await store.append('customer-c1', [event('PurchaseRecorded', { customerId: 'c1', purchaseId: 'p2', amount: 1 })]); // no text: fine
  });

  it('travels sealed on Kafka (the relay reads the sealed store) and a consumer with the key opens it, until the erasure', async () => {
    const fetchKey = async (subject: string) => {
      const key = await store.keyOf(subject);
      if (!key) throw new Error(`no key for ${subject}`);
      return key;
    };
    const messages = () => store.sealed.readAll().then((page) => page.events.map((e) => parseEnvelope(toMessage(e).value)));
    const before = await messages();
    expect(JSON.stringify(before)).not.toContain('Lovelace');
    expect(before.map((m) => m.type)).toContain('TaskCompleted');
    const opened = await Promise.all(before.map((m) => openPersonalData(m.data, fetchKey)));
    expect(opened.slice(0, 2)).toEqual([interaction, purchase]);
    expect(opened[4]).toEqual({ taskId: 't1', outcome: `left a message for ${EMAIL}`, customerId: 'c1' });
    await store.erase('customer-c1');
    const after = await Promise.all((await messages()).map((m) => openPersonalData(m.data, fetchKey)));
    expect(after.slice(0, 2)).toEqual([
      { ...interaction, subject: ERASED, outcome: ERASED },
      { ...purchase, description: ERASED },
    ]);
    expect(after[2]).toEqual(leadInteraction); // the lead's key is another
  });

  it('reads events written before free text was sealed as they were stored (backward compatible)', async () => {
    const old = { ...interaction, interactionId: 'i-old', subject: 'Old note about Ada' };
    await store.sealed.append('customer-c1', [event('InteractionLogged', old)]);
    expect((await store.readStream('customer-c1', { fromRevision: 2 }))[0].data).toEqual(old);
    await store.erase('customer-c1');
    // The key never covered it: erasure cannot rewrite the store (the read models do; docs/personal-data.md).
    expect((await store.readStream('customer-c1', { fromRevision: 2 }))[0].data).toEqual(old);
  });
});

describe('PersonalDataEventStore append order', () => {
  it('hands appends to the store in call order, even when some wait for a new key', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'chronicle-pd-order-'));
    const store = new PersonalDataEventStore(
      new SqliteEventStore({ filename: join(dir, 'events.db') }),
      new SqliteKeyStore(join(dir, 'keys.db')),
    );
    try {
      // Registration (needs a new key) and purchases of the same streams, all in flight at once.
      const calls: Promise<unknown>[] = [];
      for (let i = 0; i < 50; i++) {
        calls.push(store.append(`customer-o${i}`, [event('CustomerRegistered', { customerId: `o${i}`, name: `N${i}`, source: 'web' })]));
        calls.push(store.append(`customer-o${i}`, [event('PurchaseRecorded', { customerId: `o${i}`, purchaseId: 'p', amount: 1 })]));
      }
      await Promise.all(calls);
      const feed = (await store.readAll({ maxCount: 1000 })).events;
      expect(feed.map((e) => `${e.streamId}:${e.type}`)).toEqual(
        Array.from({ length: 50 }, (_, i) => [`customer-o${i}:CustomerRegistered`, `customer-o${i}:PurchaseRecorded`]).flat(),
      );
      expect(feed.filter((e) => e.type === 'CustomerRegistered').every((e) => (e.data as { name: string }).name.startsWith('N'))).toBe(
        true,
      );
    } finally {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
