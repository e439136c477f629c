import { NotFoundException } from '@nestjs/common';
import { IQueryHandler, Query, QueryHandler } from '@nestjs/cqrs';
import { ReadModels } from '@chronicle/projector';
import {
  customerTimeline,
  getCustomer,
  getDeal,
  getLead,
  getTask,
  listCampaigns,
  listCustomers,
  listDuplicates,
  listDeals,
  listLeads,
  listTasks,
} from '@chronicle/projections';

/**
 * The entity read models' queries by name. Each is a plain function of the projections (it
 * validates its own parameters: a bad one is an InvalidInput, i.e. a 400 naming the field).
 */
const readQueries = {
  customer: getCustomer,
  customers: listCustomers,
  customerTimeline,
  deal: getDeal,
  deals: listDeals,
  lead: getLead,
  leads: listLeads,
  task: getTask,
  tasks: listTasks,
  campaigns: listCampaigns,
  duplicates: listDuplicates,
} as const;

type ReadQueries = typeof readQueries;
type Args<K extends keyof ReadQueries> = ReadQueries[K] extends (access: never, ...args: infer A) => unknown ? A : never;
type Result<K extends keyof ReadQueries> = Awaited<ReturnType<ReadQueries[K]>>;

/** A query of the entity read models, sent through the QueryBus like the reports. */
export class ReadModelQuery<K extends keyof ReadQueries = keyof ReadQueries> extends Query<Result<K>> {
  readonly args: Args<K>;

  constructor(
    readonly name: K,
    ...args: Args<K>
  ) {
    super();
    this.args = args;
  }
}

@QueryHandler(ReadModelQuery)
export class ReadModelQueryHandler implements IQueryHandler<ReadModelQuery> {
  constructor(private readonly readModels: ReadModels) {}

  execute(query: ReadModelQuery): Promise<Result<keyof ReadQueries>> {
    const run = readQueries[query.name] as (access: ReadModels, ...args: unknown[]) => Promise<Result<keyof ReadQueries>>;
    return run(this.readModels, ...(query.args as unknown[]));
  }
}

/** A single record's query result, or a 404 naming the stream. */
export function found<T>(value: T | null, streamId: string): T {
  if (value === null)
    throw new NotFoundException(`${streamId} does not exist (or is not projected yet: pass ?minPosition= from the command's response)`);
  return value;
}
