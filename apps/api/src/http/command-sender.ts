import { Injectable } from '@nestjs/common';
import { Command, CommandBus } from '@nestjs/cqrs';
import { InvalidInput, resolveOccurredAt } from '@chronicle/domain';
import type { CommandResult } from '@chronicle/commands';

/** The one `compact` (libs/domain), re-exported for the controllers that take it from here. */
export { compact } from '@chronicle/domain';

/** An ISO 8601 value normalised to a UTC instant; one that no Date can hold is a 400 naming the field. */
export function isoInstant(field: string, value: string): string {
  const ms = Date.parse(value);
  if (Number.isNaN(ms)) throw new InvalidInput(field, 'must be a valid ISO 8601 date-time');
  return new Date(ms).toISOString();
}

/** Controllers' one way to the CommandBus: awaited, so a handler's error becomes the HTTP status. */
@Injectable()
export class CommandSender {
  constructor(private readonly commandBus: CommandBus) {}

  send(message: Command<CommandResult>): Promise<CommandResult> {
    return this.commandBus.execute(message);
  }

  /** The command's business time: the client's `occurredAt` (bounded), or now. */
  occurredAt(dto: { occurredAt?: string }): string {
    return resolveOccurredAt(dto.occurredAt, new Date());
  }
}
