import { BadRequestException } from '@nestjs/common';
import { type EventStore, UnknownPositionError } from '@chronicle/event-store';

/** A catch handler: a position the store does not know becomes a 400 naming the client's `parameter`. */
export function refusingUnknownPosition(parameter: string): (error: unknown) => never {
  return (error) => {
    if (error instanceof UnknownPositionError) throw new BadRequestException(`${parameter}: ${error.message}`);
    throw error;
  };
}

/**
 * Refuses a client's feed position the store does not know (EventStoreDB takes only positions it
 * handed out) before a live stream or a replay starts from it. A one-event read: cheap.
 */
export async function assertFeedPosition(store: EventStore, position: number, parameter: string): Promise<void> {
  if (position > 0) await store.readAll({ fromPosition: position, maxCount: 1 }).catch(refusingUnknownPosition(parameter));
}
