import { CommandHandler, ICommandHandler } from '@nestjs/cqrs';
import {
  AcquireCustomer,
  AggregateNotFound,
  BusinessRuleViolation,
  categoryOf,
  CustomerWasMerged,
  customerDecider,
  CustomerCommand,
  CustomerEvent,
  CustomerState,
  decideLogInteraction,
  EraseCustomerPersonalData,
  MergeCustomer,
  UnmergeCustomer,
  idOf,
  samePersonSubjects,
  streamIdOf,
} from '@chronicle/domain';
import type { CommandContext, CommandResult } from '../command-context';
import { CommandEnvironment, CommandSpec, CommandSpecs } from '../command-spec';
import { CustomerMessage, LeadMessage } from '../messages';
import { recordOnSurvivor } from './merge';
import {
  assertCreatesOwn,
  assertMayArchiveOrRestore,
  assertMayAssign,
  assertMayMerge,
  assertMayReassign,
  assertOwns,
  authorizeOwner,
  ownerScoped,
} from '../ownership';

type Spec<C extends CustomerCommand, F = unknown> = CommandSpec<CustomerState, C, CustomerEvent, F>;

const stream = (command: { data: { customerId: string } }) => streamIdOf('customer', command.data.customerId);
const decider = (env: CommandEnvironment) => env.deciders.customer;
const customerId = (_: unknown, streamId: string) => ({ id: idOf(streamId) });

/** A command on an existing customer: the caller must own it (for a rep). */
const onCustomer = <C extends CustomerCommand>(extra: Partial<Spec<C>> = {}): Spec<C> => ({
  stream,
  decider,
  authorize: authorizeOwner,
  result: customerId,
  ...extra,
});

export const customerCommands: CommandSpecs<CustomerState, CustomerCommand, CustomerEvent> = {
  RegisterCustomer: onCustomer({
    permit: (context, command, streamId, sent) =>
      assertCreatesOwn(context, streamId, ownerOf(command, context, sent.ownerDefaultsToCaller, false)),
    // With auto-assignment of customers on, one the API registers without an owner is left to the
    // assignment process manager; otherwise it is the caller's. What a rep creates is always its own.
    enrich: (command, _, context, env) => {
      const ownerId = ownerOf(command, context, true, env.autoAssignCustomers);
      return ownerId === command.data.ownerId ? command : { ...command, data: { ...command.data, ownerId } };
    },
  }),
  UpdateCustomerProfile: onCustomer({
    authorize: (context, streamId, state, command) => {
      authorizeOwner(context, streamId, state);
      if (state.exists) assertMayReassign(context, streamId, command.data.ownerId, state.ownerId);
    },
  }),
  AssignCustomerOwner: onCustomer({ permit: (context, _, streamId) => assertMayAssign(context, streamId) }),
  ChurnCustomer: onCustomer(),
  ReactivateCustomer: onCustomer(),
  RecordPurchase: onCustomer({ result: (command) => ({ id: command.data.purchaseId }) }),
  /**
   * Anyone but a rep: only the customer's existence is read (the cost does not grow with its
   * history). A rep's interaction needs the owner: the state is loaded from the latest snapshot
   * plus at most a bounded tail (CommandExecutor.load), so this too costs the same whatever the history's length.
   */
  LogInteraction: onCustomer({
    load: (context) => (ownerScoped(context) ? 'state' : 'existence'),
    // The last event of a merged customer's stream is one of these: then existence is not enough,
    // and the state (snapshot + tail) decides, refusing with 409 (docs/merging.md).
    stateAfter: new Set(['CustomerMerged', 'CustomerPersonalDataErased', 'CustomerLeadLinked']),
    decideOnExistence: decideLogInteraction,
    check: async (command, context, env) => {
      if (command.data.dealId === undefined) return;
      if (ownerScoped(context)) {
        // The customer first (a 404, or a 403 for a rep's other-owner customer), then the deal it names.
        const streamId = stream(command);
        const { state } = await env.executor.load(customerDecider, streamId);
        if (!state.exists) throw new AggregateNotFound(streamId);
        assertOwns(context, streamId, state.ownerId);
      }
      await assertDealOf(env, context, command.data.customerId, command.data.dealId);
    },
    result: (command) => ({ id: command.data.interactionId }),
  }),
  /** Sent as the consequence of a won deal: one of a merged customer acquires its survivor (docs/merging.md). */
  AcquireCustomer: {
    stream,
    decider,
    run: (command, context, env, streamId) => toSurvivor(env, streamId, command, context),
    result: customerId,
  },
  EnrollCustomer: onCustomer(),
  TagCustomer: onCustomer(),
  ArchiveCustomer: onCustomer({ permit: (context, _, streamId) => assertMayArchiveOrRestore(context, streamId) }),
  RestoreCustomer: onCustomer({ permit: (context, _, streamId) => assertMayArchiveOrRestore(context, streamId) }),
  /** A lead converted into this existing customer; linked to an erased customer (a conversion that raced the erasure), it is erased too. */
  LinkLead: {
    stream,
    decider,
    after: (execution, command, context) =>
      execution.state.personalDataErased
        ? [{ message: erasureOf(streamIdOf('lead', command.data.leadId), stream(command), command.occurredAt, context) }]
        : [],
    result: (command) => ({ id: command.data.customerId }),
  },
  EraseCustomerPersonalData: {
    stream,
    decider,
    run: (command, context, env, streamId) => erase(env, streamId, command, context),
    result: customerId,
  },
  MergeCustomer: {
    stream,
    decider,
    run: (command, context, env, streamId) => merge(env, streamId, command, context),
    result: customerId,
  },
  UnmergeCustomer: {
    stream,
    decider,
    run: (command, context, env, streamId) => merge(env, streamId, command, context),
    result: customerId,
  },
  // The survivor's side, sent by merge() and the merge process manager only.
  RecordMerge: { stream, decider, result: customerId },
  RecordUnmerge: { stream, decider, result: customerId },
};

