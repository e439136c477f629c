import { Inject, Injectable, Optional } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import type { RoleCoordinator } from '@chronicle/cluster';
import type { EventStore, RecordedEvent } from '@chronicle/event-store';
import { ChronicleConfig, CONFIG, COORDINATOR, EVENT_STORE, STATE_STORE } from '@chronicle/infrastructure';
import { PROCESS_MANAGERS_ENABLED } from './acquisition.process-manager';
import { FeedProcessManager } from './feed-process-manager';
import type { ProcessManagerState } from './feed-process-manager';

/**
 * The sales-automation process managers (scoring, assignment, rules, stalls): configured by
 * CONFIG, acting through the CommandBus, idle with AUTOMATION=off. Subclasses declare no
 * constructor, so Nest injects this one's dependencies.
 */
@Injectable()
export abstract class AutomationProcessManager extends FeedProcessManager {
  constructor(
    @Inject(EVENT_STORE) store: EventStore,
    @Inject(STATE_STORE) checkpoints: ProcessManagerState,
    @Inject(PROCESS_MANAGERS_ENABLED) enabled: boolean,
    @Inject(CONFIG) protected readonly config: ChronicleConfig,
    protected readonly commandBus: CommandBus,
    @Optional() @Inject(COORDINATOR) coordinator?: RoleCoordinator | null,
  ) {
    super(store, checkpoints, enabled, coordinator);
  }

  protected override active(): boolean {
    return this.config.automation;
  }

  /** Events imported with `--no-automation` are history: folded into its state, never acted on. */
  protected override reactsTo(event: RecordedEvent): boolean {
    return automates(event);
  }
}

/**
 * Whether the automation acts on an event: not on one imported with automation off (metadata
 * `import.automation: false`, `chronicle import --no-automation`, docs/imports.md).
 */
export const automates = (event: Pick<RecordedEvent, 'metadata'>): boolean =>
  (event.metadata?.import as { automation?: boolean } | undefined)?.automation !== false;
