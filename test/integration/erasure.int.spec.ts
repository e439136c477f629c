import { MongoClient } from 'mongodb';
import { ERASED } from '@chronicle/domain';
import { topicForStream } from '@chronicle/messaging';
import { httpKeyFetcher, openPersonalData } from '../../examples/consumer/personal-data';
import { ErasureScenario, reportFigures, seedErasureScenario } from '../support/erasure-scenario';
import { client } from '../support/http';
import { assertBrokerReachable, brokersFromEnv, collect, deleteTopics, ReceivedRecord, uniquePrefix } from '../support/kafka-test';
import { dropDatabase, freshDatabase, urlFor } from '../support/mongo-test';
import { startTestApp, TestApp } from '../support/test-app';

// The erasure test of issue 6 on the production adapters: the read store and the key store on a
// real Mongo-wire server (FerretDB), every event relayed to a real Kafka broker. After erasure
// the email is in no read-model document and in no Kafka message, old messages no longer open,
// and every report figure is unchanged.
jest.setTimeout(120_000);

const brokers = brokersFromEnv();
const prefix = uniquePrefix('erasure');
const database = freshDatabase('chronicle_erasure');
let t: TestApp;
let s: ErasureScenario;
let baseUrl: string;

/** Everything on the run's topics so far, read from the beginning by a fresh consumer group. */
async function kafkaRecords(): Promise<ReceivedRecord[]> {
  const stored = (await t.store.readAll({ maxCount: 100_000 })).events;
  const topics = [...new Set(stored.map((e) => topicForStream(e.streamId, prefix)))];
  const consumer = await collect(brokers, topics, `${prefix}-${Date.now()}`);
  try {
    await consumer.waitForUnique(stored.length, 60_000);
    return consumer.records;
  } finally {
    await consumer.stop();
  }
}

/** Every document of every collection of the read store's database, as JSON. */
async function readStoreDump(): Promise<string> {
  const mongo = new MongoClient(urlFor(database));
  try {
    const db = mongo.db();
    const docs: unknown[] = [];
    for (const { name } of await db.listCollections().toArray()) docs.push(name, ...(await db.collection(name).find().toArray()));
    return JSON.stringify(docs);
  } finally {
    await mongo.close();
  }
}

beforeAll(async () => {
  await assertBrokerReachable(brokers);
  t = await startTestApp({
    env: { READ_STORE: 'mongodb', MONGO_URL: urlFor(database), KAFKA_BROKERS: brokers.join(','), KAFKA_TOPIC_PREFIX: prefix },
  });
  await t.app.listen(0, '127.0.0.1');
  baseUrl = (await t.app.getUrl()).replace('[::1]', '127.0.0.1');
  s = await seedErasureScenario(t);
});
afterAll(async () => {
  await t?.close();
  await deleteTopics(brokers, prefix);
  await dropDatabase(database);
});

it('before erasure: Kafka carries the personal fields sealed, and a consumer with a service key opens them', async () => {
  const records = await kafkaRecords();
  const wire = JSON.stringify(records.map((r) => r.envelope));
  expect(wire).toContain(s.customerId);
  for (const text of [s.email, s.leadEmail, ...s.linkedLeadEmails, 'Lovelace', s.keptEmail, ...s.freeText])
    expect(wire).not.toContain(text);

  const fetchKey = httpKeyFetcher(baseUrl, t.keys.service, 0);
  const registered = records.find((r) => r.envelope.type === 'CustomerRegistered' && r.key === `customer-${s.customerId}`)!;
  expect(await openPersonalData(registered.envelope.data, fetchKey)).toMatchObject({
    customerId: s.customerId,
    name: 'Ada Lovelace',
    email: s.leadEmail,
    source: 'webinar',
  });
  expect((await readStoreDump()).includes(s.email)).toBe(true); // the search after erasure is meaningful
});

it('after erasure: no email in the read store (FerretDB) nor on Kafka, old messages open as erased, reports unchanged', async () => {
  const before = await reportFigures(t);
  expect((await client(t, 'admin').delete(`/customers/${s.customerId}/personal-data`)).status).toBe(200);
  await client(t, 'manager').latest(`/customers/${s.customerId}`);

  const dump = await readStoreDump();
  for (const text of [s.email, s.leadEmail, ...s.linkedLeadEmails, 'Ada Lovelace', ...s.freeText]) expect(dump).not.toContain(text);
  expect(dump).toContain(s.keptEmail);
  expect(dump).toContain(s.keptTaskSubject); // a task about no one

  const records = await kafkaRecords();
  expect(records.map((r) => r.envelope.type)).toEqual(
    expect.arrayContaining(['CustomerPersonalDataErased', 'LeadPersonalDataErased', 'CustomerLeadLinked']),
  );
  const interaction = records.find((r) => r.envelope.type === 'InteractionLogged' && r.key === `customer-${s.customerId}`)!;
  expect(await openPersonalData(interaction.envelope.data, httpKeyFetcher(baseUrl, t.keys.service, 0))).toMatchObject({
    subject: ERASED,
    outcome: ERASED,
  });
  expect(JSON.stringify(records.map((r) => r.envelope))).not.toContain(s.email);
  const fetchKey = httpKeyFetcher(baseUrl, t.keys.service, 0);
  const registered = records.find((r) => r.envelope.type === 'CustomerRegistered' && r.key === `customer-${s.customerId}`)!;
  expect(await openPersonalData(registered.envelope.data, fetchKey)).toMatchObject({ name: ERASED, email: ERASED });
  const kept = records.find((r) => r.envelope.type === 'CustomerRegistered' && r.key === `customer-${s.keptId}`)!;
  expect(await openPersonalData(kept.envelope.data, fetchKey)).toMatchObject({ email: s.keptEmail });

  expect((await client(t, 'manager').latest(`/customers/${s.customerId}`)).body).toMatchObject({ name: ERASED, email: ERASED });
  expect(await reportFigures(t)).toEqual(before);
});
