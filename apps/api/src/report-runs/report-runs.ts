import {
  BadRequestException,
  Inject,
  Injectable,
  Logger,
  NotFoundException,
  OnModuleDestroy,
  ServiceUnavailableException,
} from '@nestjs/common';
import { createHash, randomUUID } from 'node:crypto';
import type { EventStore } from '@chronicle/event-store';
import { ChronicleConfig, CONFIG, EVENT_STORE, READ_STORE } from '@chronicle/infrastructure';
import { maskers } from '@chronicle/personal-data';
import { type Projection, PROJECTIONS } from '@chronicle/projector';
import { replayReport, ReportDefinition, ReportParams } from '@chronicle/projections';
import type { ReadStore } from '@chronicle/read-store';
import { REPORTS } from '../reports/run-report.query';
import { resolveReportParams } from '../reports/report-params';
import type { CreateReportRunDto } from './report-run.dto';

export const REPORT_RUNS_COLLECTION = 'report-runs';
/** A run whose process has not been heard of for this long is reported as interrupted. */
const RUN_HEARTBEAT_TIMEOUT_MS = 30_000;
const HEARTBEAT_MS = 5_000;
const PROGRESS_EVERY_MS = 1_000;
/** Runs waiting in one process beyond the one being computed. */
const MAX_QUEUED_RUNS = 20;

export type ReportRunStatus = 'queued' | 'running' | 'done' | 'failed' | 'interrupted';

export interface ReportRunDocument {
  _id: string;
  report: string;
  params: ReportParams;
  knownAt: string;
  requestedAt: string;
  requestedBy: string;
  status: ReportRunStatus;
  /** Replayed so far, of the store's head when the run started. */
  progress: { position: number; head: number };
  heartbeatAt: string;
  startedAt?: string;
  completedAt?: string;
  /** The last position the figures include. */
  position?: number;
  /** sha256 of the result's JSON: two runs with the same hash hold the same figures. */
  resultHash?: string;
  result?: unknown;
  error?: string;
  [key: string]: unknown;
}

/**
 * Reproducible report runs: a report computed from the events recorded up to `knownAt` by a replay
 * of its projections into a temporary store (the live read models are not used), kept with the
 * position it reached and a hash of its result. A run is written once when it ends and never
 * changed again. Results are kept masked as an analyst sees them, so a run holds no personal data
 * an erasure would have to reach. Runs are computed one at a time per API process, in the order
 * they were asked for, and stored in the read store, so every API process answers for every run.
 */
@Injectable()
export class ReportRuns implements OnModuleDestroy {
  private readonly logger = new Logger('ReportRuns');
  private readonly byName: Map<string, ReportDefinition>;
  private readonly projections: Map<string, Projection>;
  private readonly pending = new Set<string>();
  private queue: Promise<void> = Promise.resolve();
  private readonly stopping = new AbortController();
  private readonly heartbeat: NodeJS.Timeout;

  constructor(
    @Inject(REPORTS) reports: ReportDefinition[],
    // The projections the app serves (those the projector runs): a run replays the same code.
    @Inject(PROJECTIONS) projections: Projection[],
    @Inject(EVENT_STORE) private readonly events: EventStore,
    @Inject(READ_STORE) private readonly readStore: ReadStore,
    @Inject(CONFIG) private readonly config: ChronicleConfig,
  ) {
    this.byName = new Map(reports.map((r) => [r.name, r]));
    this.projections = new Map(projections.map((p) => [p.name, p]));
    this.heartbeat = setInterval(() => void this.beat(), HEARTBEAT_MS).unref();
  }

  private get runs() {
    return this.readStore.collection<ReportRunDocument>(REPORT_RUNS_COLLECTION);
  }

  async create(dto: CreateReportRunDto, actor: string, now = new Date()): Promise<ReportRunDocument> {
    const report = this.byName.get(dto.report);
    if (!report) throw new BadRequestException(`report: no report "${dto.report}"; reports: ${[...this.byName.keys()].sort().join(', ')}`);
    const params = resolveReportParams(report, dto.params ?? {}, now);
    const knownAt = dto.knownAt === undefined ? now.toISOString() : new Date(dto.knownAt).toISOString();
    if (knownAt > now.toISOString())
      throw new BadRequestException(`knownAt: ${knownAt} is in the future; the events known then are not known yet`);
    if (this.pending.size > MAX_QUEUED_RUNS)
      throw new ServiceUnavailableException(`at most ${MAX_QUEUED_RUNS} runs wait per server; retry when one has finished`);
    const run: ReportRunDocument = {
      _id: randomUUID(),
      report: report.name,
      params,
      knownAt,
      requestedAt: now.toISOString(),
      requestedBy: actor,
      status: 'queued',
      progress: { position: 0, head: await this.events.headPosition() },
      heartbeatAt: now.toISOString(),
    };
    await this.runs.upsert(run);
    this.pending.add(run._id);
    this.queue = this.queue.then(() => this.compute(run, report));
    return run;
  }

