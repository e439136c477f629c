import type { Projection } from '@chronicle/projector';
import type { ReportDefinition } from './common/report';
import { customerTimelineProjection } from './customer-timeline/projection';
import { customersProjection } from './customers/projection';
import { dealsProjection } from './deals/projection';
import { leadsProjection } from './leads/projection';
import { tasksProjection } from './tasks/projection';
import { cacProjection } from './cac/projection';
import { cacReport } from './cac/query';
import { churnProjection } from './churn/projection';
import { churnReport } from './churn/query';
import { pipelineProjection } from './pipeline/projection';
import { pipelineReport } from './pipeline/query';
import { salesCycleProjection } from './sales-cycle/projection';
import { salesCycleReport } from './sales-cycle/query';
import { leadFunnelProjection } from './lead-funnel/projection';
import { conversionReport } from './conversion/query';
import { leadSourcesReport } from './lead-sources/query';
import { forecastProjection } from './forecast/projection';
import { forecastReport } from './forecast/query';
import { ownerActivityProjection } from './owner-activity/projection';
import { salesPerformanceReport } from './sales-performance/query';
import { activityReport } from './activity/query';
import { lostDealsProjection } from './lost-deals/projection';
import { lostDealsReport } from './lost-deals/query';
import { dealOutcomesProjection } from './deal-outcomes/projection';
import { dealOutcomesReport } from './deal-outcomes/query';
import { customerValueProjection } from './customer-value/projection';
import { customerValueReport } from './customer-value/query';
import { goalsProjection } from './goals/projection';
import { goalsReport } from './goals/query';
import { assignmentsProjection } from './assignments/projection';
import { assignmentsReport } from './assignments/query';
import { leadScoresProjection } from './lead-scores/projection';
import { leadScoresReport } from './lead-scores/query';
import { campaignsProjection } from './campaigns/projection';
import { campaignsReport } from './campaigns/report';
import { forecastAccuracyProjection } from './forecast-accuracy/projection';
import { forecastAccuracyReport } from './forecast-accuracy/query';
import { leadResponseProjection } from './lead-response/projection';
import { leadResponseReport } from './lead-response/query';
import { upcomingActivityProjection } from './upcoming-activity/projection';
import { upcomingActivityReport } from './upcoming-activity/query';
import { engagementProjection } from './engagement/projection';
import { engagementReport } from './engagement/query';
import { duplicatesProjection } from './duplicates/projection';

/**
 * Every built-in projection and report. A projection added here (in its own folder) is built
 * from the whole history on the next start; see the README's "Adding a report".
 */
export const projections: Projection[] = [
  customersProjection,
  customerTimelineProjection,
  dealsProjection,
  leadsProjection,
  tasksProjection,
  pipelineProjection,
  churnProjection,
  salesCycleProjection,
  cacProjection,
  leadFunnelProjection,
  forecastProjection,
  ownerActivityProjection,
  lostDealsProjection,
  dealOutcomesProjection,
  customerValueProjection,
  goalsProjection,
  assignmentsProjection,
  leadScoresProjection,
  campaignsProjection,
  forecastAccuracyProjection,
  leadResponseProjection,
  upcomingActivityProjection,
  engagementProjection,
  duplicatesProjection,
];

export const reports: ReportDefinition[] = [
  pipelineReport,
  churnReport,
  salesCycleReport,
  cacReport,
  conversionReport,
  forecastReport,
  salesPerformanceReport,
  lostDealsReport,
  dealOutcomesReport,
  customerValueReport,
  activityReport,
  leadSourcesReport,
  leadScoresReport,
  assignmentsReport,
  goalsReport,
  campaignsReport,
  forecastAccuracyReport,
  leadResponseReport,
  upcomingActivityReport,
  engagementReport,
];

export * from './common/define-projection';
export * from './common/numbers';
export * from './common/periods';
export * from './common/report';
export * from './common/report-params';
export * from './common/table';
export * from './queries';
export { duplicatesProjection } from './duplicates/projection';
export { listDuplicates } from './duplicates/query';
export * from './goals/projection';
export * from './goals/query';
export * from './replay/replay-report';
export * from './replay/report-file';
export * from './replay/reports-dir';
