import { ArgumentMetadata, BadRequestException, ValidationError, ValidationPipe } from '@nestjs/common';

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
