import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { Logger } from 'nestjs-pino';
import { processManagerRoles } from '@chronicle/commands';
import { projectionRole } from '@chronicle/projector';
import { servedReports } from '@chronicle/projections';
import type { RoleCoordinator } from '@chronicle/cluster';
import {
  assertPinnedRoles,
  ConfigError,
  COORDINATOR,
  createLogger,
  loadConfig,
  LoggedAppModule,
  startHealthServer,
} from '@chronicle/infrastructure';
import { ProjectorAppModule } from './projector-app.module';

/**
 * Runs the projections (and process managers) apart from the API: set RUN_PROJECTOR=false on the
 * API then. Any number may run: they share the roles by leases (docs/operations.md).
 */
async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig(process.env);
    assertPinnedRoles(config, [...servedReports(config.reportsDir).projections.map((p) => projectionRole(p.name)), ...processManagerRoles]);
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(2);
    }
    throw error;
  }
  const logger = createLogger(config, { app: 'projector' });
  const app = await NestFactory.createApplicationContext(LoggedAppModule.forRoot(ProjectorAppModule.forRoot(config), logger), {
    bufferLogs: true,
  });
  app.useLogger(app.get(Logger));
  app.enableShutdownHooks();
  await app.init();
  if (config.healthPort) {
    const health = await startHealthServer(app.get<RoleCoordinator>(COORDINATOR), config.healthPort, config.host);
    health.unref();
  }
  const banner = `Chronicle projector running (event store: ${config.eventStore}, read store: ${config.readStore})`;
  if (config.logFormat === 'json') logger.info(banner);
  else process.stdout.write(`${banner}\n`);
}

main().catch((error) => {
  process.stderr.write(`Chronicle projector failed to start: ${(error as Error).stack ?? error}\n`);
  process.exit(1);
});