/**
 * Merge and unmerge (docs/merging.md): decided on the merged customer's stream, with what the
 * survivor's record says, then recorded on the survivor's (recordOnSurvivor, repeated from the feed
 * by the merge process manager after a crash in between).
 */
async function merge(
  env: CommandEnvironment,
  streamId: string,
  command: MergeCustomer | UnmergeCustomer,
  context: CommandContext,
): Promise<CommandResult> {
  assertMayMerge(context, streamId);
  let decided: MergeCustomer | UnmergeCustomer = command;
  if (command.type === 'MergeCustomer') {
    const { state } = await env.executor.load(customerDecider, streamIdOf('customer', command.data.intoId));
    const survivor = { exists: state.exists, archived: state.archived, mergedInto: state.mergedInto };
    decided = { ...command, data: { ...command.data, survivor } };
  }
  const execution = await env.executor.execute(customerDecider, streamId, decided, context);
  const side = {
    load: async (id: string) => (await env.executor.load(customerDecider, id)).state,
    send: (message: CustomerMessage) => env.send(message),
  };
  for (const event of execution.events) {
    if (event.type !== 'CustomerMerged' && event.type !== 'CustomerUnmerged') continue;
    const undone = await recordOnSurvivor(event as Parameters<typeof recordOnSurvivor>[0], context.correlationId, side);
    if (undone) throw undone;
  }
  return { id: command.data.customerId, streamId, revision: execution.revision, position: execution.position };
}

/** Runs a consequence on its customer, or on the survivor of a merged one. */
async function toSurvivor(
  env: CommandEnvironment,
  streamId: string,
  command: AcquireCustomer,
  context: CommandContext,
): Promise<CommandResult> {
  try {
    const execution = await env.executor.execute(customerDecider, streamId, command, context);
    return { id: command.data.customerId, streamId, revision: execution.revision, position: execution.position };
  } catch (error) {
    if (!(error instanceof CustomerWasMerged)) throw error;
    return env.send(new CustomerMessage({ ...command, data: { ...command.data, customerId: error.survivorId } }, context));
  }
}

/** The owner a RegisterCustomer names; one the API left unsaid is the caller's, unless customers are auto-assigned. */
function ownerOf(
  command: Extract<CustomerCommand, { type: 'RegisterCustomer' }>,
  context: CommandContext,
  defaultsToCaller: boolean | undefined,
  autoAssign: boolean,
): string | undefined {
  if (command.data.ownerId !== undefined || !defaultsToCaller) return command.data.ownerId;
  return autoAssign && !ownerScoped(context) ? undefined : context.actor;
}

