/**
 * Domain errors carry a kind; the API maps each kind to one HTTP status in a single filter
 * (rule → 422, not-found → 404, conflict → 409, invalid → 400).
 */
export type DomainErrorKind = 'rule' | 'not-found' | 'conflict' | 'invalid';

export class DomainError extends Error {
  constructor(
    readonly kind: DomainErrorKind,
    message: string,
    readonly code: string,
  ) {
    super(message);
    this.name = 'DomainError';
  }
}

/** A business rule was violated (HTTP 422). */
export class BusinessRuleViolation extends DomainError {
  constructor(message: string, code = 'business-rule') {
    super('rule', message, code);
  }
}

/** The aggregate addressed by the command does not exist (HTTP 404). */
export class AggregateNotFound extends DomainError {
  constructor(readonly streamId: string) {
    super('not-found', `${streamId} does not exist`, 'not-found');
  }
}

/** The command would create an aggregate that already exists (HTTP 409). */
export class AggregateAlreadyExists extends DomainError {
  constructor(readonly streamId: string) {
    super('conflict', `${streamId} already exists`, 'already-exists');
  }
}

/**
 * The customer addressed was merged into another (docs/merging.md, HTTP 409): the error names the
 * survivor, so a client (or a process manager) can address it instead.
 */
export class CustomerWasMerged extends DomainError {
  constructor(
    readonly streamId: string,
    readonly survivorId: string,
  ) {
    super('conflict', `${streamId} was merged into customer-${survivorId}; address customer-${survivorId} instead`, 'merged');
  }
}

/** A command's input is malformed in a way only the domain can see (HTTP 400). */
export class InvalidInput extends DomainError {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super('invalid', `${field}: ${message}`, 'invalid-input');
  }
}

export function rule(condition: unknown, message: string, code?: string): asserts condition {
  if (!condition) throw new BusinessRuleViolation(message, code);
}
