import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Pipeline, ScoringModel } from '@chronicle/domain';
import { type EventStore, KnownAtEventStore } from '@chronicle/event-store';
import { type Projection, type ProjectionFailureEvent, Projector, ReadModels } from '@chronicle/projector';
import { EmbeddedReadStore } from '@chronicle/read-store';
import type { ReportDefinition, ReportParams } from '../common/report';

export interface ReplayProgress {
  /** The position replayed so far. */
  position: number;
  /** The store's head when the replay started (the end, or past it with `knownAt`). */
  head: number;
  eventsPerSecond: number;
}

export interface ReplayReportOptions {
  /** The whole store, read-only here (personal fields opened as the projector opens them). */
  events: EventStore;
  /** The projections the report reads, built from position 0 into a temporary read store. */
  projections: readonly Projection[];
  report: ReportDefinition;
  params: ReportParams;
  pipeline: Pipeline;
  scoring?: ScoringModel;
  /** Events recorded up to this instant (ISO 8601; default now) and no later than the head now. */
  knownAt?: string;
  onProgress?(progress: ReplayProgress): void;
  /** Where the temporary read store lives (default the OS temp folder); removed afterwards. */
  tmpDir?: string;
  /** Ends the replay early (a server shutting down): it rejects with the signal's reason. */
  signal?: AbortSignal;
}

export interface ReplayResult {
  result: unknown;
  knownAt: string;
  /** The last position the figures include. */
  position: number;
  seconds: number;
}

/** A projection that threw on an event: where, and the error (with the file and line when known). */
export class ReplayFailedError extends Error {
  constructor(readonly failure: ProjectionFailureEvent) {
    super(
      `projection ${failure.projection} threw on ${failure.failure.eventType} ${failure.failure.eventId} at position ${failure.failure.position}: ${failure.failure.error}`,
    );
    this.name = 'ReplayFailedError';
  }
}

/**
 * Computes a report from the history alone: its projections replayed from position 0 into a
 * temporary embedded read store (the live read models untouched), up to the events recorded by
 * `knownAt`, then the report's query on the result. The same request with the same `knownAt` gives
 * the same figures whatever was appended since, backdated events included.
 */
export async function replayReport(options: ReplayReportOptions): Promise<ReplayResult> {
  const started = Date.now();
  const knownAt = options.knownAt ?? new Date(started).toISOString();
  const view = await KnownAtEventStore.open(options.events, knownAt);
  const dir = mkdtempSync(join(options.tmpDir ?? tmpdir(), 'chronicle-replay-'));
  const reads = new EmbeddedReadStore(join(dir, 'read-models.db'));
  const projector = new Projector(view, reads, [...options.projections], { requestPollMs: 60_000, heartbeatMs: 60_000 });
  let stop: (error: unknown) => void = () => undefined;
  const stopped = new Promise<never>((_, reject) => (stop = reject));
  stopped.catch(() => undefined);
  // A replay has no operator to skip the event: the first failure ends it.
  projector.on('failed', (failure: ProjectionFailureEvent) => stop(new ReplayFailedError(failure)));
  const abort = () => stop(options.signal?.reason);
  options.signal?.addEventListener('abort', abort, { once: true });
  const report = (position: number) =>
    options.onProgress?.({
      position,
      head: view.head,
      eventsPerSecond: Math.round(position / Math.max(0.001, (Date.now() - started) / 1000)),
    });
  projector.on('progress', report);
  projector.on('rebuild', (p: { checkpoint: number }) => report(p.checkpoint));
  try {
    options.signal?.throwIfAborted();
    await projector.start();
    const models = new ReadModels(
      reads,
      view,
      options.projections.map((p) => p.name),
      projector,
    );
    const end = await Promise.race([view.reachedEnd(), stopped]);
    await Promise.race([models.waitFor(end, 24 * 3_600_000), stopped]);
    report(end);
    const result = await options.report.run(options.params, { readModels: models, pipeline: options.pipeline, scoring: options.scoring });
    return { result, knownAt, position: end, seconds: (Date.now() - started) / 1000 };
  } finally {
    options.signal?.removeEventListener('abort', abort);
    await projector.stop();
    await reads.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
