import { randomUUID } from 'node:crypto';
import {
  AggregateAlreadyExists,
  BusinessRuleViolation,
  assertNotMerged,
  compact,
  customerDecider,
  CustomerState,
  dealDecider,
  Decider,
  decideLogInteraction,
  DomainError,
  DomainEvent,
  InvalidInput,
  leadDecider,
  LeadState,
  Pipeline,
  resolveOccurredAt,
  schemaVersionOf,
  streamIdOf,
} from '@chronicle/domain';
import type { CustomerCommand, DealCommand, LeadCommand } from '@chronicle/domain';
import { ExpectedRevision, NewEvent } from '@chronicle/event-store';
import { PersonalDataErasedError, PersonalDataEventStore } from '@chronicle/personal-data';
import { ChronicleConfig, deterministicUuid } from '@chronicle/infrastructure';
import { derivedRecordId, ImportFormat, parseImport, ParsedRow, rowKey, RowError } from './import-format';
import { columnsOf, DTOS, ImportType, validateRow } from './import-validation';

export interface ImportOptions {
  type: ImportType;
  format: ImportFormat;
  /** The column whose value is each row's key; default a hash of the row. */
  key?: string;
  /** Append the valid rows even when some are invalid (the invalid ones are returned). */
  skipInvalid?: boolean;
  /** false: the automation (scoring, assignment, rules, stall checks) does not act on these events. Default true. */
  automation?: boolean;
  /** Who imports (each event's actor, and the default owner as for the API's caller). */
  actor: string;
  /** The correlation id of every event appended (default a new UUID): the import's id. */
  correlationId?: string;
  onProgress?: (progress: ImportProgress) => void;
}

export interface ImportProgress {
  phase: 'validate' | 'append';
  done: number;
  total: number;
}

/** What the import environment provides: the store as the application sees it (personal fields sealed on append, as for the API). */
export interface ImportEnvironment {
  store: PersonalDataEventStore;
  pipeline: Pipeline;
  /** Customers registered without an owner are left to the assignment process manager (as for the API). */
  autoAssignCustomers: boolean;
}

export interface ImportResult {
  /** The import's id: the correlation id of every event it appended. */
  importId: string;
  rows: number;
  /** Rows whose events were appended by this run. */
  appended: number;
  events: number;
  /** Rows a previous run already imported (nothing appended for them). */
  skipped: number;
  /** Rows refused, with every problem of each (none appended when `skipInvalid` is not set). */
  rejected: RowError[];
  /**
   * Whether the import stopped before appending because rows were invalid (without `skipInvalid`),
   * or the file itself was. Else `rejected` holds the rows skipped as invalid and those whose append
   * failed ("not appended: …", e.g. a stream another writer changed meanwhile: import again).
   */
  refused: boolean;
  /** The rows refused, as written (a rejects file). */
  rejectedRows: ParsedRow[];
  /** Global position of the last event appended (0 when none): `?minPosition=` reads after it. */
  position: number;
}

/** A stream as the plan sees it: its state (the store's, then each planned row's events folded in) and the revision to append at. */
interface StagedStream {
  state: unknown;
  /** The revision the next planned append expects (-1: no stream). */
  revision: number;
  /** Ids of the events already in the store (a row whose first event is among them was imported before); none for a new stream. */
  eventIds?: Set<string>;
}

interface PlannedRow {
  row: ParsedRow;
  streamId: string;
  events: NewEvent[];
}

/** The domain error of a row, on the column it is about. */
function domainRowError(row: number, error: DomainError, idColumn: string): RowError {
  if (error instanceof AggregateAlreadyExists) return { row, column: idColumn, message: error.message };
  // "field: problem" (InvalidInput, and the specs' rules about a field): the field is the column.
  const named = /^(\w+): /.exec(error.message);
  if (error instanceof InvalidInput)
    return { row, column: error.field, message: named ? error.message.slice(named[0].length) : error.message };
  return named ? { row, column: named[1], message: error.message.slice(named[0].length) } : { row, message: error.message };
}

class Planner {
  private readonly streams = new Map<string, StagedStream>();
  private readonly dealCustomers = new Map<string, string | undefined>();
  private readonly campaigns = new Map<string, boolean>();
  private readonly deals;

  constructor(
    private readonly env: ImportEnvironment,
    private readonly options: ImportOptions,
    private readonly importId: string,
  ) {
    this.deals = dealDecider(env.pipeline);
  }

