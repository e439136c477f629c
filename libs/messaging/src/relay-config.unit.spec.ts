import { ConfigError, loadConfig } from '@chronicle/infrastructure';

/** The relay's settings in libs/infrastructure/src/config.ts: defaults, and a clear error naming the variable. */
describe('Kafka relay configuration', () => {
  const base = { DATA_DIR: '/tmp/chronicle-config-test' };

  it('is off by default, with topics crm.<category>, 3 partitions, replication factor 1', () => {
    expect(loadConfig(base)).toMatchObject({
      kafkaBrokers: [],
      kafkaTopicPrefix: 'crm',
      kafkaTopicPartitions: 3,
      kafkaReplicationFactor: 1,
    });
  });

  it('reads brokers, prefix, partitions and replication factor', () => {
    const config = loadConfig({
      ...base,
      KAFKA_BROKERS: 'k1:9092, k2:9092',
      KAFKA_TOPIC_PREFIX: 'crm-eu.prod',
      KAFKA_TOPIC_PARTITIONS: '12',
      KAFKA_REPLICATION_FACTOR: '3',
    });
    expect(config).toMatchObject({
      kafkaBrokers: ['k1:9092', 'k2:9092'],
      kafkaTopicPrefix: 'crm-eu.prod',
      kafkaTopicPartitions: 12,
      kafkaReplicationFactor: 3,
    });
  });

  it.each([
    ['KAFKA_BROKERS', 'kafka'],
    ['KAFKA_TOPIC_PREFIX', 'crm/prod'],
    ['KAFKA_TOPIC_PARTITIONS', '0'],
    ['KAFKA_TOPIC_PARTITIONS', '2.5'],
    ['KAFKA_TOPIC_PARTITIONS', 'three'],
    ['KAFKA_REPLICATION_FACTOR', '-1'],
  ])('refuses %s=%s', (name, value) => {
    expect(() => loadConfig({ ...base, [name]: value })).toThrow(ConfigError);
    expect(() => loadConfig({ ...base, [name]: value })).toThrow(name);
  });
});
