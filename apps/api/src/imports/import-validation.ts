import { plainToInstance, Transform } from 'class-transformer';
import { getMetadataStorage, IsUUID, validateSync, ValidationError } from 'class-validator';
import { RegisterCustomerDto, LogInteractionDto } from '../customers/customer.dto';
import { OpenDealDto } from '../deals/deal.dto';
import { CaptureLeadDto } from '../leads/lead.dto';
import { DtoClass, freeFormLimits, NESTED_VALUE_LIMITS, shapeProblem } from '../http/body-shape';
import { lowerCaseId } from '../http/ids';
import type { RowError } from './import-format';

/*
 * An import's rows validated exactly as the API validates the body of the route that creates the
 * same record: the route's DTO class, the validation pipe's checks (apps/api/src/http/validation.ts).
 */

/** What an import creates, one record per row: as `POST /customers`, `/leads`, `/deals`, `/customers/:id/interactions`. */
export const ImportTypes = ['customers', 'leads', 'deals', 'interactions'] as const;
export type ImportType = (typeof ImportTypes)[number];

/** An interaction row: `POST /customers/:customerId/interactions`'s body plus the customer it is about. */
class ImportInteractionDto extends LogInteractionDto {
  @Transform(({ value }) => lowerCaseId(value)) @IsUUID() customerId!: string;
}

/** Per type: the API's DTO (its validation), the columns holding numbers in a CSV file. */
export const DTOS: Record<ImportType, { dto: DtoClass; numeric: ReadonlySet<string> }> = {
  customers: { dto: RegisterCustomerDto, numeric: new Set() },
  leads: { dto: CaptureLeadDto, numeric: new Set() },
  deals: { dto: OpenDealDto, numeric: new Set(['amount']) },
  interactions: { dto: ImportInteractionDto, numeric: new Set(['durationMinutes']) },
};

/** Body fields the API takes that say nothing about a record: not columns of an import. */
const NOT_COLUMNS = new Set(['expectedRevision']);

const declared = new Map<DtoClass, Set<string>>();
export function columnsOf(dto: DtoClass): Set<string> {
  let names = declared.get(dto);
  if (!names) {
    names = new Set(
      getMetadataStorage()
        .getTargetValidationMetadatas(dto, '', true, false)
        .map((m) => m.propertyName)
        .filter((name) => !NOT_COLUMNS.has(name)),
    );
    declared.set(dto, names);
  }
  return names;
}

/** The options of the API's validation pipe (apps/api/src/http/validation.ts). */
const VALIDATOR_OPTIONS = {
  whitelist: true,
  forbidNonWhitelisted: true,
  forbidUnknownValues: true,
  validationError: { target: false, value: false },
};

/** Every row as the API's validation pipe sees a body: declared fields only, no null, bounded shapes, then the DTO's rules. */
export function validateRow(dto: DtoClass, fields: Record<string, unknown>, row: number): ValidatedRow {
  const known = columnsOf(dto);
  const errors: RowError[] = [];
  for (const [column, v] of Object.entries(fields)) {
    if (!known.has(column)) errors.push({ row, column, message: `property ${column} should not exist` });
    else if (v === null) errors.push({ row, column, message: `${column} must not be null` });
    else if (typeof v === 'object') {
      const shape = shapeProblem(v, freeFormLimits(dto, column) ?? NESTED_VALUE_LIMITS);
      if (shape) errors.push({ row, column, message: `${column} ${shape}` });
    }
  }
  if (errors.length > 0) return { errors };
  const instance = plainToInstance(dto as new () => object, fields);
  const problems = validateSync(instance, VALIDATOR_OPTIONS);
  const flatten = (list: ValidationError[], parent = ''): RowError[] =>
    list.flatMap((e) => {
      const column = parent ? `${parent}.${e.property}` : e.property;
      return [...Object.values(e.constraints ?? {}).map((message) => ({ row, column, message })), ...flatten(e.children ?? [], column)];
    });
  const found = flatten(problems);
  return found.length > 0 ? { errors: found } : { value: instance as Record<string, unknown>, errors: [] };
}

/** A row validated: its body as the API's DTO holds it (ids lower-cased), or its problems. */
export interface ValidatedRow {
  value?: Record<string, unknown>;
  errors: RowError[];
}
