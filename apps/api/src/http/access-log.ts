import { Logger } from '@nestjs/common';

interface Window {
  endsAt: number;
  suppressed: number;
}

/**
 * The `Access` log of denied requests, sampled: at most one WARN line per source (a client address,
 * or an API key) per window; the lines left out are counted and reported in one line when the
 * window ends. A flood of 401s or 429s then costs a few lines a minute, not one line per request
 * (which cost the authenticated p99 more than the requests themselves did).
 */
export class SampledAccessLog {
  private readonly windows = new Map<string, Window>();
  /** Lines of sources not tracked because `maxSources` were already (a flood from many addresses). */
  private overflow = 0;
  private readonly sweep: NodeJS.Timeout;

  constructor(
    private readonly logger: Pick<Logger, 'warn'> = new Logger('Access'),
    private readonly windowMs = 60_000,
    private readonly maxSources = 10_000,
    private readonly now: () => number = Date.now,
  ) {
    this.sweep = setInterval(() => this.flush(), windowMs).unref();
  }

  /** Logs `line` unless `source` already had a line in the current window. */
  warn(source: string, line: string): void {
    const now = this.now();
    const window = this.windows.get(source);
    if (window && now < window.endsAt) {
      window.suppressed += 1;
      return;
    }
    if (window) this.report(source, window);
    else if (this.windows.size >= this.maxSources) {
      this.overflow += 1;
      return;
    }
    this.windows.set(source, { endsAt: now + this.windowMs, suppressed: 0 });
    this.logger.warn(line);
  }

  /** Reports the counts of windows that have ended and forgets them (runs every window). */
  flush(): void {
    const now = this.now();
    for (const [source, window] of this.windows) {
      if (window.endsAt > now) continue;
      this.report(source, window);
      this.windows.delete(source);
    }
    if (this.overflow > 0) {
      this.logger.warn(
        `${this.overflow} more denied requests not logged (over ${this.maxSources} sources within ${this.windowMs / 1000} s)`,
      );
      this.overflow = 0;
    }
  }

  close(): void {
    clearInterval(this.sweep);
  }

  private report(source: string, window: Window): void {
    if (window.suppressed > 0)
      this.logger.warn(
        `${window.suppressed} more denied requests from ${source} not logged (at most one line per ${this.windowMs / 1000} s)`,
      );
  }
}
