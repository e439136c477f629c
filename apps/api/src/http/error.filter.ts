import { ArgumentsHost, Catch, ExceptionFilter, HttpException, Logger } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { STATUS_CODES } from 'node:http';
import { inspect } from 'node:util';
import { OwnershipViolation } from '@chronicle/commands';
import { CustomerWasMerged, DomainError } from '@chronicle/domain';
import { UnknownPositionError, WrongExpectedRevisionError } from '@chronicle/event-store';
import { ProjectionNotReadyError, ReadYourWritesTimeoutError } from '@chronicle/projector';
import type { AuthenticatedRequest } from '../auth/api-key.guard';
import { clientAddress } from '../auth/address-limit';
import { routeOf } from '../auth/early-authentication';
import { SampledAccessLog } from './access-log';

/** Statuses that deny access: logged to the `Access` log. */
const DENIED = new Set([401, 403, 429]);

const statusByKind = { rule: 422, 'not-found': 404, conflict: 409, invalid: 400 } as const;

/**
 * The one place errors become HTTP: domain errors by kind, concurrency conflicts as 409,
 * framework errors as they are. Anything else is a 500 with no internals in the body.
 */
@Catch()
export class ErrorFilter implements ExceptionFilter {
  private readonly logger = new Logger('Errors');
  private readonly access = new Logger('Access');

  /** 401 and 429 lines go through `sampled` (a flood must not become a flood of log lines); every 403 is logged. */
  constructor(private readonly sampled: SampledAccessLog = new SampledAccessLog()) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    const reply = host.switchToHttp().getResponse<FastifyReply>();
    const request = host.switchToHttp().getRequest<AuthenticatedRequest>();
    const correlationId = request.correlationId;
    const send = (statusCode: number, body: Record<string, unknown>) => {
      // Every denied request is audited: who (never the key), what, and the correlation id.
      if (DENIED.has(statusCode)) {
        const principal = request.principal;
        const who = principal ? `actor=${principal.actor} role=${principal.role}` : `actor=- ip=${clientAddress(request.ip)}`;
        const line = `${statusCode} ${routeOf(request)} ${who} correlationId=${correlationId ?? '-'}`;
        if (statusCode === 403) this.access.warn(line);
        else this.sampled.warn(principal ? `key ${principal.keyId} (actor ${principal.actor})` : `ip=${clientAddress(request.ip)}`, line);
      }
      void reply.status(statusCode).send({ ...body, statusCode, error: STATUS_CODES[statusCode] ?? 'Error', correlationId });
    };

    if (exception instanceof DomainError) {
      // A merged customer's 409 names its survivor, for the client to address instead.
      const extra = exception instanceof CustomerWasMerged ? { survivorId: exception.survivorId } : {};
      return send(statusByKind[exception.kind], { message: exception.message, code: exception.code, ...extra });
    }
    if (exception instanceof OwnershipViolation) {
      return send(403, { message: exception.message, code: exception.code });
    }
    if (exception instanceof WrongExpectedRevisionError) {
      return send(409, { message: exception.message, code: 'wrong-expected-revision', currentRevision: exception.actual });
    }
    if (exception instanceof UnknownPositionError) {
      return send(400, { message: exception.message, code: 'unknown-position' });
    }
    if (exception instanceof ProjectionNotReadyError || exception instanceof ReadYourWritesTimeoutError) {
      reply.header('Retry-After', '1');
      return send(503, { message: exception.message });
    }
    if (exception instanceof HttpException) {
      const response = exception.getResponse();
      const body = typeof response === 'string' ? { message: response } : (response as Record<string, unknown>);
      return send(exception.getStatus(), body);
    }
    // Fastify's own errors (bad JSON, wrong content type, body too large) carry a 4xx statusCode.
    const status = (exception as { statusCode?: number }).statusCode;
    if (typeof status === 'number' && status >= 400 && status < 500) {
      return send(status, { message: (exception as Error).message });
    }
    // The route pattern, not the URL (its query may hold anything); the correlation id is on the line.
    this.logger.error(`${routeOf(request)} failed: ${(exception as Error)?.stack ?? inspect(exception)}`);
    return send(500, { message: 'internal error; the correlation id identifies it in the logs' });
  }
}