  private async stream(streamId: string, decider: Pick<Decider<unknown, never, never>, 'initialState' | 'evolve'>): Promise<StagedStream> {
    let staged = this.streams.get(streamId);
    if (!staged) {
      const revision = await this.env.store.streamRevision(streamId);
      let state = decider.initialState();
      let eventIds: Set<string> | undefined;
      if (revision >= 0) {
        eventIds = new Set<string>();
        for (const event of await this.env.store.readStream(streamId)) {
          state = decider.evolve(state, { type: event.type, data: event.data, occurredAt: event.occurredAt } as never);
          eventIds.add(event.eventId);
        }
      }
      staged = { state, revision, eventIds };
      this.streams.set(streamId, staged);
    }
    return staged;
  }

  /** The customer of a deal in the store (its DealOpened); undefined when no such deal. */
  private async customerOfDeal(dealId: string): Promise<string | undefined> {
    if (!this.dealCustomers.has(dealId)) {
      const [opened] = await this.env.store.readStream(streamIdOf('deal', dealId), { maxCount: 1 });
      this.dealCustomers.set(dealId, (opened?.data as { customerId?: string } | undefined)?.customerId);
    }
    return this.dealCustomers.get(dealId);
  }

  private async campaignExists(campaignId: string): Promise<boolean> {
    if (!this.campaigns.has(campaignId)) {
      this.campaigns.set(campaignId, (await this.env.store.streamRevision(streamIdOf('campaign', campaignId))) >= 0);
    }
    return this.campaigns.get(campaignId)!;
  }

  /**
   * The row's command, built from the validated body exactly as the API's controller builds it
   * (ids the row leaves out derive from its key), decided on the stream's state with the checks
   * of the command's spec. Returns the events, or `skipped` when an earlier run appended them.
   */
  async plan(dto: Record<string, unknown>, seed: string): Promise<{ streamId: string; events: DomainEvent[] } | 'skipped'> {
    const { type, actor } = this.options;
    const occurredAt = resolveOccurredAt(dto.occurredAt as string | undefined, new Date());
    const id = (dto.id as string | undefined) ?? derivedRecordId(`${seed}|id`);
    const firstEventId = (streamId: string) => deterministicUuid(`${seed}|${streamId}|0`);
    const staged = async (streamId: string, decider: Pick<Decider<unknown, never, never>, 'initialState' | 'evolve'>) => {
      const s = await this.stream(streamId, decider);
      return s.eventIds?.has(firstEventId(streamId)) ? undefined : s;
    };
    switch (type) {
      case 'customers': {
        const { id: _, occurredAt: __, source, ownerId, ...profile } = dto;
        // As the API: an owner left unsaid is the importer's, unless customers are auto-assigned (by the automation).
        const autoAssign = this.env.autoAssignCustomers && this.options.automation !== false;
        const data = compact({
          customerId: id,
          ...profile,
          source: source ?? 'direct',
          ownerId: ownerId ?? (autoAssign ? undefined : actor),
        });
        const streamId = streamIdOf('customer', id);
        const s = await staged(streamId, customerDecider);
        if (!s) return 'skipped';
        const command = { type: 'RegisterCustomer', data, occurredAt } as CustomerCommand;
        return { streamId, events: customerDecider.decide(command, s.state as never) };
      }
      case 'leads': {
        const { id: _, occurredAt: __, ownerId, ...lead } = dto;
        const data = compact({ leadId: id, ...lead }) as Extract<LeadCommand, { type: 'CaptureLead' }>['data'];
        const streamId = streamIdOf('lead', id);
        const s = await staged(streamId, leadDecider);
        if (!s) return 'skipped';
        if (data.campaignId !== undefined && !(await this.campaignExists(data.campaignId))) {
          throw new BusinessRuleViolation(`campaignId: ${streamIdOf('campaign', data.campaignId)} does not exist`, 'unknown-campaign');
        }
        const state = s.state as LeadState;
        const captured = leadDecider.decide({ type: 'CaptureLead', data, occurredAt }, state);
        if (ownerId === undefined) return { streamId, events: captured };
        // A lead captured with an owner: LeadCaptured and LeadAssigned in one append (as the API's CaptureLead).
        const after = captured.reduce(leadDecider.evolve, state);
        const assign: LeadCommand = {
          type: 'AssignLead',
          data: { leadId: id, ownerId: ownerId as string, strategy: 'capture' },
          occurredAt,
        };
        return { streamId, events: [...captured, ...leadDecider.decide(assign, after)] };
      }
      case 'deals': {
        const { id: _, occurredAt: __, ownerId, source, ...deal } = dto;
        const data = compact({ dealId: id, ...deal, ownerId: ownerId ?? actor, source: source ?? '' }) as Extract<
          DealCommand,
          { type: 'OpenDeal' }
        >['data'];
        const streamId = streamIdOf('deal', id);
        const s = await staged(streamId, this.deals);
        if (!s) return 'skipped';
        const customerStream = streamIdOf('customer', data.customerId);
        const customer = (await this.stream(customerStream, customerDecider)).state as CustomerState;
        if (!customer.exists) throw new BusinessRuleViolation(`customerId: ${customerStream} does not exist`, 'unknown-customer');
        // As the API: no deal for a merged customer (docs/merging.md). An empty source is the customer's.
        assertNotMerged(customer, customerStream);
        const command: DealCommand = { type: 'OpenDeal', data: data.source ? data : { ...data, source: customer.source }, occurredAt };
        return { streamId, events: this.deals.decide(command, s.state as never) };
      }
      case 'interactions': {
        const { id: _, occurredAt: __, customerId, ...interaction } = dto;
        const interactionId = id;
        const data = compact({ customerId, interactionId, ...interaction }) as Extract<CustomerCommand, { type: 'LogInteraction' }>['data'];
        const streamId = streamIdOf('customer', customerId as string);
        const s = await staged(streamId, customerDecider);
        if (!s) return 'skipped';
        const { exists, personalDataErased } = s.state as CustomerState;
        if (!exists) throw new BusinessRuleViolation(`customerId: ${streamId} does not exist`, 'unknown-customer');
        assertNotMerged(s.state as CustomerState, streamId);
        // What the API's append would refuse: free text about a person whose personal data was erased.
        if (personalDataErased) throw new PersonalDataErasedError(streamId);
        if (data.dealId !== undefined) {
          const dealStream = streamIdOf('deal', data.dealId);
          const dealCustomer = await this.customerOfDeal(data.dealId);
          if (dealCustomer === undefined) throw new BusinessRuleViolation(`dealId: ${dealStream} does not exist`, 'unknown-deal');
          if (dealCustomer !== customerId)
            throw new BusinessRuleViolation(
              `dealId: ${dealStream} is a deal of another customer, not of ${streamId}`,
              'deal-of-another-customer',
            );
        }
        return { streamId, events: decideLogInteraction({ type: 'LogInteraction', data, occurredAt }, exists) };
      }
    }
  }

