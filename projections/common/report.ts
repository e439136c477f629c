import type { Pipeline, ScoringModel } from '@chronicle/domain';
import type { Document, ReadCollection } from '@chronicle/read-store';
import type { Interval } from './periods';
import type { ReportTables } from './table';

/** How a report reads the read models: by projection and logical collection name. */
export interface ReadModelAccess {
  collection<T extends Document>(projection: string, collection: string): Promise<ReadCollection<T>>;
}

/** Query parameters after validation and defaults (see the README's report section). */
export interface ReportParams {
  from: string;
  to: string;
  interval: Interval;
  asOf: string;
  groupBy?: string;
  limit: number;
  /**
   * Only this owner's figures, as if the report covered only the records it owns (set by the API
   * for a caller limited to its own records, a rep; never from the query). Only reports that
   * declare `ownerScoped` honour it.
   */
  owner?: string;
}

export interface ReportContext {
  readModels: ReadModelAccess;
  pipeline: Pipeline;
  /** The scoring model's bands (lead-scores report); the built-in model when absent. */
  scoring?: ScoringModel;
}

/** A report served by `GET /reports/<name>`. */
export interface ReportDefinition {
  name: string;
  description: string;
  /** Projections it reads (their lag and status matter to it). */
  projections: readonly string[];
  /** Allowed values of `groupBy`; none when absent. */
  groupBy?: readonly string[];
  run(params: ReportParams, context: ReportContext): Promise<unknown>;
  /**
   * The report honours `params.owner` (its figures, totals included, are then the owner's own):
   * it is served to callers limited to their own records (reps); the others are not.
   */
  ownerScoped?: boolean;
  /**
   * The report's figures as flat tables (CSV, the dashboard), the first being the default. Each
   * takes the value `run` returned; `never` lets every report type its own.
   */
  tables: ReportTables<never>;
}
