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
   * The report's figures as flat tables (CSV, the dashboard), the first being the default. Each
   * takes the value `run` returned; `never` lets every report type its own.
   */
  tables: ReportTables<never>;
}
