import 'reflect-metadata';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultPipeline } from '@chronicle/domain';
import { SqliteEventStore } from '@chronicle/event-store';
import { PersonalDataEventStore, SqliteKeyStore } from '@chronicle/personal-data';
import { ImportOptions, runImport } from './importer';

describe('runImport', () => {
  let dir: string;
  let store: PersonalDataEventStore;
  const run = (content: string, options: Partial<ImportOptions> = {}) =>
    runImport({ store, pipeline: defaultPipeline, autoAssignCustomers: false }, content, {
      type: 'customers',
      format: 'csv',
      actor: 'importer',
      ...options,
    });

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'chronicle-import-unit-'));
    store = new PersonalDataEventStore(
      new SqliteEventStore({ filename: join(dir, 'events.db'), synchronous: 'NORMAL' }),
      new SqliteKeyStore(join(dir, 'keys.db')),
    );
  });
  afterEach(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('derives record and event ids from the row key: the same file again appends nothing, a changed row is a new record', async () => {
    const first = await run('name,source\nAda,web\nGrace,web\n');
    expect([first.appended, first.events, first.skipped, first.rejected]).toEqual([2, 2, 0, []]);
    const ids = (await store.readAll()).events.map((e) => [e.streamId, e.eventId]);
    const again = await run('source,name\nweb,Grace\nweb,Ada\n'); // same rows, other column order
    expect([again.appended, again.skipped]).toEqual([0, 2]);
    const changed = await run('name,source\nAda,referral\n');
    expect([changed.appended, changed.skipped]).toEqual([1, 0]);
    expect((await store.readAll()).events.slice(0, 2).map((e) => [e.streamId, e.eventId])).toEqual(ids);
  });

  it('keys by a column of the file: that column is not a field, an edited row is still the same, a repeated key is an error', async () => {
    const first = await run('legacyId,name\nL-1,Ada\n', { key: 'legacyId' });
    expect(first.appended).toBe(1);
    const [event] = (await store.readAll()).events;
    expect(event.data).not.toHaveProperty('legacyId');
    expect(event.data).toMatchObject({ name: 'Ada', source: 'direct', ownerId: 'importer' });
    const edited = await run('legacyId,name\nL-1,Ada Lovelace\n', { key: 'legacyId' });
    expect([edited.appended, edited.skipped]).toEqual([0, 1]);
    const twice = await run('legacyId,name\nL-2,Alan\nL-2,Alan T.\n,Nobody\n', { key: 'legacyId' });
    expect(twice.rejected).toEqual([
      { row: 2, column: 'legacyId', message: 'has the same key as row 1' },
      { row: 3, column: 'legacyId', message: 'the key column legacyId is empty or missing' },
    ]);
    expect(twice.appended).toBe(0);
  });

  it("validates as the API: the DTO's rules, then the decider's; nothing appended unless skipInvalid", async () => {
    const content =
      'id,name,email,occurredAt\n' + 'not-a-uuid,Ada,ada,2021-01-01T00:00:00Z\n' + ',Grace,,2999-01-01T00:00:00Z\n' + ',Fine,,\n';
    const refused = await run(content);
    expect(refused.rejected).toEqual([
      { row: 1, column: 'email', message: 'email must be an email' },
      { row: 1, column: 'id', message: 'id must be a UUID' },
      { row: 2, column: 'occurredAt', message: 'must not be more than 5 minutes in the future' },
    ]);
    expect([refused.appended, await store.headPosition()]).toEqual([0, 0]);
    expect(refused.rejectedRows.map((r) => r.row)).toEqual([1, 2]);
    const partial = await run(content, { skipInvalid: true });
    expect([partial.appended, await store.headPosition()]).toEqual([1, 1]);
  });

  it('decides each row on its stream as stored and as the rows before it left it', async () => {
    const id = '5b0e8a52-3c1d-4f7e-9a61-0c2f4d8e1a09';
    const twice = await run(`id,name\n${id},Ada\n${id},Ada again\n`);
    expect(twice.rejected).toEqual([{ row: 2, column: 'id', message: `customer-${id} already exists` }]);
    await run(`id,name\n${id},Ada\n`);
    const interactions = await run(
      `customerId,type,direction,subject,occurredAt\n${id},call,inbound,First,2022-01-01T00:00:00Z\n${id},call,inbound,Second,2022-01-02T00:00:00Z\n`,
      { type: 'interactions' },
    );
    expect([interactions.appended, interactions.rejected]).toEqual([2, []]);
    const stream = await store.readStream(`customer-${id}`);
    expect(stream.map((e) => [e.type, e.occurredAt])).toEqual([
      ['CustomerRegistered', expect.any(String)],
      ['InteractionLogged', '2022-01-01T00:00:00.000Z'],
      ['InteractionLogged', '2022-01-02T00:00:00.000Z'],
    ]);
  });
});
