import { randomBytes } from 'node:crypto';
import { readlinkSync } from 'node:fs';
import { hostname } from 'node:os';
import { performance } from 'node:perf_hooks';
import type { Fence } from './fence';
import type { WorkerInfo } from './state-store';

/**
 * A lease this process holds on a role: the fencing token every write for the role carries, and
 * how long the process may assume it still holds it. That validity is measured on this process's
 * monotonic clock from the moment the last successful renewal was *sent*, minus a margin, so it
 * always ends before any other process can have taken the role over (they wait a whole lease
 * timeout after they last saw the lease change).
 */
export class Lease implements Fence {
  private validUntil: number;
  private ended = false;

  constructor(
    readonly role: string,
    readonly token: number,
    /** When the token was granted (wall clock, for status pages). */
    readonly since: string,
    validUntil: number,
  ) {
    this.validUntil = validUntil;
  }

  valid(): boolean {
    return !this.ended && monotonicNow() < this.validUntil;
  }

  /** Milliseconds of validity left (0 when lapsed or ended). */
  remainingMs(): number {
    return this.ended ? 0 : Math.max(0, this.validUntil - monotonicNow());
  }

  /** A renewal sent at `sentAt` succeeded. */
  extend(until: number): void {
    if (!this.ended) this.validUntil = Math.max(this.validUntil, until);
  }

  /** Lost or released: never valid again. */
  end(): void {
    this.ended = true;
  }

  get isEnded(): boolean {
    return this.ended;
  }
}

export const monotonicNow = (): number => performance.now();

let pidNamespace: string | undefined | null = null;
/** This process's PID namespace on Linux (`pid:[4026531836]`), undefined elsewhere. */
export function currentPidNamespace(): string | undefined {
  if (pidNamespace === null) {
    try {
      pidNamespace = readlinkSync('/proc/self/ns/pid');
    } catch {
      pidNamespace = undefined;
    }
  }
  return pidNamespace;
}

/** A fresh identity for a worker of this process. */
export function newWorkerInfo(): WorkerInfo {
  const host = hostname();
  return {
    id: `${host}:${process.pid}:${randomBytes(3).toString('hex')}`,
    host,
    pid: process.pid,
    pidNamespace: currentPidNamespace(),
    startedAt: new Date().toISOString(),
  };
}

/**
 * Whether `pid` names a live process. Only meaningful for a PID of this host's and this PID
 * namespace's; a stopped (SIGSTOP) process is alive.
 */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
