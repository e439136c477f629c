import { CommandHandler, ICommandHandler } from '@nestjs/cqrs';
import {
  assertNotMerged,
  AggregateNotFound,
  BusinessRuleViolation,
  CaptureLead,
  customerDecider,
  customerFromLead,
  Decider,
  leadDecider,
  LeadCommand,
  LeadEvent,
  LeadState,
  rule,
  streamIdOf,
} from '@chronicle/domain';
import type { CommandResult } from '../command-context';
import { CommandEnvironment, CommandSpec, CommandSpecs, FollowUp } from '../command-spec';
import { CustomerMessage, LeadMessage } from '../messages';
import { assertCreatesOwn, assertMayArchiveOrRestore, assertMayAssign, assertOwns, authorizeOwner, ownerScoped } from '../ownership';
import { LINK_LEAD, reactionContext } from '../process-managers/reaction-context';

type Spec<C extends LeadCommand, F = unknown> = CommandSpec<LeadState, C, LeadEvent, F>;

/**
 * The lead decider, plus capture with an owner: LeadCaptured and LeadAssigned in one append, so a
 * lead captured by a rep is never, even for a moment, unowned. Same fold (snapshots stay valid).
 * Only CaptureLead's spec uses it.
 */
const captureWithOwner = (ownerId: string): Decider<LeadState, CaptureLead, LeadEvent> => ({
  ...leadDecider,
  decide(command, state) {
    const captured = leadDecider.decide(command, state);
    const after = captured.reduce(leadDecider.evolve, state);
    const assign: LeadCommand = {
      type: 'AssignLead',
      data: { leadId: command.data.leadId, ownerId, strategy: 'capture' },
      occurredAt: command.occurredAt,
    };
    return [...captured, ...leadDecider.decide(assign, after)];
  },
});

const stream = (command: { data: { leadId: string } }) => streamIdOf('lead', command.data.leadId);

/** A command on a lead: the caller must own it (for a rep). */
const onLead = <C extends LeadCommand, F = unknown>(extra: Partial<Spec<C, F>> = {}): Spec<C, F> => ({
  stream,
  decider: () => leadDecider,
  authorize: authorizeOwner,
  result: (command) => ({ id: command.data.leadId }),
  ...extra,
});

export const leadCommands: CommandSpecs<LeadState, LeadCommand, LeadEvent> = {
  CaptureLead: onLead({
    permit: (context, _, streamId, sent) => assertCreatesOwn(context, streamId, sent.ownerId),
    decider: (_, sent) => (sent.ownerId !== undefined ? captureWithOwner(sent.ownerId) : leadDecider),
    // A lead from a campaign counts for it in every campaign figure: the campaign must exist.
    check: async (command, _, env) => {
      const campaignStream = command.data.campaignId === undefined ? undefined : streamIdOf('campaign', command.data.campaignId);
      if (campaignStream && (await env.store.streamRevision(campaignStream)) < 0) {
        throw new BusinessRuleViolation(`campaignId: ${campaignStream} does not exist`, 'unknown-campaign');
      }
    },
  }),
  ScoreLead: onLead(),
  AssignLead: onLead({ permit: (context, _, streamId) => assertMayAssign(context, streamId) }),
  QualifyLead: onLead(),
  DisqualifyLead: onLead(),
  ConvertLead: onLead<Extract<LeadCommand, { type: 'ConvertLead' }>, { customerIsNew: boolean }>({
    check: async (command, context, env) => {
      const customerStream = streamIdOf('customer', command.data.customerId);
      const customer = await env.executor.load(customerDecider, customerStream);
      // Converting into an existing customer attaches the lead to it: a rep's own customers only.
      if (customer.state.exists && ownerScoped(context)) assertOwns(context, customerStream, customer.state.ownerId);
      rule(
        !customer.state.personalDataErased,
        `the personal data of ${customerStream} was erased; a lead cannot be converted into it`,
        'personal-data-erased',
      );
      rule(!customer.state.archived, `customerId: ${customerStream} is archived; restore it first`, 'archived');
      assertNotMerged(customer.state, customerStream);
      return { customerIsNew: !customer.state.exists };
    },
    after: (execution, _, context, { customerIsNew }) => {
      const converted = execution.events.find((e) => e.type === 'LeadConverted');
      if (!converted) return [];
      const { customerId, leadId } = converted.data as { customerId: string; leadId: string };
      const followUp: FollowUp = customerIsNew
        ? // Conversion registers the customer with the lead's source (and owner); the process manager repeats it after a crash.
          {
            message: new CustomerMessage(
              customerFromLead(execution.state, customerId, converted.occurredAt),
              reactionContext(converted.eventId, context.correlationId),
            ),
            deferredAs: 'registration',
          }
        : // Conversion into an existing customer records the lead on the customer's stream too, so
          // that erasing the customer finds it; the acquisition process manager repeats it after a crash.
          {
            message: new CustomerMessage(
              { type: 'LinkLead', data: { customerId, leadId }, occurredAt: converted.occurredAt },
              reactionContext(converted.eventId, context.correlationId, LINK_LEAD),
            ),
            deferredAs: 'linking',
          };
      return [followUp];
    },
    result: (command) => ({ id: command.data.leadId, customerId: command.data.customerId }),
  }),
  LogLeadInteraction: onLead(),
  ArchiveLead: onLead({ permit: (context, _, streamId) => assertMayArchiveOrRestore(context, streamId) }),
  RestoreLead: onLead({ permit: (context, _, streamId) => assertMayArchiveOrRestore(context, streamId) }),
  EraseLeadPersonalData: onLead({
    // Key first, then the event (see the customer's erasure).
    run: async (command, context, env, streamId) => {
      if ((await env.store.streamRevision(streamId)) < 0) throw new AggregateNotFound(streamId);
      await env.personalData.erase(streamId);
      const result = await env.executor.execute(leadDecider, streamId, command, context, (state) =>
        authorizeOwner(context, streamId, state),
      );
      env.executor.forgetSnapshots(streamId);
      return { id: command.data.leadId, streamId, revision: result.revision, position: result.position };
    },
  }),
};

/** The CommandBus entry point: runs the command's spec. */
@CommandHandler(LeadMessage)
export class LeadHandler implements ICommandHandler<LeadMessage, CommandResult> {
  constructor(private readonly env: CommandEnvironment) {}

  execute(message: LeadMessage): Promise<CommandResult> {
    return this.env.run(leadCommands, message);
  }
}
