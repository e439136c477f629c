import { randomUUID } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ERASED } from '@chronicle/domain';
import { NewEvent, RecordedEvent, SqliteEventStore } from '@chronicle/event-store';
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
  const open = () => new PersonalDataEventStore(new SqliteEventStore({ filename: join(dir, 'events.db') }), new SqliteKeyStore(join(dir, 'keys.db')));
  const registered = { customerId: 'c1', name: 'Ada Lovelace', email: EMAIL, phone: '+44 20 7946 0000', company: 'Analytical', source: 'web', attributes: { note: 'met at the engine' } };

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'chronicle-pd-'));
    store = open();
  });
  afterEach(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('stores personal fields sealed and gives them back exactly on every read path', async () => {
    await store.append('customer-c1', [event('CustomerRegistered', registered), event('PurchaseRecorded', { customerId: 'c1', purchaseId: 'p', amount: 5 })]);

    const [stored, purchase] = await store.sealed.readStream('customer-c1');
    expect(isSealed(stored.data)).toBe(true);
    expect(JSON.stringify(stored.data)).not.toContain('Ada');
    expect(stored.data).toMatchObject({ customerId: 'c1', company: 'Analytical', source: 'web', sealed: { subject: 'customer-c1', fields: ['name', 'email', 'phone', 'attributes'] } });
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
    await store.append('customer-c1', [event('CustomerRegistered', registered), event('CustomerProfileUpdated', { customerId: 'c1', email: 'new@example.org', region: 'EU' })]);
    await store.erase('customer-c1');
    await store.append('customer-c1', [event('CustomerPersonalDataErased', { customerId: 'c1' })]);

    const [first, update] = await store.readStream('customer-c1');
    expect(first.data).toEqual({ customerId: 'c1', name: ERASED, email: ERASED, phone: ERASED, company: 'Analytical', source: 'web' });
    expect(update.data).toEqual({ customerId: 'c1', email: ERASED, region: 'EU' });
    // Non-personal updates are still fine; personal ones are refused.
    await store.append('customer-c1', [event('CustomerProfileUpdated', { customerId: 'c1', region: 'US' })]);
    await expect(store.append('customer-c1', [event('CustomerProfileUpdated', { customerId: 'c1', name: 'Ada' })])).rejects.toBeInstanceOf(PersonalDataErasedError);
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

describe('PersonalDataEventStore append order', () => {
  it('hands appends to the store in call order, even when some wait for a new key', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'chronicle-pd-order-'));
    const store = new PersonalDataEventStore(new SqliteEventStore({ filename: join(dir, 'events.db') }), new SqliteKeyStore(join(dir, 'keys.db')));
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
      expect(feed.filter((e) => e.type === 'CustomerRegistered').every((e) => (e.data as { name: string }).name.startsWith('N'))).toBe(true);
    } finally {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
