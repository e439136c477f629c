import 'reflect-metadata';
import { processManagerRoles } from '@chronicle/commands';
import { projectionRole } from '@chronicle/projector';
import { servedReports } from '@chronicle/projections';
import { assertPinnedRoles, ConfigError, loadConfig } from '@chronicle/infrastructure';
import { Logger } from 'nestjs-pino';
import { createApp } from './app.factory';

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig(process.env);
    if (config.runProjector)
      assertPinnedRoles(config, [
        ...servedReports(config.reportsDir).projections.map((p) => projectionRole(p.name)),
        ...processManagerRoles,
      ]);
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(2);
    }
    throw error;
  }
  const app = await createApp(config);
  await app.listen({ port: config.port, host: config.host });
  const url = await app.getUrl();
  const banner = `Chronicle is listening on ${url} (event store: ${config.eventStore}, data: ${config.dataDir})`;
  // JSON logs stay JSON lines (the banner is one, at info); readable output keeps the plain banner.
  if (config.logFormat === 'json')
    app.get(Logger).log(`${banner}; OpenAPI: ${url}/docs, dashboard: ${url}/dashboard, health: ${url}/health`, 'Chronicle');
  else process.stdout.write(`${banner}\n  OpenAPI: ${url}/docs   dashboard: ${url}/dashboard   health: ${url}/health\n`);
}

main().catch((error) => {
  process.stderr.write(`Chronicle failed to start: ${(error as Error).stack ?? error}\n`);
  process.exit(1);
});
