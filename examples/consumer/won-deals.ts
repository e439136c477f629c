/**
 * A downstream service, as a team outside Chronicle would write it: a kafkajs consumer group on
 * `crm.deal` that keeps a tiny view — won deals and revenue per owner — in a JSON file.
 *
 * - At least once: Kafka may deliver an event twice (a relay resend, a consumer restart before
 *   its offsets were committed). The view remembers the eventIds it applied and skips repeats,
 *   so every event counts exactly once.
 * - Order per deal: the key is the stream id, so one deal's events share a partition and arrive
 *   in revision order — DealOpened (with the owner) always before DealWon.
 * - The file (view + seen ids) is written, atomically, before the batch's offsets are committed:
 *   a crash in between redelivers events the file already has, which the dedupe skips.
 */
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { Consumer, Kafka, KafkaMessage, logLevel } from 'kafkajs';
import { ContractValidator } from './contract';

/**
 * The part of Chronicle's envelope (version 1) this service reads. Self-contained on purpose: a
 * downstream service depends on the documented JSON, not on Chronicle's code.
 */
export interface EventEnvelope {
  envelopeVersion: 1;
  eventId: string;
  type: string;
  schemaVersion: number;
  streamId: string;
  streamRevision: number;
  occurredAt: string;
  data: unknown;
}

export function parseEnvelope(value: Buffer | null): EventEnvelope {
  const envelope = JSON.parse(value?.toString('utf8') ?? 'null') as EventEnvelope | null;
  // A newer envelope version may mean different fields: stop rather than misread.
  if (envelope?.envelopeVersion !== 1) throw new Error(`unsupported envelope ${JSON.stringify(envelope?.envelopeVersion)}`);
  return envelope;
}

/**
 * A batch's events, each checked against Chronicle's contract (contract.ts) before any is applied.
 * A message that does not match throws ContractViolation: the consumer stops there (kafkajs
 * retries the batch, its offsets stay uncommitted) rather than skip an event its view needs or
 * misread one. Fix the consumer (a newer contract) or the producer, and it resumes at that message.
 */
export function readBatch(messages: Pick<KafkaMessage, 'value' | 'headers'>[], contract: ContractValidator): EventEnvelope[] {
  return messages.map((message) => {
    const envelope = parseEnvelope(message.value);
    contract.check(envelope, message.headers);
    return envelope;
  });
}

export interface OwnerTotals {
  wonDeals: number;
  revenue: number;
}

export interface WonDealsView {
  owners: Record<string, OwnerTotals>;
  /** Deal id → owner and current amount, from DealOpened / DealAmountChanged. */
  deals: Record<string, { ownerId: string; amount: number }>;
  /** eventIds already applied (the dedupe). A per-stream "last revision applied" would be a compact alternative, thanks to the per-key order. */
  seen: string[];
  applied: number;
  duplicatesSkipped: number;
}

export const emptyView = (): WonDealsView => ({ owners: {}, deals: {}, seen: [], applied: 0, duplicatesSkipped: 0 });

/** Applies one event to the view unless its eventId was applied before. Returns false for a duplicate. */
export function apply(view: WonDealsView, seen: Set<string>, event: EventEnvelope): boolean {
  if (seen.has(event.eventId)) {
    view.duplicatesSkipped += 1;
    return false;
  }
  const data = event.data as { dealId: string; ownerId?: string; amount?: number; to?: number };
  switch (event.type) {
    case 'DealOpened':
      view.deals[data.dealId] = { ownerId: data.ownerId ?? 'unassigned', amount: data.amount ?? 0 };
      break;
    case 'DealAmountChanged':
      if (view.deals[data.dealId]) view.deals[data.dealId].amount = data.to ?? view.deals[data.dealId].amount;
      break;
    case 'DealWon': {
      const deal = view.deals[data.dealId] ?? { ownerId: 'unknown', amount: 0 };
      const totals = (view.owners[deal.ownerId] ??= { wonDeals: 0, revenue: 0 });
      totals.wonDeals += 1;
      totals.revenue = Math.round((totals.revenue + (data.amount ?? deal.amount)) * 100) / 100;
      break;
    }
    default:
      break; // other deal events do not change this view
  }
  seen.add(event.eventId);
  view.applied += 1;
  return true;
}

export function loadView(file: string): WonDealsView {
  return existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as WonDealsView) : emptyView();
}

function saveView(file: string, view: WonDealsView, seen: Set<string>): void {
  view.seen = [...seen];
  writeFileSync(`${file}.tmp`, JSON.stringify(view));
  renameSync(`${file}.tmp`, file); // atomic: a crash leaves the old file or the new one
}

export interface WonDealsConsumerOptions {
  brokers: string[];
  /** Default `crm` (Chronicle's KAFKA_TOPIC_PREFIX). */
  topicPrefix?: string;
  groupId?: string;
  stateFile: string;
  /** Default: ContractValidator.fromFile() (docs/asyncapi.json, or CHRONICLE_CONTRACT). */
  contract?: ContractValidator;
}

export class WonDealsConsumer {
  private consumer?: Consumer;
  readonly view: WonDealsView;
  private readonly seen: Set<string>;
  private readonly contract: ContractValidator;

  constructor(private readonly options: WonDealsConsumerOptions) {
    this.view = loadView(options.stateFile);
    this.seen = new Set(this.view.seen);
    this.contract = options.contract ?? ContractValidator.fromFile();
  }

  async start(): Promise<void> {
    const kafka = new Kafka({ clientId: 'won-deals-example', brokers: this.options.brokers, logLevel: logLevel.WARN });
    this.consumer = kafka.consumer({ groupId: this.options.groupId ?? 'won-deals-example', allowAutoTopicCreation: false });
    await this.consumer.connect();
    await this.consumer.subscribe({ topics: [`${this.options.topicPrefix ?? 'crm'}.deal`], fromBeginning: true });
    await this.consumer.run({
      eachBatchAutoResolve: false,
      eachBatch: async ({ batch, resolveOffset, heartbeat, commitOffsetsIfNecessary }) => {
        let events: EventEnvelope[];
        try {
          events = readBatch(batch.messages, this.contract);
        } catch (error) {
          process.stderr.write(`won-deals: stopped at ${batch.topic}/${batch.partition}: ${(error as Error).message}\n`);
          throw error;
        }
        for (const event of events) apply(this.view, this.seen, event);
        saveView(this.options.stateFile, this.view, this.seen); // first the view…
        for (const message of batch.messages) resolveOffset(message.offset);
        await commitOffsetsIfNecessary(); // …then the offsets
        await heartbeat();
      },
    });
  }

  async stop(): Promise<void> {
    await this.consumer?.disconnect();
  }
}
