import { Inject, Injectable, Logger } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import {
  campaignDecider,
  Command,
  customerDecider,
  dealDecider,
  Decider,
  DomainEvent,
  goalDecider,
  leadDecider,
  Pipeline,
  taskDecider,
} from '@chronicle/domain';
import type { EventStore } from '@chronicle/event-store';
import { PersonalDataEventStore } from '@chronicle/personal-data';
import { ChronicleConfig, CONFIG, EVENT_STORE, PIPELINE } from '@chronicle/infrastructure';
import type { CommandContext, CommandResult } from './command-context';
import { CommandExecutor, Execution } from './command-executor';

/**
 * How a command's stream is read before deciding:
 * - `state`: folded (snapshot + tail), authorised on that state, appended at its revision;
 * - `existence`: only whether the stream exists (`decideOnExistence`), appended with
 *   StreamExists: the cost does not grow with the history (logging an interaction, for all but reps);
 * - `none`: decided on the initial state, appended with Any (a channel's spend stream).
 */
export type LoadMode = 'state' | 'existence' | 'none';

/** A command as sent on the CommandBus (an AggregateMessage). */
export interface SentCommand<C> {
  readonly command: C;
  readonly context: CommandContext;
  /** CaptureLead: the lead's owner, assigned in the same append. */
  readonly ownerId?: string;
  /** RegisterCustomer sent by a person (the API): an owner left unsaid is the caller's, unless customers are auto-assigned. */
  readonly ownerDefaultsToCaller?: boolean;
}

/** A command sent because another one was appended (the after-append hook). */
export interface FollowUp {
  message: SentCommand<unknown>;
  /**
   * Set when a process manager repeats this reaction from the feed: a failure here is logged
   * ("<deferredAs> after <cause> deferred to the process manager") instead of failing the command.
   * Absent: the follow-up is part of the command, its failure is the command's.
   */
  deferredAs?: string;
}

/**
 * How one command type is handled, declared (Eventuous's `On<Command>()…`, Emmett's `handle`).
 * CommandExecutor.run runs the steps in this order:
 * permit → (load: state) check → enrich → load → authorize → decide → append → after; for a caller
 * limited to its own records (a rep), `authorize` also runs before `check`, so a refused caller
 * learns nothing about the records the command names.
 * With `load: 'existence'`: permit → existence → decideOnExistence → check → append → after.
 * Authorisation rules live in ownership.ts; a spec only names the ones that apply.
 */
export interface CommandSpec<S, C extends Command, E extends DomainEvent, F = unknown> {
  /** The command's stream. */
  stream(command: C): string;
  /** Default `state`. */
  load?: LoadMode | ((context: CommandContext, command: C) => LoadMode);
  /** The decider (`state` and `none`), and the fold of the snapshots (`existence`). */
  decider(env: CommandEnvironment, sent: SentCommand<C>): Decider<S, C, E>;
  /**
   * `existence` mode: when the stream's last event is of one of these types, existence is not
   * enough (a merged customer's stream ends so) and the command is decided on the state instead.
   */
  stateAfter?: ReadonlySet<string>;
  /** `existence` mode: decides on whether the stream exists. */
  decideOnExistence?(command: C, exists: boolean): E[];
  /** Authorisation on the command alone, before anything is read. */
  permit?(context: CommandContext, command: C, streamId: string, sent: SentCommand<C>): void;
  /** The records the command refers to (they must exist; a rep's must be its own); returns what `enrich` and `after` need. */
  check?(command: C, context: CommandContext, env: CommandEnvironment): Promise<F>;
  /** A NEW command completed from what `check` found (never the one sent, changed in place). `state` and `none` modes. */
  enrich?(command: C, facts: F, context: CommandContext, env: CommandEnvironment): C;
  /** Authorisation on the state the command is decided on (`state` mode), before the expected-revision check. */
  authorize?(context: CommandContext, streamId: string, state: S, command: C): void;
  /** The id the route answers with (and the customer a conversion made). */
  result(command: C, streamId: string): Pick<CommandResult, 'id' | 'customerId'>;
  /** Follow-up commands, from what was appended (the one after-append hook). */
  after?(execution: Execution<S>, command: C, context: CommandContext, facts: F, env: CommandEnvironment): FollowUp[];
  /** A command with a flow of its own (erasure: key first, then linked records, then the event), run instead of the steps above. */
  run?(command: C, context: CommandContext, env: CommandEnvironment, streamId: string): Promise<CommandResult>;
}

/** One spec per command type of an aggregate's command union. */
export type CommandSpecs<S, C extends Command, E extends DomainEvent> = {
  // `any`: each command type has facts of its own (what its `check` found).
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  [T in C['type']]: CommandSpec<S, Extract<C, { type: T }>, E, any>;
};

/** What specs use: the executor, the stores, the deciders (built on the pipeline) and the configuration. */
@Injectable()
export class CommandEnvironment {
  private readonly logger = new Logger('CommandFollowUp');
  readonly deciders;
  /** Customers registered without an owner are left to the assignment process manager. */
  readonly autoAssignCustomers: boolean;

  constructor(
    readonly executor: CommandExecutor,
    @Inject(EVENT_STORE) readonly store: EventStore,
    readonly personalData: PersonalDataEventStore,
    private readonly commandBus: CommandBus,
    @Inject(PIPELINE) pipeline: Pipeline,
    @Inject(CONFIG) config: Pick<ChronicleConfig, 'automation' | 'assignment'>,
  ) {
    this.deciders = {
      customer: customerDecider,
      lead: leadDecider,
      deal: dealDecider(pipeline),
      task: taskDecider,
      goal: goalDecider,
      campaign: campaignDecider,
    } as const;
    this.autoAssignCustomers = config.automation && config.assignment.strategy !== 'off' && config.assignment.customers;
  }

  /** Runs the spec of `sent`'s command type (a map lookup, not a switch). */
  run<S, C extends Command, E extends DomainEvent>(specs: CommandSpecs<S, C, E>, sent: SentCommand<C>): Promise<CommandResult> {
    const spec = specs[sent.command.type as C['type']] as unknown as CommandSpec<S, C, E> | undefined;
    if (!spec) throw new Error(`no spec for command ${sent.command.type}`);
    return this.executor.run(spec, sent, this);
  }

  /** Sends a command on the CommandBus (follow-ups, the erasure's linked records). */
  send(message: SentCommand<unknown>): Promise<CommandResult> {
    return this.commandBus.execute(message as never);
  }

  /** Runs a follow-up: a deferrable one that fails is left to its process manager. */
  async followUp({ message, deferredAs }: FollowUp): Promise<void> {
    try {
      await this.send(message);
    } catch (error) {
      if (deferredAs === undefined) throw error;
      this.logger.warn(`${deferredAs} after ${message.context.causationId} deferred to the process manager: ${(error as Error).message}`);
    }
  }
}
