import { applyDecorators, SetMetadata } from '@nestjs/common';
import { ApiExtension } from '@nestjs/swagger';
import type { Role } from '@chronicle/shared';

/**
 * What a route does, as far as authorization cares. Roles are granted accesses in one table;
 * ownership rules (reps see only their own records) slot in beside it.
 */
export type Access = 'write' | 'read' | 'audit' | 'operate';

export const accessByRole: Record<Role, readonly Access[]> = {
  admin: ['write', 'read', 'audit', 'operate'],
  manager: ['write', 'read', 'audit', 'operate'],
  rep: ['write', 'read'],
  analyst: ['read'],
  service: ['audit'],
};

export const ACCESS_KEY = 'chronicle:access';
export const PUBLIC_KEY = 'chronicle:public';

/**
 * Declares the access a route needs; every non-public route must declare one. It is also in the
 * OpenAPI document (`x-required-access`), so clients (and the authorization matrix test) see it.
 */
export const RequiresAccess = (access: Access) => applyDecorators(SetMetadata(ACCESS_KEY, access), ApiExtension('x-required-access', access));
/** A route open without credentials (only /health). */
export const Public = () => SetMetadata(PUBLIC_KEY, true);