  /** Folds a planned row's events into its stream's staged state; returns them as the events to append. */
  stage(streamId: string, events: DomainEvent[], seed: string): NewEvent[] {
    const s = this.streams.get(streamId)!;
    const decider = (streamId.startsWith('deal-')
      ? this.deals
      : streamId.startsWith('lead-')
        ? leadDecider
        : customerDecider) as unknown as Decider<unknown, never, DomainEvent>;
    for (const event of events) s.state = decider.evolve(s.state, event);
    const automation = this.options.automation !== false;
    return events.map((event, index) => ({
      eventId: deterministicUuid(`${seed}|${streamId}|${index}`),
      type: event.type,
      data: event.data,
      schemaVersion: schemaVersionOf(event.type),
      metadata: {
        import: { type: this.options.type, automation },
        occurredAt: event.occurredAt,
        actor: this.options.actor,
        correlationId: this.importId,
        causationId: this.importId,
      },
    }));
  }

  /** The revision a stream is at before the import's appends (-1: none); advances as appends are planned. */
  advance(streamId: string, count: number): ExpectedRevision {
    const s = this.streams.get(streamId)!;
    const expected = s.revision < 0 ? ExpectedRevision.NoStream : s.revision;
    s.revision += count;
    return expected;
  }
}

/** Rows appended together: at most this many appends in flight (group commit batches them). */
const WINDOW = 2000;

/**
 * Imports a file: every row parsed, validated as the API validates its body, and decided as the
 * API's command would be (on the stream's state, with the command's checks); then, only if no row
 * is invalid (or with `skipInvalid`), the events are appended through `env.store` — the store as
 * the application sees it, so personal fields are sealed as for the API. Event ids derive from
 * each row's key: a row imported before is skipped, and an import run again appends nothing twice.
 */
