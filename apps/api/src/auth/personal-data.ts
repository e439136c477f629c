import {
  applyDecorators,
  CallHandler,
  ExecutionContext,
  ForbiddenException,
  Injectable,
  NestInterceptor,
  SetMetadata,
  UseInterceptors,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { map, Observable } from 'rxjs';
import { PersonalFields } from '@chronicle/domain';
import { maskers } from '@chronicle/personal-data';
import type { Role } from '@chronicle/infrastructure';
import type { AuthenticatedRequest } from './api-key.guard';

/** Roles that see personal fields masked on read routes (they analyse, they do not contact). */
export const MASKED_ROLES: readonly Role[] = ['analyst'];

const MASK_KEY = 'chronicle:personal-data';

/** Declares that a read route's response holds personal fields, and how to mask them. */
export const PersonalData = (masker: keyof typeof maskers) =>
  applyDecorators(SetMetadata(MASK_KEY, masker), UseInterceptors(PersonalDataInterceptor));

export const seesMasked = (request: AuthenticatedRequest): boolean => !!request.principal && MASKED_ROLES.includes(request.principal.role);

/** Refuses what would reveal masked fields another way (a name search by an analyst). */
export function refuseSearchWhenMasked(request: AuthenticatedRequest, q: string | undefined): void {
  if (q !== undefined && seesMasked(request))
    throw new ForbiddenException(`role "${request.principal!.role}" sees personal fields masked and may not search them (q)`);
}

/**
 * The sort a list runs with: sorting by a masked field would reveal what the mask hides (the
 * order of the names), so it is refused, and a list whose default sort is one (`defaultSort`)
 * falls back to `maskedDefault` for a role that sees masked fields.
 */
export function sortWhenMasked(
  request: AuthenticatedRequest,
  sort: string | undefined,
  defaultSort: string,
  maskedDefault: string,
): string | undefined {
  if (!seesMasked(request)) return sort;
  const field = (sort ?? defaultSort).replace(/^-/, '');
  if (!(PersonalFields as readonly string[]).includes(field)) return sort;
  if (sort === undefined) return maskedDefault;
  throw new ForbiddenException(
    `role "${request.principal!.role}" sees personal fields masked and may not sort by one (sort=${sort}: "${field}" is masked)`,
  );
}

@Injectable()
export class PersonalDataInterceptor implements NestInterceptor {
  constructor(private readonly reflector: Reflector) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const masker = this.reflector.get<keyof typeof maskers | undefined>(MASK_KEY, context.getHandler());
    if (!masker || !seesMasked(context.switchToHttp().getRequest<AuthenticatedRequest>())) return next.handle();
    return next.handle().pipe(map(maskers[masker]));
  }
}
