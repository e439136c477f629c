import { ArgumentMetadata, BadRequestException, ValidationError, ValidationPipe } from '@nestjs/common';
import { getMetadataStorage } from 'class-validator';
import { DtoClass, freeFormLimits, NESTED_VALUE_LIMITS, shapeProblem } from './body-shape';

interface FieldProblem {
  field: string;
  problems: string[];
}

function flatten(errors: ValidationError[], parent = ''): FieldProblem[] {
  return errors.flatMap((error) => {
    const field = parent ? `${parent}.${error.property}` : error.property;
    const own = error.constraints ? [{ field, problems: Object.values(error.constraints) }] : [];
    return [...own, ...flatten(error.children ?? [], field)];
  });
}

const MAX_LISTED_PROBLEMS = 20;

const declared = new WeakMap<DtoClass, Set<string>>();
/** The properties a DTO class declares validation rules for (its whitelist). */
function declaredProperties(metatype: DtoClass): Set<string> {
  let names = declared.get(metatype);
  if (!names) {
    names = new Set(
      getMetadataStorage()
        .getTargetValidationMetadatas(metatype, '', true, false)
        .map((m) => m.propertyName),
    );
    declared.set(metatype, names);
  }
  return names;
}

/**
 * DTO validation: unknown fields are rejected, and the 400 names every field at fault, e.g.
 * `amount: amount must not be less than 0`.
 */
class DtoValidationPipe extends ValidationPipe {
  override async transform(value: unknown, metadata: ArgumentMetadata): Promise<unknown> {
    // A body must be a JSON object; an absent body counts as {} (e.g. POST /deals/:id/win).
    if (metadata.type === 'body' && value !== undefined && (value === null || typeof value !== 'object' || Array.isArray(value))) {
      throw new BadRequestException({ statusCode: 400, error: 'Bad Request', message: 'body: must be a JSON object' });
    }
    if (metadata.type === 'body' && value !== undefined) {
      // One linear pass before class-transformer and class-validator touch the body: they are
      // given only declared fields, each a scalar or a bounded structure (body-shape.ts).
      const fields: FieldProblem[] = [];
      let unlisted = 0;
      const dto = metadata.metatype;
      const known = dto && ![Object, String, Number, Boolean, Array].includes(dto as never) ? declaredProperties(dto) : undefined;
      for (const [field, v] of Object.entries(value as Record<string, unknown>)) {
        let problem: string | undefined;
        // class-transformer silently skips some keys ("constructor", "prototype", "toString", …), so the
        // whitelist would never see them: every key the DTO does not declare is refused here.
        if (known && !known.has(field)) problem = `property ${field} should not exist`;
        // An optional field is either absent or valid; null is neither (it would skip the field's validators).
        else if (v === null) problem = `${field} must not be null`;
        else if (typeof v === 'object' && known) {
          const shape = shapeProblem(v, (dto && freeFormLimits(dto, field)) ?? NESTED_VALUE_LIMITS);
          if (shape) problem = `${field} ${shape}`;
        }
        if (problem === undefined) continue;
        // The message stays short whatever the body holds.
        if (fields.length < MAX_LISTED_PROBLEMS) fields.push({ field, problems: [problem] });
        else unlisted += 1;
      }
      if (fields.length > 0) {
        const message =
          fields.map((f) => `${f.field}: ${f.problems.join(', ')}`).join('; ') + (unlisted > 0 ? `; and ${unlisted} more fields` : '');
        throw new BadRequestException({ statusCode: 400, error: 'Bad Request', message, fields });
      }
    }
    return super.transform(value, metadata);
  }
}

export const validationPipe = new DtoValidationPipe({
  whitelist: true,
  forbidNonWhitelisted: true,
  forbidUnknownValues: true,
  transform: true,
  validationError: { target: false, value: false },
  exceptionFactory: (errors) => {
    const fields = flatten(errors);
    const message = fields.map((f) => `${f.field}: ${f.problems.join(', ')}`).join('; ') || 'invalid request body';
    return new BadRequestException({ statusCode: 400, error: 'Bad Request', message, fields });
  },
});
