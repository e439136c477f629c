import { BadRequestException, createParamDecorator, ExecutionContext } from '@nestjs/common';
import type { CommandContext } from '@chronicle/commands';
import type { AuthenticatedRequest } from '../auth/api-key.guard';
import { ownerScopeOf } from '../auth/ownership';

/** Parses `If-Match: <revision>` (a plain or quoted integer, as an ETag). */
export function parseIfMatch(header: string | string[] | undefined): number | undefined {
  if (header === undefined) return undefined;
  const value = (Array.isArray(header) ? header[0] : header)
    .trim()
    .replace(/^W\//, '')
    .replace(/^"(.*)"$/, '$1');
  if (!/^\d{1,15}$/.test(value)) throw new BadRequestException('If-Match: must be a stream revision (a non-negative integer)');
  return Number(value);
}

/**
 * The command's context from the request: the authenticated actor, correlation and causation
 * ids, the expected revision (If-Match header or `expectedRevision` body field) and the
 * idempotency key.
 */
export const Context = createParamDecorator((_: unknown, ctx: ExecutionContext): CommandContext => {
  const request = ctx.switchToHttp().getRequest<AuthenticatedRequest & { causationId?: string; idempotencyKey?: string }>();
  const body = (request.body ?? {}) as { expectedRevision?: unknown };
  const fromHeader = parseIfMatch(request.headers['if-match']);
  const fromBody = typeof body.expectedRevision === 'number' ? body.expectedRevision : undefined;
  if (fromHeader !== undefined && fromBody !== undefined && fromHeader !== fromBody) {
    throw new BadRequestException(`If-Match (${fromHeader}) and expectedRevision (${fromBody}) disagree`);
  }
  const context: CommandContext = {
    actor: request.principal!.actor,
    correlationId: request.correlationId!,
    causationId: request.causationId!,
    expectedRevision: fromHeader ?? fromBody,
  };
  const ownerScope = ownerScopeOf(request.principal);
  if (ownerScope !== undefined) context.ownerScope = ownerScope;
  if (request.idempotencyKey) {
    context.idSeed = `idempotency|${context.actor}|${request.idempotencyKey}`;
    context.metadata = { idempotencyKey: request.idempotencyKey };
  }
  return context;
});

export const Actor = createParamDecorator((_: unknown, ctx: ExecutionContext): string => {
  return ctx.switchToHttp().getRequest<AuthenticatedRequest>().principal!.actor;
});
