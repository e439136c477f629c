// Readiness probe used by ferretdb.sh: exits 0 once the official `mongodb`
// driver (the one the app uses) can ping the server, non-zero otherwise.
// Usage: node mongo-ready.cjs mongodb://127.0.0.1:27018/ [timeoutMs]
'use strict';
const { MongoClient } = require('mongodb');

const url = process.argv[2] || 'mongodb://127.0.0.1:27018/';
const timeoutMs = Number(process.argv[3] || 5000);

const timer = setTimeout(() => {
  console.error(`mongo-ready: no answer from ${url} within ${timeoutMs}ms`);
  process.exit(2);
}, timeoutMs);

(async () => {
  const client = new MongoClient(url, {
    serverSelectionTimeoutMS: Math.max(500, timeoutMs - 1000),
    connectTimeoutMS: 1000,
    directConnection: true,
  });
  try {
    await client.connect();
    await client.db('admin').command({ ping: 1 });
    const info = await client.db('admin').command({ buildInfo: 1 });
    console.log(JSON.stringify({ version: info.version, ferretdb: info.ferretdb && info.ferretdb.version }));
    await client.close();
    clearTimeout(timer);
    process.exit(0);
  } catch (err) {
    console.error(`mongo-ready: ${err && err.message ? err.message : err}`);
    try {
      await client.close();
    } catch {
      /* ignore */
    }
    process.exit(1);
  }
})();
