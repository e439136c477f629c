import type { LeaseStore } from '../state-store';

/** A LeaseStore that can be cut off (every call fails), as a network partition from the shared store would. Tests only. */
export function partitionable(inner: LeaseStore): LeaseStore & { cut: boolean } {
  const wrapper = { cut: false } as LeaseStore & { cut: boolean };
  for (const method of ['leases', 'acquire', 'renew', 'release', 'heartbeat', 'workers', 'removeWorker'] as const) {
    (wrapper as unknown as Record<string, unknown>)[method] = async (...args: unknown[]) => {
      if (wrapper.cut) throw new Error('connection refused');
      return (inner[method] as (...a: unknown[]) => unknown).apply(inner, args);
    };
  }
  return wrapper;
}
