// Quick end-to-end check of the test servers with the app's own clients.
//   node test/support/servers/smoke.cjs kafka [127.0.0.1:19092]
//   node test/support/servers/smoke.cjs mongo [mongodb://127.0.0.1:27018/]
// kafka: auto-created topic, keyed produce, consumer-group consume from the
// beginning, committed offsets checked through the admin API.
// mongo: insert/find/update/aggregate/index/drop on a throw-away database.
'use strict';
process.env.KAFKAJS_NO_PARTITIONER_WARNING = '1';

const what = process.argv[2];
const deadline = setTimeout(() => {
  console.error(`smoke ${what}: timed out`);
  process.exit(2);
}, 60_000);

async function kafka(broker) {
  const { Kafka, logLevel } = require('kafkajs');
  const k = new Kafka({ clientId: 'chronicle-smoke', brokers: [broker], logLevel: logLevel.ERROR });
  const suffix = `${Date.now()}-${process.pid}`;
  const topic = `crm.smoke-${suffix}`;
  const groupId = `smoke-group-${suffix}`;
  const n = 20;
  const t0 = Date.now();

  const producer = k.producer({ allowAutoTopicCreation: true, idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  const messages = Array.from({ length: n }, (_, i) => ({
    key: `stream-${i % 3}`,
    value: JSON.stringify({ eventId: `e${i}`, seq: i }),
    headers: { type: 'SmokeTested', schemaVersion: '1' },
  }));
  // first send may race topic auto-creation: retry a few times
  for (let attempt = 1; ; attempt++) {
    try {
      await producer.send({ topic, acks: -1, messages });
      break;
    } catch (e) {
      if (attempt >= 10) throw e;
      await new Promise((r) => setTimeout(r, 500));
    }
  }
  await producer.disconnect();
  const tProduced = Date.now();

  const consumer = k.consumer({ groupId, sessionTimeout: 10_000, heartbeatInterval: 1_000 });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  const got = [];
  await new Promise((resolve, reject) => {
    consumer
      .run({
        eachMessage: async ({ message }) => {
          if (message.headers.type.toString() !== 'SmokeTested') reject(new Error('bad header'));
          got.push(JSON.parse(message.value.toString()).seq);
          if (got.length === n) resolve();
        },
      })
      .catch(reject);
  });
  await consumer.commitOffsets([]).catch(() => {});
  await consumer.disconnect(); // commits resolved offsets
  for (let i = 1; i < got.length; i++) if (got[i] < got[i - 1]) throw new Error(`out of order: ${got}`);

  const admin = k.admin();
  await admin.connect();
  const offsets = await admin.fetchOffsets({ groupId, topics: [topic] });
  const committed = offsets[0].partitions.reduce((s, p) => s + Number(p.offset), 0);
  await admin.deleteTopics({ topics: [topic] }).catch(() => {});
  await admin.disconnect();
  if (committed !== n) throw new Error(`committed offset ${committed}, expected ${n}`);
  console.log(
    `kafka smoke OK: produced ${n} (${tProduced - t0}ms), consumed ${got.length} in group ${groupId} (${Date.now() - tProduced}ms), committed ${committed}`,
  );
}

async function mongo(url) {
  const { MongoClient } = require('mongodb');
  const client = new MongoClient(url, { serverSelectionTimeoutMS: 5000 });
  await client.connect();
  const db = client.db(`smoke_${process.pid}`);
  const col = db.collection('deals');
  await col.createIndex({ owner: 1 });
  await col.insertMany([
    { _id: 'd1', owner: 'ann', amount: 100, stage: 'won' },
    { _id: 'd2', owner: 'bob', amount: 50, stage: 'open' },
    { _id: 'd3', owner: 'ann', amount: 25, stage: 'open' },
  ]);
  await col.updateOne({ _id: 'd2' }, { $inc: { amount: 5 }, $set: { stage: 'won' } }, { upsert: true });
  const found = await col.find({ owner: 'ann' }).sort({ amount: -1 }).toArray();
  const agg = await col.aggregate([{ $match: { stage: 'won' } }, { $group: { _id: null, total: { $sum: '$amount' } } }]).toArray();
  const info = await db.admin().command({ buildInfo: 1 });
  await db.dropDatabase();
  await client.close();
  if (found.length !== 2 || found[0]._id !== 'd1') throw new Error(`find: ${JSON.stringify(found)}`);
  if (agg[0].total !== 155) throw new Error(`aggregate: ${JSON.stringify(agg)}`);
  console.log(
    `mongo smoke OK: insert/find/update/aggregate against ${info.version}${info.ferretdb ? ` (FerretDB ${info.ferretdb.version})` : ''}`,
  );
}

(async () => {
  if (what === 'kafka') await kafka(process.argv[3] || `127.0.0.1:${process.env.KAFKA_PORT || 19092}`);
  else if (what === 'mongo') await mongo(process.argv[3] || `mongodb://127.0.0.1:${process.env.FERRETDB_PORT || 27018}/`);
  else throw new Error('usage: smoke.cjs kafka|mongo [address]');
  clearTimeout(deadline);
})().catch((e) => {
  console.error(`smoke ${what} FAILED:`, e);
  process.exit(1);
});
