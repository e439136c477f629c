import { InvalidInput } from './errors';

/** Money and other amounts: finite and ≥ 0 (docs/domain.md). */
export function assertAmount(field: string, value: unknown): asserts value is number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new InvalidInput(field, 'must be a finite number ≥ 0');
  }
}
