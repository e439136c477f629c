// A KRaft cluster id for `kafka-storage format -t <id>`: 16 random bytes in base64url, as Kafka's
// Uuid.toString() writes them. An id beginning with '-' is taken for an option by the storage
// tool (one start in 64 failed that way), so such ids are drawn again, as Uuid.randomUuid() does.
const { randomBytes } = require('node:crypto');

function kafkaClusterId(random = randomBytes) {
  for (;;) {
    const id = random(16).toString('base64url');
    if (!id.startsWith('-')) return id;
  }
}

module.exports = { kafkaClusterId };
if (require.main === module) process.stdout.write(kafkaClusterId());
