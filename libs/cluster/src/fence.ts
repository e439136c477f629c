/**
 * Fencing (docs/operations.md): a write made on behalf of a lease carries the role and the lease's
 * fencing token, a number that grows with every new holder of the role. The store refuses the
 * write atomically when a holder with a higher token has claimed the role since, so a process that
 * lost its lease without noticing (paused, cut off) cannot change anything any more.
 */
export interface Fence {
  readonly role: string;
  readonly token: number;
  /**
   * False once the lease may have passed to another process: its validity ran out on this
   * process's monotonic clock. Stores that cannot check the token atomically with every write (the
   * redo journal's apply phase) check this before each write instead.
   */
  valid(): boolean;
}

/** A write refused because another process holds the role now (or this process's lease ran out). */
export class FencedError extends Error {
  constructor(
    /** The roles whose fence was stale. */
    readonly roles: string[],
    detail = 'another process has taken the role over',
  ) {
    super(`fenced: ${roles.join(', ')}: ${detail}`);
    this.name = 'FencedError';
  }
}

export const isFencedError = (error: unknown): error is FencedError =>
  error instanceof FencedError || (error as Error | undefined)?.name === 'FencedError';

/**
 * A fence for code that runs alone, outside any cluster (tests, a one-off CLI rebuild with no
 * projector running): token 0, always valid. A role claimed by a real lease since refuses it.
 */
export function soloFence(role: string): Fence {
  return { role, token: 0, valid: () => true };
}
