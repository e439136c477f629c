import {
  BadRequestException,
  CallHandler,
  ExecutionContext,
  HttpStatus,
  Inject,
  Injectable,
  NestInterceptor,
  UnprocessableEntityException,
} from '@nestjs/common';
import { HTTP_CODE_METADATA } from '@nestjs/common/constants';
import { Reflector } from '@nestjs/core';
import type { FastifyReply } from 'fastify';
import { createHash } from 'node:crypto';
import { from, lastValueFrom, Observable } from 'rxjs';
import type { IdempotencyStore } from '@chronicle/cluster';
import { STATE_STORE } from '@chronicle/infrastructure';
import type { AuthenticatedRequest } from '../auth/api-key.guard';

type Request = AuthenticatedRequest & { idempotencyKey?: string };

/**
 * `Idempotency-Key`: the first result of a command is kept per actor and key; a retry of the
 * same request gets that result again (header `Idempotent-Replayed: true`) and appends nothing.
 * The same key on a different request is a 422. Concurrent retries in this process wait for the
 * first; across processes, the deterministic event ids let the store recognise the repeat.
 */
@Injectable()
export class IdempotencyInterceptor implements NestInterceptor {
  private readonly inFlight = new Map<string, Promise<unknown>>();

  constructor(
    @Inject(STATE_STORE) private readonly store: IdempotencyStore,
    private readonly reflector: Reflector,
  ) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const request = context.switchToHttp().getRequest<Request>();
    const header = request.headers['idempotency-key'];
    if (header === undefined || !['POST', 'PATCH', 'DELETE'].includes(request.method)) return next.handle();
    const key = Array.isArray(header) ? header[0] : header;
    if (!/^[\x21-\x7e]{1,255}$/.test(key)) throw new BadRequestException('Idempotency-Key: must be 1–255 visible ASCII characters');
    request.idempotencyKey = key;
    const actor = request.principal!.actor;
    const slot = `${actor}\n${key}`;
    const requestHash = createHash('sha256')
      .update(`${request.method} ${request.url}\n${JSON.stringify(request.body ?? null)}`)
      .digest('hex');
    const statusCode =
      this.reflector.get<number>(HTTP_CODE_METADATA, context.getHandler()) ??
      (request.method === 'POST' ? HttpStatus.CREATED : HttpStatus.OK);
    const reply = context.switchToHttp().getResponse<FastifyReply>();

    const run = async (): Promise<unknown> => {
      const previous = this.inFlight.get(slot);
      if (previous) await previous.catch(() => undefined);
      const stored = await this.store.findResult(actor, key);
      if (stored) {
        if (stored.requestHash !== requestHash) {
          throw new UnprocessableEntityException(`Idempotency-Key "${key}" was already used for a different request`);
        }
        reply.header('Idempotent-Replayed', 'true');
        reply.status(stored.statusCode);
        return stored.body;
      }
      const result = lastValueFrom(next.handle(), { defaultValue: undefined });
      this.inFlight.set(slot, result);
      try {
        const body = await result;
        await this.store.saveResult(actor, key, { requestHash, statusCode, body, createdAt: new Date().toISOString() });
        return body;
      } finally {
        if (this.inFlight.get(slot) === result) this.inFlight.delete(slot);
      }
    };
    return from(run());
  }
}
