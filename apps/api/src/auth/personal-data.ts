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
import { PersonalFields, personOfTask } from '@chronicle/domain';
import type { Role } from '@chronicle/infrastructure';
import type { AuthenticatedRequest } from './api-key.guard';

/** Roles that see personal fields masked on read routes (they analyse, they do not contact). */
export const MASKED_ROLES: readonly Role[] = ['analyst'];

/**
 * "Ada Lovelace" → "A***": enough to tell records apart in a list, not to identify anyone. Other
 * values (the free-form `attributes` object, whose keys may be personal too) become "***".
 */
export const mask = (value: unknown): unknown => {
  if (value === null || value === undefined || value === '') return value;
  return typeof value === 'string' ? `${[...value][0]}***` : '***';
};

type Json = Record<string, unknown>;
const isObject = (value: unknown): value is Json => value !== null && typeof value === 'object' && !Array.isArray(value);

/** A copy with every personal field (the domain's PersonalFields) masked. */
export function maskFields<T>(record: T): T {
  if (!isObject(record)) return record;
  const copy: Json = { ...record };
  for (const field of PersonalFields) if (field in copy) copy[field] = mask(copy[field]);
  return copy as T;
}

const pageOf = (item: (value: unknown) => unknown) => (body: unknown) =>
  isObject(body) && Array.isArray(body.items) ? { ...body, items: body.items.map(item) } : body;
/** A task holds personal text only when it is about a customer or lead. */
const maskTask = (task: unknown) => (isObject(task) && personOfTask(task) !== undefined ? maskFields(task) : task);
/** Every timeline entry is about the customer: its details' personal text (subject, outcome, description) is masked. */
const maskEntry = (entry: unknown) =>
  isObject(entry) && isObject(entry.details) ? { ...entry, details: maskFields(entry.details) } : entry;

/** How each read route's body is masked, by shape. */
export const maskers = {
  /** A customer or lead view, or a folded state (`?asOf=`). */
  record: (body: unknown) => (isObject(body) && isObject(body.state) ? { ...body, state: maskFields(body.state) } : maskFields(body)),
  /** A page of customer or lead views. */
  page: pageOf(maskFields),
  report: (body: unknown) => (isObject(body) && Array.isArray(body.top) ? { ...body, top: body.top.map(maskFields) } : body),
  timeline: pageOf(maskEntry),
  task: maskTask,
  taskPage: pageOf(maskTask),
} as const;

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
