import { applyDecorators, SetMetadata, UseInterceptors } from '@nestjs/common';
import { ApiExtension } from '@nestjs/swagger';
import type { Role } from '@chronicle/shared';
import { IdempotencyInterceptor } from '../http/idempotency.interceptor';
import { MinPositionInterceptor } from '../read/min-position.interceptor';

/**
 * What a route does, as far as authorization cares. Roles are granted accesses in one table;
 * ownership rules (reps see only their own records) slot in beside it.
 */
export type Access = 'write' | 'read' | 'audit' | 'operate' | 'erase' | 'decrypt';

/** Accesses of commands (they get the Idempotency-Key interceptor); the others are queries. */
const COMMANDS: readonly Access[] = ['write', 'erase'];

export const accessByRole: Record<Role, readonly Access[]> = {
  admin: ['write', 'read', 'audit', 'operate', 'erase', 'decrypt'],
  manager: ['write', 'read', 'audit', 'operate', 'erase'],
  rep: ['write', 'read'],
  analyst: ['read'],
  // Downstream services read the audit trail and open sealed personal fields of Kafka messages.
  service: ['audit', 'decrypt'],
};

export const ACCESS_KEY = 'chronicle:access';
export const PUBLIC_KEY = 'chronicle:public';

/**
 * Declares the access a route needs; every non-public route must declare one. It is also in the
 * OpenAPI document (`x-required-access`), so clients (and the authorization matrix test) see it.
 * It also gives the route the interceptors of its kind: `Idempotency-Key` for commands,
 * `?minPosition=` for queries. Per route, not global: each interceptor in Nest's chain costs every
 * request an async-context bind, whether it acts or not.
 */
export const RequiresAccess = (access: Access) =>
  applyDecorators(
    SetMetadata(ACCESS_KEY, access),
    ApiExtension('x-required-access', access),
    ...(COMMANDS.includes(access) ? [UseInterceptors(IdempotencyInterceptor)] : [UseInterceptors(MinPositionInterceptor)]),
  );
/** A route open without credentials (only /health). */
export const Public = () => SetMetadata(PUBLIC_KEY, true);
