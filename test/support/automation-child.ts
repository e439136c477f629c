/**
 * The automation process managers in a process of their own, for crash tests: boots the write side
 * with every process manager on DATA_DIR (configuration from the environment), waits until they
 * all stand still at the head, then exits. The test SIGKILLs it at random moments.
 */
import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import {
  AssignmentProcessManager,
  CommandsModule,
  FeedProcessManager,
  RulesProcessManager,
  ScoringProcessManager,
} from '@chronicle/commands';
import type { EventStore } from '@chronicle/event-store';
import { EVENT_STORE, InfrastructureModule, loadConfig } from '@chronicle/infrastructure';

class AutomationChildModule {}

async function main(): Promise<void> {
  const config = loadConfig(process.env);
  const app = await NestFactory.createApplicationContext(
    { module: AutomationChildModule, imports: [InfrastructureModule.forRoot(config), CommandsModule.forRoot({ processManagers: true })] },
    { logger: false },
  );
  await app.init();
  process.stdout.write('started\n');
  const store = app.get<EventStore>(EVENT_STORE);
  const managers = [ScoringProcessManager, AssignmentProcessManager, RulesProcessManager].map((type) => app.get<FeedProcessManager>(type));
  for (;;) {
    const head = await store.headPosition();
    for (const pm of managers) await pm.caughtUp(60_000);
    await new Promise((resolve) => setTimeout(resolve, 100));
    if ((await store.headPosition()) === head) break;
  }
  await app.close();
  process.stdout.write('caught-up\n');
}

main().catch((error) => {
  process.stderr.write(`${(error as Error).stack}\n`);
  process.exit(1);
});