export async function runImport(env: ImportEnvironment, content: string, options: ImportOptions): Promise<ImportResult> {
  const importId = options.correlationId ?? randomUUID();
  const { dto, numeric } = DTOS[options.type];
  const parsed = parseImport(content, options.format, numeric);
  const rejected: RowError[] = [...parsed.errors];
  const rejectedRows: ParsedRow[] = [];
  const result = (extra: Partial<ImportResult>): ImportResult => ({
    importId,
    rows: parsed.rows.length,
    refused: false,
    appended: 0,
    events: 0,
    skipped: 0,
    rejected: rejected.sort((a, b) => a.row - b.row),
    rejectedRows: rejectedRows.sort((a, b) => a.row - b.row),
    position: 0,
    ...extra,
  });
  const columns = columnsOf(dto);
  // A CSV column that is no field of the record (nor the key column) is a mistake in the header.
  for (const column of parsed.columns ?? []) {
    if (!columns.has(column) && column !== options.key && !(column.startsWith('attributes.') && columns.has('attributes')))
      rejected.push({ row: 0, column, message: `is not a field of ${options.type} (${[...columns].join(', ')})` });
  }
  // A problem with the file itself (its header, an unclosed quote): nothing can be imported.
  if (rejected.length > 0) return result({ refused: true });
  const planner = new Planner(env, options, importId);
  const planned: PlannedRow[] = [];
  const seeds = new Map<string, number>();
  let skipped = 0;
  const total = parsed.rows.length;
  for (let i = 0; i < total; i++) {
    const row = parsed.rows[i];
    if (i % 1000 === 0) options.onProgress?.({ phase: 'validate', done: i, total });
    const errors: RowError[] = [...(row.errors ?? [])];
    if (errors.length === 0) {
      const key = rowKey(row.fields, options.key);
      const seed = `import|${options.type}|${key}`;
      const earlier = seeds.get(seed);
      if (key === undefined)
        errors.push({ row: row.row, column: options.key, message: `the key column ${options.key} is empty or missing` });
      else if (earlier !== undefined) errors.push({ row: row.row, column: options.key, message: `has the same key as row ${earlier}` });
      else seeds.set(seed, row.row);
      // A key column of the import's own (a legacy id, say) is not a field of the record.
      let fields = row.fields;
      if (options.key !== undefined && !columns.has(options.key)) {
        const { [options.key]: _, ...rest } = fields;
        fields = rest;
      }
      const { value, errors: invalid } = validateRow(dto, fields, row.row);
      errors.push(...invalid);
      if (errors.length === 0 && value) {
        try {
          const plan = await planner.plan(value, seed);
          if (plan === 'skipped') skipped++;
          else planned.push({ row, streamId: plan.streamId, events: planner.stage(plan.streamId, plan.events, seed) });
        } catch (error) {
          if (!(error instanceof DomainError)) throw error;
          errors.push(domainRowError(row.row, error, 'id'));
        }
      }
    }
    if (errors.length > 0) {
      rejected.push(...errors);
      rejectedRows.push(row);
    }
  }
  options.onProgress?.({ phase: 'validate', done: total, total });
  if (rejected.length > 0 && !options.skipInvalid) return result({ skipped, refused: true });

  // Append: a window of rows at a time, one append per stream (its rows' events in file order), all in flight at once.
  let appended = 0;
  let events = 0;
  let position = 0;
  for (let i = 0; i < planned.length; i += WINDOW) {
    const window = planned.slice(i, i + WINDOW);
    // The keys of the window's new people, made in one write; then every append seals at once.
    await env.store.prepareKeys(window.flatMap((p) => p.events));
    const byStream = new Map<string, PlannedRow[]>();
    for (const p of window) {
      const rows = byStream.get(p.streamId);
      if (rows) rows.push(p);
      else byStream.set(p.streamId, [p]);
    }
    await Promise.all(
      [...byStream].map(async ([streamId, rows]) => {
        const newEvents = rows.flatMap((r) => r.events);
        try {
          const done = await env.store.append(streamId, newEvents, { expectedRevision: planner.advance(streamId, newEvents.length) });
          appended += rows.length;
          events += newEvents.length;
          position = Math.max(position, done.position);
        } catch (error) {
          for (const r of rows) {
            rejected.push({ row: r.row.row, message: `not appended: ${(error as Error).message}` });
            rejectedRows.push(r.row);
          }
        }
      }),
    );
    options.onProgress?.({ phase: 'append', done: Math.min(planned.length, i + WINDOW), total: planned.length });
  }
  return result({ appended, events, skipped, position });
}

/** Whether customers registered without an owner are left to the assignment process manager (as CommandEnvironment decides). */
export const autoAssignsCustomers = (config: Pick<ChronicleConfig, 'automation' | 'assignment'>): boolean =>
  config.automation && config.assignment.strategy !== 'off' && config.assignment.customers;
