import { ExecutionContext, Injectable } from '@nestjs/common';
import { ThrottlerGuard, ThrottlerModule } from '@nestjs/throttler';
import { createHash } from 'node:crypto';
import type { ChronicleConfig } from '@chronicle/shared';
import type { AuthenticatedRequest } from './api-key.guard';
import { PUBLIC_KEY } from './access';

/**
 * Requests per minute per API key (`RATE_LIMIT_PER_MINUTE`, 0 = none); over it, a 429 with
 * `Retry-After`. `/health` is not limited.
 */
export const rateLimitModule = (config: ChronicleConfig) =>
  ThrottlerModule.forRoot({
    throttlers: [{ name: 'default', ttl: 60_000, limit: Math.max(1, config.rateLimitPerMinute) }],
    skipIf: () => config.rateLimitPerMinute === 0,
    // One budget per key across all routes (the default would count each route apart).
    generateKey: (_context, tracker, name) => `${name}:${tracker}`,
    errorMessage: `rate limit: at most ${config.rateLimitPerMinute} requests per minute per API key; retry after the Retry-After header's seconds`,
  });

@Injectable()
export class ApiKeyThrottlerGuard extends ThrottlerGuard {
  /** Counted per presented key (by digest: keys are never kept in clear), else per client address. */
  protected override async getTracker(req: Record<string, unknown>): Promise<string> {
    const request = req as unknown as AuthenticatedRequest;
    const header = request.headers.authorization;
    return typeof header === 'string' ? `key:${createHash('sha256').update(header).digest('base64url')}` : `ip:${request.ip}`;
  }

  protected override async shouldSkip(context: ExecutionContext): Promise<boolean> {
    return this.reflector.getAllAndOverride<boolean>(PUBLIC_KEY, [context.getHandler(), context.getClass()]) === true;
  }
}
