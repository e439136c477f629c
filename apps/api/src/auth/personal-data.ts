import { applyDecorators, CallHandler, ExecutionContext, ForbiddenException, Injectable, NestInterceptor, SetMetadata, UseInterceptors } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { map, Observable } from 'rxjs';
import type { Role } from '@chronicle/shared';
import type { AuthenticatedRequest } from './api-key.guard';

/** Roles that see personal fields masked on read routes (they analyse, they do not contact). */
export const MASKED_ROLES: readonly Role[] = ['analyst'];
/** The personal fields of customers and leads that are masked. */
export const PERSONAL_FIELDS = ['name', 'email', 'phone'] as const;

/** "Ada Lovelace" → "A***": enough to tell records apart in a list, not to identify anyone. */
export const mask = (value: unknown): unknown => (typeof value === 'string' && value.length > 0 ? `${[...value][0]}***` : value);

type Json = Record<string, unknown>;
const isObject = (value: unknown): value is Json => value !== null && typeof value === 'object' && !Array.isArray(value);

/** A customer or lead view (or a folded state) with its personal fields masked. */
export function maskPerson<T>(record: T): T {
  if (!isObject(record)) return record;
  const copy: Json = { ...record };
  for (const field of PERSONAL_FIELDS) if (field in copy) copy[field] = mask(copy[field]);
  return copy as T;
}

/** How each read route's body is masked (by shape: a view, a page of views, a fold, a report); timeline entries carry no personal fields. */
export const maskers = {
  record: (body: unknown) => (isObject(body) && isObject(body.state) ? { ...body, state: maskPerson(body.state) } : maskPerson(body)),
  page: (body: unknown) => (isObject(body) && Array.isArray(body.items) ? { ...body, items: body.items.map(maskPerson) } : body),
  report: (body: unknown) => (isObject(body) && Array.isArray(body.top) ? { ...body, top: body.top.map(maskPerson) } : body),
} as const;

const MASK_KEY = 'chronicle:personal-data';

/** Declares that a read route's response holds personal fields, and how to mask them. */
export const PersonalData = (masker: keyof typeof maskers) => applyDecorators(SetMetadata(MASK_KEY, masker), UseInterceptors(PersonalDataInterceptor));

export const seesMasked = (request: AuthenticatedRequest): boolean => !!request.principal && MASKED_ROLES.includes(request.principal.role);

/** Refuses what would reveal masked fields another way (a name search by an analyst). */
export function refuseSearchWhenMasked(request: AuthenticatedRequest, q: string | undefined): void {
  if (q !== undefined && seesMasked(request)) throw new ForbiddenException(`role "${request.principal!.role}" sees personal fields masked and may not search them (q)`);
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
