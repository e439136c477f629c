// Readiness probe used by kafka.sh: exits 0 once the broker answers metadata
// requests through kafkajs (the client the app uses), non-zero otherwise.
// Usage: node kafka-ready.cjs 127.0.0.1:19092 [timeoutMs]
'use strict';
process.env.KAFKAJS_NO_PARTITIONER_WARNING = '1';
const { Kafka, logLevel } = require('kafkajs');

const broker = process.argv[2] || '127.0.0.1:19092';
const timeoutMs = Number(process.argv[3] || 5000);

const timer = setTimeout(() => {
  console.error(`kafka-ready: no answer from ${broker} within ${timeoutMs}ms`);
  process.exit(2);
}, timeoutMs);

(async () => {
  const kafka = new Kafka({
    clientId: 'chronicle-ready-probe',
    brokers: [broker],
    logLevel: logLevel.NOTHING,
    connectionTimeout: 1000,
    requestTimeout: 2000,
    retry: { retries: 5, initialRetryTime: 100, maxRetryTime: 500 },
  });
  const admin = kafka.admin();
  try {
    await admin.connect();
    const cluster = await admin.describeCluster();
    if (!cluster.brokers.length || cluster.controller == null || cluster.controller < 0) {
      throw new Error(`cluster not ready: ${JSON.stringify(cluster)}`);
    }
    await admin.listTopics();
    // FindCoordinator makes the broker create __consumer_offsets; succeeding means
    // the group coordinator is up, so the first consumer group joins without retries.
    await admin.describeGroups(['chronicle-ready-probe']);
    // An idempotent producer's InitProducerId needs the transaction coordinator
    // (__transaction_state): warm it up too.
    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    await producer.disconnect();
    console.log(JSON.stringify({ clusterId: cluster.clusterId, brokers: cluster.brokers.length }));
    await admin.disconnect();
    clearTimeout(timer);
    process.exit(0);
  } catch (err) {
    console.error(`kafka-ready: ${err && err.message ? err.message : err}`);
    try {
      await admin.disconnect();
    } catch {
      /* ignore */
    }
    process.exit(1);
  }
})();
