import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { Logger } from 'nestjs-pino';
import type { RoleCoordinator } from '@chronicle/cluster';
import { ConfigError, COORDINATOR, createLogger, loadConfig, LoggedAppModule, startHealthServer } from '@chronicle/infrastructure';
import { RelayAppModule } from './relay-app.module';

/**
 * Forwards every event to Kafka apart from the API (docs/kafka.md). Any number may run: one holds the
 * relay role and relays, the others stand by to take it over (docs/operations.md). Start the API
 * with RUN_PROJECTOR=false (or without KAFKA_BROKERS) so that it does not take part.
 */
async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig(process.env);
    if (config.kafkaBrokers.length === 0) throw new ConfigError('the relay needs KAFKA_BROKERS (host:port,…)');
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(2);
    }
    throw error;
  }
  const logger = createLogger(config, { app: 'relay' });
  const app = await NestFactory.createApplicationContext(LoggedAppModule.forRoot(RelayAppModule.forRoot(config), logger), {
    bufferLogs: true,
  });
  app.useLogger(app.get(Logger));
  app.enableShutdownHooks();
  await app.init();
  if (config.healthPort) {
    const health = await startHealthServer(app.get<RoleCoordinator>(COORDINATOR), config.healthPort, config.host);
    health.unref();
  }
  const banner = `Chronicle relay running (event store: ${config.eventStore}, brokers: ${config.kafkaBrokers.join(',')}, topics: ${config.kafkaTopicPrefix}.<category>)`;
  if (config.logFormat === 'json') logger.info(banner);
  else process.stdout.write(`${banner}\n`);
}

main().catch((error) => {
  process.stderr.write(`Chronicle relay failed to start: ${(error as Error).stack ?? error}\n`);
  process.exit(1);
});