/**
 * An interaction about a deal names one of this customer's deals, and for a rep one it owns
 * (its current owner). A deal's customer never changes, so for everyone else its first event
 * (DealOpened) says all: one event read, whatever the deal's history.
 */
async function assertDealOf(env: CommandEnvironment, context: CommandContext, customerId: string, dealId: string): Promise<void> {
  const dealStream = streamIdOf('deal', dealId);
  let deal: { customerId?: string; ownerId?: string } | undefined;
  if (ownerScoped(context)) {
    const { state } = await env.executor.load(env.deciders.deal, dealStream);
    deal = state.exists ? state : undefined;
  } else {
    const [opened] = await env.store.readStream(dealStream, { maxCount: 1 });
    deal = opened?.data as { customerId?: string } | undefined;
  }
  if (!deal) throw new BusinessRuleViolation(`dealId: ${dealStream} does not exist`, 'unknown-deal');
  if (deal.customerId !== customerId)
    throw new BusinessRuleViolation(
      `dealId: ${dealStream} is a deal of another customer, not of ${streamIdOf('customer', customerId)}`,
      'deal-of-another-customer',
    );
  assertOwns(context, dealStream, deal.ownerId);
}

/**
 * Crypto-shredding: the key goes first, then the event records it. A crash in between leaves
 * the data erased and the retry appends the event; the other order could record an erasure
 * whose key survived. Every lead that became this person (samePersonSubjects) is erased before
 * the customer's event, so a recorded CustomerPersonalDataErased means they are all gone, and a
 * retry after a crash anywhere finishes the job: each step is a no-op once done.
 */
async function erase(
  env: CommandEnvironment,
  streamId: string,
  command: EraseCustomerPersonalData,
  context: CommandContext,
): Promise<CommandResult> {
  const { customerId } = command.data;
  if ((await env.store.streamRevision(streamId)) < 0) throw new AggregateNotFound(streamId);
  await env.personalData.erase(streamId);
  const erased = new Set<string>();
  const { state } = await env.executor.load(customerDecider, streamId);
  await eraseSubjects(env, samePersonSubjects(state), streamId, command.occurredAt, context, erased);
  const result = await env.executor.execute(customerDecider, streamId, command, context);
  env.executor.forgetSnapshots(streamId); // they hold the state as folded before: names, emails
  // A lead linked between the load and the append (a conversion racing the erasure) is in this state.
  await eraseSubjects(env, samePersonSubjects(result.state), streamId, command.occurredAt, context, erased);
  return { id: customerId, streamId, revision: result.revision, position: result.position };
}

/** The erasure of `subject`, the same person as the customer `streamId`. */
function erasureOf(subject: string, streamId: string, occurredAt: string, context: CommandContext): CustomerMessage | LeadMessage {
  // Event ids derive from the person erased, so a retried erasure recognises its earlier appends.
  const sub = { ...context, idSeed: `erasure|${streamId}`, expectedRevision: undefined };
  return categoryOf(subject) === 'lead'
    ? new LeadMessage({ type: 'EraseLeadPersonalData', data: { leadId: idOf(subject) }, occurredAt }, sub)
    : new CustomerMessage({ type: 'EraseCustomerPersonalData', data: { customerId: idOf(subject) }, occurredAt }, sub);
}

/** Erases `subjects`, the same person as the customer `streamId`, except those in `erased` (which it extends). */
async function eraseSubjects(
  env: CommandEnvironment,
  subjects: string[],
  streamId: string,
  occurredAt: string,
  context: CommandContext,
  erased: Set<string>,
): Promise<void> {
  for (const subject of subjects) {
    if (erased.has(subject)) continue;
    await env.send(erasureOf(subject, streamId, occurredAt, context));
    erased.add(subject);
  }
}

/** The CommandBus entry point: runs the command's spec. */
@CommandHandler(CustomerMessage)
export class CustomerHandler implements ICommandHandler<CustomerMessage, CommandResult> {
  constructor(private readonly env: CommandEnvironment) {}

  execute(message: CustomerMessage): Promise<CommandResult> {
    return this.env.run(customerCommands, message);
  }
}
