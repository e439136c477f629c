import { BusinessRuleViolation } from '@chronicle/domain';

/**
 * The key-store port: one data key per data subject (a customer's or a lead's stream id).
 * Destroying a key is the erasure: it leaves a tombstone, so no new key is ever made for that
 * subject and nothing personal can be sealed for it again. Adapters: SQLite (embedded default)
 * and a MongoDB collection; a KMS slots in behind the same port (see docs/personal-data.md).
 */
export type KeyLookup = Buffer | 'erased' | undefined;

export interface KeyStore {
  /** The subject's key, made on first use. Throws PersonalDataErasedError for an erased subject. */
  obtain(subject: string): Promise<Buffer>;
  /**
   * The keys of many subjects, those not yet made made at once (one write: a bulk import does not
   * pay one durable write per person). An erased subject's is 'erased'.
   */
  obtainMany(subjects: string[]): Promise<Map<string, Buffer | 'erased'>>;
  /** Keys of several subjects at once: a key, 'erased', or undefined when none was ever made. */
  findMany(subjects: string[]): Promise<Map<string, KeyLookup>>;
  /** Destroys the key and leaves a tombstone; erasing an erased or unknown subject is fine. */
  destroy(subject: string): Promise<void>;
  close(): Promise<void>;
}

/** A business rule (HTTP 422): an erased subject's personal data cannot be recorded again. */
export class PersonalDataErasedError extends BusinessRuleViolation {
  constructor(readonly subject: string) {
    super(`the personal data of ${subject} was erased; no personal data can be recorded for it again`, 'personal-data-erased');
    this.name = 'PersonalDataErasedError';
  }
}
