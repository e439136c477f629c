/** Who sent a command and why: becomes the metadata of every event it appends (docs/domain.md). */
export interface CommandContext {
  actor: string;
  correlationId: string;
  causationId: string;
  /** From `If-Match` or `expectedRevision`: the revision the client last saw; a mismatch is a 409. */
  expectedRevision?: number;
  /**
   * Seed for deterministic event ids (an idempotency key, or the id of the event a process
   * manager reacts to): a retried append with the same ids is recognised by the store.
   */
  idSeed?: string;
  /** Extra metadata stored with every event (e.g. the idempotency key). */
  metadata?: Record<string, unknown>;
  /**
   * Set for callers limited to their own records (role `rep`: its actor): every command on an
   * existing customer, lead, deal or task is checked against the record's current owner, and what
   * it creates must be owned by this actor. Absent = any record.
   */
  ownerScope?: string;
}

/** What every write route returns. */
export interface CommandResult {
  id: string;
  streamId: string;
  /** The stream's revision after the command. */
  revision: number;
  /** Global position of the last event written (pass as `?minPosition=` for read-your-writes). */
  position: number;
  /** Lead conversion: the customer the lead became. */
  customerId?: string;
}
