import type { CommandContext } from '../command-context';

/**
 * Context of a command sent in reaction to an event: caused by that event, in its correlation,
 * with event ids derived from it so that reacting twice appends nothing new.
 */
export const reactionContext = (causeEventId: string, correlationId: string): CommandContext => ({
  actor: 'system:process-manager',
  correlationId,
  causationId: causeEventId,
  idSeed: `reaction|${causeEventId}`,
});
