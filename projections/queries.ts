/** Entity read-model queries (plain functions over a ReadModelAccess), for the HTTP routes and the QueryBus. */
export { DEFAULT_LIMIT, MAX_LIMIT } from './common/listing';
export type { Page } from './common/listing';
export { getCustomer, listCustomers, CUSTOMER_SORTS, CUSTOMER_STATUSES, DEFAULT_CUSTOMER_SORT } from './customers/query';
export type { CustomerView, CustomerSort, ListCustomersParams } from './customers/query';
export { customerTimeline } from './customer-timeline/query';
export type { TimelineEntry, TimelinePage, TimelineParams } from './customer-timeline/query';
export { getDeal, listDeals, DEAL_SORTS, DEAL_STATUSES } from './deals/query';
export type { DealView, DealSort, ListDealsParams } from './deals/query';
export { getLead, listLeads, LEAD_SORTS, LEAD_STATUSES } from './leads/query';
export type { LeadView, LeadSort, ListLeadsParams } from './leads/query';
export { getTask, listTasks, TASK_SORTS, TASK_STATUSES } from './tasks/query';
export type { TaskView, TaskSort, ListTasksParams } from './tasks/query';
export { listCampaigns, CAMPAIGN_SORTS } from './campaigns/query';
export type { CampaignView, CampaignSort, ListCampaignsParams } from './campaigns/query';
