import { applyDecorators, SetMetadata, UseInterceptors } from '@nestjs/common';
import { RouteConfig } from '@nestjs/platform-fastify';
import { ApiExtension } from '@nestjs/swagger';
import type { Role } from '@chronicle/infrastructure';
import { IdempotencyInterceptor } from '../http/idempotency.interceptor';
import { MinPositionInterceptor } from '../read/min-position.interceptor';

/**
 * What a route does, as far as authorization cares. Roles are granted accesses in one table, and
 * each role sees either every record or only those it owns (`recordScopeByRole`).
 * - `write`: commands on customers, leads, deals and tasks
 * - `manage`: campaigns, spend, reassigning an owner, and archiving or restoring a customer, lead or deal
 * - `read`: the records' read routes (views, lists, timelines, `?asOf=`)
 * - `report`: the reports (a role scoped to its own records: only those of its own figures)
 * - `audit`: the raw audit trail and the operational status routes
 * - `operate`: rebuilding projections, and retrying or skipping the event a projection or process manager stopped on
 * - `erase`: erasing a customer's or lead's personal data (crypto-shredding)
 * - `decrypt`: the personal-data keys that open sealed fields of Kafka messages
 */
export type Access = 'write' | 'manage' | 'read' | 'report' | 'audit' | 'operate' | 'erase' | 'decrypt';

export const accessByRole: Record<Role, readonly Access[]> = {
  admin: ['write', 'manage', 'read', 'report', 'audit', 'operate', 'erase', 'decrypt'],
  manager: ['write', 'manage', 'read', 'report', 'audit', 'operate', 'erase'],
  // A rep's `report` covers the reports of its own figures (ReportDefinition.ownerScoped).
  rep: ['write', 'read', 'report'],
  analyst: ['read', 'report'],
  // Downstream services read the audit trail and open sealed personal fields of Kafka messages.
  service: ['audit', 'decrypt'],
};

/**
 * Which customers, leads, deals and tasks a role's `write` and `read` cover: `all`, or `own` (those
 * whose `ownerId` is the caller's actor; lists are filtered to them, anything else is a 403).
 */
export const recordScopeByRole: Record<Role, 'all' | 'own'> = {
  admin: 'all',
  manager: 'all',
  rep: 'own',
  analyst: 'all',
  service: 'all',
};

/** Accesses whose routes are commands (they get the `Idempotency-Key` interceptor). */
const COMMAND_ACCESSES: ReadonlySet<Access> = new Set(['write', 'manage', 'erase']);

export const ACCESS_KEY = 'chronicle:access';
export const EVERY_RECORD_KEY = 'chronicle:every-record';

/**
 * On routes whose answers cover every record whatever the caller (report runs): refused, before
 * the body is validated, to a role limited to its own records.
 */
export const RequiresEveryRecord = () => SetMetadata(EVERY_RECORD_KEY, true);
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
    ...(COMMAND_ACCESSES.has(access) ? [UseInterceptors(IdempotencyInterceptor)] : [UseInterceptors(MinPositionInterceptor)]),
  );
/** Fastify route config of the routes open without a key: the authentication hook reads it before the body (early-authentication.ts). */
export const PUBLIC_ROUTE_CONFIG = { chroniclePublic: true } as const;

/** A route open without credentials (/health, and the dashboard's page and assets). On a handler: the Fastify route config is per route. */
export const Public = () => applyDecorators(SetMetadata(PUBLIC_KEY, true), RouteConfig(PUBLIC_ROUTE_CONFIG));
