import type { CommandContext } from '../command-context';

/**
 * Context of a command sent in reaction to an event: caused by that event, in its correlation,
 * with event ids derived from it so that reacting twice appends nothing new. `purpose` tells
 * apart the reactions of different process managers (or actions) to one event that write to the
 * same stream — without it they would get the same ids and the second would be taken for a replay.
 */
export const reactionContext = (causeEventId: string, correlationId: string, purpose?: string): CommandContext => ({
  actor: 'system:process-manager',
  correlationId,
  causationId: causeEventId,
  idSeed: purpose ? `reaction|${purpose}|${causeEventId}` : `reaction|${causeEventId}`,
});

/** The purpose of linking a converted lead to its existing customer (the handler and the process manager send the same command). */
export const LINK_LEAD = 'link-lead';