  async get(id: string): Promise<ReportRunDocument> {
    const run = await this.runs.findById(id);
    if (!run) throw new NotFoundException(`no report run ${id}`);
    return this.effective(run);
  }

  /** The newest runs first, without their results. */
  async list(limit: number): Promise<Array<Omit<ReportRunDocument, 'result'>>> {
    const runs = await this.runs.find({}, { sort: { requestedAt: -1 }, limit });
    return runs.map((run) => {
      const { result: _result, ...rest } = this.effective(run);
      return rest;
    });
  }

  onModuleDestroy(): void {
    clearInterval(this.heartbeat);
    this.stopping.abort(new Error('the server stopped during the run; ask for it again'));
  }

  /** A queued or running run nobody is computing any more (its process stopped) says so. */
  private effective(run: ReportRunDocument): ReportRunDocument {
    const silent = Date.now() - Date.parse(run.heartbeatAt) > RUN_HEARTBEAT_TIMEOUT_MS;
    if ((run.status === 'queued' || run.status === 'running') && silent && !this.pending.has(run._id))
      return { ...run, status: 'interrupted', error: 'the server computing it stopped; ask for it again' };
    return run;
  }

  private async compute(queued: ReportRunDocument, report: ReportDefinition): Promise<void> {
    let run: ReportRunDocument = {
      ...queued,
      status: 'running',
      startedAt: new Date().toISOString(),
      heartbeatAt: new Date().toISOString(),
    };
    // One write after the other: a progress write must never land after the final one.
    let writes = Promise.resolve();
    const write = (doc: ReportRunDocument) => (writes = writes.then(() => this.runs.upsert(doc)).catch(() => undefined));
    try {
      if (this.stopping.signal.aborted) throw this.stopping.signal.reason;
      await write(run);
      let reported = 0;
      const replayed = await replayReport({
        events: this.events,
        projections: report.projections.map((name) => this.projections.get(name) as Projection),
        report,
        params: run.params,
        pipeline: this.config.pipeline,
        scoring: this.config.scoring,
        knownAt: run.knownAt,
        tmpDir: this.config.dataDir,
        signal: this.stopping.signal,
        onProgress: ({ position, head }) => {
          if (Date.now() - reported < PROGRESS_EVERY_MS) return;
          reported = Date.now();
          run = { ...run, progress: { position: Math.min(position, head), head }, heartbeatAt: new Date().toISOString() };
          void write(run);
        },
      });
      // Kept as an analyst sees it: the run holds no personal data.
      const result = maskers.report(replayed.result);
      run = {
        ...run,
        status: 'done',
        progress: { position: replayed.position, head: run.progress.head },
        position: replayed.position,
        result,
        resultHash: `sha256:${createHash('sha256').update(JSON.stringify(result)).digest('hex')}`,
        completedAt: new Date().toISOString(),
        heartbeatAt: new Date().toISOString(),
      };
    } catch (error) {
      const interrupted = this.stopping.signal.aborted;
      if (!interrupted) this.logger.error(`report run ${run._id} (${run.report}) failed: ${(error as Error).message}`);
      run = {
        ...run,
        status: interrupted ? 'interrupted' : 'failed',
        error: interrupted ? 'the server stopped during the run; ask for it again' : (error as Error).message,
        completedAt: new Date().toISOString(),
      };
    } finally {
      this.pending.delete(queued._id);
    }
    await writes;
    await this.runs.upsert(run).catch((error: unknown) => this.logger.error(`report run ${run._id}: ${(error as Error).message}`));
  }

  private async beat(): Promise<void> {
    const at = new Date().toISOString();
    for (const id of this.pending)
      await this.runs.updateOne({ _id: id, status: { $in: ['queued', 'running'] } }, { $set: { heartbeatAt: at } }).catch(() => undefined);
  }
}
