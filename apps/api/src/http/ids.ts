import { applyDecorators, ArgumentMetadata, Param, ParseUUIDPipe } from '@nestjs/common';
import { Transform } from 'class-transformer';
import { IsUUID } from 'class-validator';

/**
 * Record ids are UUIDs, and a UUID is case-insensitive on input (RFC 9562 §4): "ABC…" and "abc…"
 * name one record. Every id that comes in (path, body, query) is lower-cased here, the only
 * spelling stored, so an upper-case spelling can neither create a second record nor miss one.
 */
export const lowerCaseId = (value: unknown): unknown => (typeof value === 'string' ? value.toLowerCase() : value);

/** A body or query field holding a record id (validated as a UUID, lower-cased). */
export const IsId = () =>
  applyDecorators(
    Transform(({ value }) => lowerCaseId(value)),
    IsUUID(),
  );

class ParseIdPipe extends ParseUUIDPipe {
  override async transform(value: string, metadata: ArgumentMetadata): Promise<string> {
    // Never null: the pipe is not `optional`, so Nest's transform returns the validated string or throws.
    return String(await super.transform(value, metadata)).toLowerCase();
  }
}

/** A path parameter holding a record id (`:id` by default): a 400 unless a UUID, then lower-cased. */
export const IdParam = (name = 'id') => Param(name, new ParseIdPipe());
