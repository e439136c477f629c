import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { SampledAccessLog } from '../http/access-log';
import type { AuthenticatedRequest } from './api-key.guard';
import type { ApiKeyRegistry, Principal } from './api-keys';
import type { PUBLIC_ROUTE_CONFIG } from './access';
import { AddressLimiter, clientAddress } from './address-limit';

/** The OpenAPI document and its UI (served by @nestjs/swagger, outside Nest's guards) are public too. */
const DOCS_ROUTE = /^\/docs(?:[-/]|$)/;

/** A route open without a key: marked by `Public()` (its Fastify route config), or the OpenAPI document. */
export const isPublicRoute = (request: FastifyRequest): boolean =>
  (request.routeOptions.config as Partial<typeof PUBLIC_ROUTE_CONFIG> | undefined)?.chroniclePublic === true ||
  (request.routeOptions.url !== undefined && DOCS_ROUTE.test(request.routeOptions.url));

const BEARER = /^Bearer\s+(\S+)\s*$/i;

/** The principal of `Authorization: Bearer <key>`, or undefined. */
export function principalOf(keys: ApiKeyRegistry, header: string | string[] | undefined): Principal | undefined {
  const match = typeof header === 'string' ? BEARER.exec(header) : null;
  return match ? keys.authenticate(match[1]) : undefined;
}

/** Method and route for a log line: the route pattern, or the path without its query (which may hold anything, a key included). */
export const routeOf = (request: FastifyRequest): string =>
  `${request.method} ${request.routeOptions.url ?? request.url.split('?', 1)[0].slice(0, 200)}`;

/**
 * Authentication before the body is read: an `onRequest` hook checks the key and answers 401 (or
 * 429 past `UNAUTHENTICATED_LIMIT_PER_MINUTE` per client address) before Fastify reads a byte of
 * the body, and closes the connection, so a client without a key costs neither the memory of its
 * body nor a kept-alive connection. The Nest guard still decides what the key's role may do.
 */
export function authenticateBeforeBody(
  instance: FastifyInstance,
  options: { keys: ApiKeyRegistry; limiter: AddressLimiter; accessLog: SampledAccessLog },
): void {
  const { keys, limiter, accessLog } = options;
  instance.addHook('onRequest', async (request: FastifyRequest, reply: FastifyReply) => {
    if (isPublicRoute(request)) return;
    const r = request as AuthenticatedRequest;
    const header = request.headers.authorization;
    const principal = principalOf(keys, header);
    if (principal) {
      r.principal = principal;
      return;
    }
    const address = clientAddress(request.ip);
    const retryAfter = limiter.take(address);
    const status = retryAfter === undefined ? 401 : 429;
    // Never the Authorization header: a wrong key is often a real key of another system.
    accessLog.warn(`ip=${address}`, `${status} ${routeOf(request)} actor=- ip=${address} correlationId=${r.correlationId ?? '-'}`);
    const message =
      status === 401
        ? header
          ? 'invalid API key'
          : 'missing Authorization: Bearer <api key>'
        : `too many requests without a valid API key from this address (at most ${limiter.perMinute} per minute); retry after the Retry-After header's seconds`;
    if (retryAfter !== undefined) reply.header('Retry-After', String(retryAfter));
    // Closing the connection discards the body (if any) as it arrives, unbuffered.
    reply.header('Connection', 'close');
    return reply
      .code(status)
      .send({ statusCode: status, error: status === 401 ? 'Unauthorized' : 'Too Many Requests', message, correlationId: r.correlationId });
  });
}
