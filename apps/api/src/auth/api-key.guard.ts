import { CanActivate, ExecutionContext, ForbiddenException, Injectable, UnauthorizedException } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { FastifyRequest } from 'fastify';
import { Access, ACCESS_KEY, accessByRole, EVERY_RECORD_KEY, PUBLIC_KEY, recordScopeByRole } from './access';
import { ApiKeyRegistry, Principal } from './api-keys';
import { principalOf } from './early-authentication';

export type AuthenticatedRequest = FastifyRequest & { principal?: Principal; correlationId?: string };

/**
 * The role must grant the route's access. The key itself was checked before the body was read
 * (early-authentication.ts); it is checked here again only if that hook did not run.
 */
@Injectable()
export class ApiKeyGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly keys: ApiKeyRegistry,
  ) {}

  canActivate(context: ExecutionContext): boolean {
    const targets = [context.getHandler(), context.getClass()];
    if (this.reflector.getAllAndOverride<boolean>(PUBLIC_KEY, targets)) return true;
    const request = context.switchToHttp().getRequest<AuthenticatedRequest>();
    const header = request.headers.authorization;
    const principal = request.principal ?? principalOf(this.keys, header);
    if (!principal) {
      throw new UnauthorizedException(header ? 'invalid API key' : 'missing Authorization: Bearer <api key>');
    }
    request.principal = principal;
    const access = this.reflector.getAllAndOverride<Access>(ACCESS_KEY, targets);
    if (!access || !accessByRole[principal.role].includes(access)) {
      // Denials are logged (with actor, route and correlation id) by the ErrorFilter.
      throw new ForbiddenException(`role "${principal.role}" may not ${access ?? 'use'} this route`);
    }
    if (recordScopeByRole[principal.role] === 'own' && this.reflector.getAllAndOverride<boolean>(EVERY_RECORD_KEY, targets))
      throw new ForbiddenException(`role "${principal.role}" sees only its own records; this route covers everyone's`);
    return true;
  }
}
