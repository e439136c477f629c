import type { Projection } from '@chronicle/projector';
import type { ReportDefinition } from './common/report';

/**
 * Every built-in projection and report. A projection added here (in its own folder) is built
 * from the whole history on the next start; see the README's "Adding a report".
 */
export const projections: Projection[] = [];

export const reports: ReportDefinition[] = [];

export * from './common/numbers';
export * from './common/periods';
export * from './common/report';
