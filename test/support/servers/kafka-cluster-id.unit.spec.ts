const { kafkaClusterId } = require('./kafka-cluster-id') as { kafkaClusterId: (random?: (n: number) => Buffer) => string };

describe('kafkaClusterId', () => {
  it('never begins with "-", which the storage tool would read as an option', () => {
    // 0xf8 encodes to '-' as the first base64url character.
    const draws = [Buffer.alloc(16, 0xf8), Buffer.alloc(16, 0x10)];
    const id = kafkaClusterId(() => draws.shift()!);
    expect(Buffer.alloc(16, 0xf8).toString('base64url').startsWith('-')).toBe(true);
    expect(id).toBe(Buffer.alloc(16, 0x10).toString('base64url'));
    expect(draws).toHaveLength(0);
  });

  it('is a 22-character base64url id, as Kafka writes a Uuid', () => {
    for (let i = 0; i < 1000; i++) expect(kafkaClusterId()).toMatch(/^[A-Za-z0-9_][A-Za-z0-9_-]{21}$/);
  });
});
