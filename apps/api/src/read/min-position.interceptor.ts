import { BadRequestException, CallHandler, ExecutionContext, Injectable, NestInterceptor } from '@nestjs/common';
import { from, Observable, switchMap } from 'rxjs';
import { ReadModels } from '@chronicle/projector';
import type { FastifyRequest } from 'fastify';

export const READ_YOUR_WRITES_TIMEOUT_MS = 5000;

/**
 * Read-your-writes: `?minPosition=<position from a command's response>` on any query waits until
 * the projections have applied that event (at most 5 s, then 503). The parameter is taken off the
 * query here, so the routes' own query DTOs never see it.
 */
@Injectable()
export class MinPositionInterceptor implements NestInterceptor {
  constructor(private readonly readModels: ReadModels) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const request = context.switchToHttp().getRequest<FastifyRequest>();
    const query = request.query as Record<string, unknown> | undefined;
    if (request.method !== 'GET' || !query || !('minPosition' in query)) return next.handle();
    const raw = query.minPosition;
    delete query.minPosition;
    if (typeof raw !== 'string' || !/^\d{1,15}$/.test(raw))
      throw new BadRequestException('minPosition: must be a non-negative integer (a position returned by a command)');
    return from(this.readModels.waitFor(Number(raw), READ_YOUR_WRITES_TIMEOUT_MS)).pipe(switchMap(() => next.handle()));
  }
}
