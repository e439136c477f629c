import { CommandHandler, ICommandHandler } from '@nestjs/cqrs';
import {
  assertNotMerged,
  BusinessRuleViolation,
  customerDecider,
  DealCommand,
  DealEvent,
  DealState,
  DealWon,
  onDealWon,
  streamIdOf,
} from '@chronicle/domain';
import type { CommandResult } from '../command-context';
import { CommandEnvironment, CommandSpec, CommandSpecs } from '../command-spec';
import { CustomerMessage, DealMessage } from '../messages';
import {
  assertCreatesOwn,
  assertMayArchiveOrRestore,
  assertMayAssign,
  assertMayReopen,
  assertOwns,
  authorizeOwner,
  ownerScoped,
} from '../ownership';
import { reactionContext } from '../process-managers/reaction-context';

type Spec<C extends DealCommand, F = unknown> = CommandSpec<DealState, C, DealEvent, F>;

/** A command on a deal: the caller must own it (for a rep); the first won deal acquires the customer. */
const onDeal = <C extends DealCommand, F = unknown>(extra: Partial<Spec<C, F>> = {}): Spec<C, F> => ({
  stream: (command) => streamIdOf('deal', command.data.dealId),
  decider: (env) => env.deciders.deal,
  authorize: authorizeOwner,
  after: (execution, _, context) => {
    // Done here so the client sees it at once; the acquisition process manager repeats it from the
    // feed if this process dies in between (the command is idempotent and its event ids derive from the DealWon event).
    const won = execution.events.find((e) => e.type === 'DealWon');
    if (!won) return [];
    const acquire = onDealWon({ type: 'DealWon', data: won.data as DealWon['data'], occurredAt: won.occurredAt });
    return [{ message: new CustomerMessage(acquire, reactionContext(won.eventId, context.correlationId)), deferredAs: 'acquisition' }];
  },
  result: (command) => ({ id: command.data.dealId }),
  ...extra,
});

export const dealCommands: CommandSpecs<DealState, DealCommand, DealEvent> = {
  OpenDeal: onDeal<Extract<DealCommand, { type: 'OpenDeal' }>, { source: string }>({
    permit: (context, command, streamId) => assertCreatesOwn(context, streamId, command.data.ownerId),
    check: async (command, context, env) => {
      const customerStream = streamIdOf('customer', command.data.customerId);
      // The customer's current state (snapshot + tail): a rep opens deals only for customers it owns,
      // and no one for a merged customer (docs/merging.md).
      const customer = await env.executor.load(customerDecider, customerStream);
      if (!customer.state.exists) throw new BusinessRuleViolation(`customerId: ${customerStream} does not exist`, 'unknown-customer');
      if (ownerScoped(context)) assertOwns(context, customerStream, customer.state.ownerId);
      assertNotMerged(customer.state, customerStream);
      return { source: customer.state.source };
    },
    // An empty source is the customer's.
    enrich: (command, customer) => (command.data.source ? command : { ...command, data: { ...command.data, source: customer.source } }),
  }),
  ChangeDealStage: onDeal(),
  UpdateDeal: onDeal(),
  WinDeal: onDeal(),
  LoseDeal: onDeal(),
  ReopenDeal: onDeal({ permit: (context, _, streamId) => assertMayReopen(context, streamId) }),
  AssignDealOwner: onDeal({ permit: (context, _, streamId) => assertMayAssign(context, streamId) }),
  ArchiveDeal: onDeal({ permit: (context, _, streamId) => assertMayArchiveOrRestore(context, streamId) }),
  RestoreDeal: onDeal({ permit: (context, _, streamId) => assertMayArchiveOrRestore(context, streamId) }),
};

/** The CommandBus entry point: runs the command's spec. */
@CommandHandler(DealMessage)
export class DealHandler implements ICommandHandler<DealMessage, CommandResult> {
  constructor(private readonly env: CommandEnvironment) {}

  execute(message: DealMessage): Promise<CommandResult> {
    return this.env.run(dealCommands, message);
  }
}
