import { createHash } from 'node:crypto';
import {
  campaignDecider,
  Command,
  customerDecider,
  CustomerState,
  Decider,
  dealDecider,
  DealState,
  defaultPipeline,
  DomainEvent,
  InteractionTypes,
  leadDecider,
  LeadState,
  onDealWon,
  customerFromLead,
  Pipeline,
  streamIdOf,
  taskDecider,
  TaskState,
} from '@chronicle/domain';

/** An event of the generated history, as the command handlers would have appended it. */
export interface SeedEvent {
  streamId: string;
  type: string;
  data: unknown;
  occurredAt: string;
  actor: string;
}

export interface SeedOptions {
  /** Approximate number of events to generate. */
  events: number;
  /** PRNG seed: the same seed gives the same history. */
  seed?: number;
  /** History ends here (default: now) and spans `years` before it. */
  end?: Date;
  years?: number;
  pipeline?: Pipeline;
}

const DAY = 86_400_000;
const HOUR = 3_600_000;
const SOURCES = ['web', 'referral', 'paid-search', 'social', 'events', 'partner'];
const SOURCE_WEIGHTS = [30, 15, 25, 12, 10, 8];
const REGIONS = ['emea', 'amer', 'apac'];
const INDUSTRIES = ['software', 'retail', 'finance', 'health', 'manufacturing', 'education'];
const OWNERS = Array.from({ length: 12 }, (_, i) => `rep-${String(i + 1).padStart(2, '0')}`);
const LOSS_REASONS = ['price', 'competitor', 'no-decision', 'timing', 'features'];
const CHURN_REASONS = ['price', 'support', 'moved-to-competitor', 'budget-cut', 'no-longer-needed'];

/** mulberry32: a small, fast, seeded PRNG (histories must be reproducible). */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * A record id of the seeded history: a UUID (version 4 layout, as the API generates and accepts),
 * derived from the seed, the record's kind and its number, so the same seed gives the same ids
 * and seeded people can be read and erased through the API like any other. One PRNG draw per id,
 * as before, so the rest of a seeded history is unchanged.
 */
export function seedId(seed: number, kind: string, n: number, draw: number): string {
  const h = createHash('sha256').update(`${seed}:${kind}:${n}:${draw}`).digest('hex');
  const variant = ((parseInt(h[16], 16) & 0x3) | 0x8).toString(16);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-${variant}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/**
 * A realistic CRM history: leads from several sources (some from campaigns), qualified,
 * disqualified or converted into customers; customers with deals moving through the pipeline
 * to wins and losses, purchases, interactions, churn and reactivation; campaigns with monthly
 * spend (and some unattributed spend); tasks. Every command goes through the real deciders,
 * so the history obeys every domain rule. Events come back sorted by business time.
 */
export function generateHistory(options: SeedOptions): SeedEvent[] {
  const random = prng(options.seed ?? 42);
  const pipeline = options.pipeline ?? defaultPipeline;
  const deal = dealDecider(pipeline);
  const end = (options.end ?? new Date()).getTime() - HOUR;
  const start = end - (options.years ?? 2) * 365 * DAY;
  const out: SeedEvent[] = [];
  let counter = 0;
  const id = (kind: string) => seedId(options.seed ?? 42, kind, ++counter, Math.floor(random() * 0xffff));
  const pick = <T>(items: readonly T[]) => items[Math.floor(random() * items.length)];
  const weighted = <T>(items: readonly T[], weights: number[]) => {
    let r = random() * weights.reduce((a, b) => a + b, 0);
    for (let i = 0; i < items.length; i++) if ((r -= weights[i]) < 0) return items[i];
    return items[items.length - 1];
  };
  const at = (ms: number) => new Date(Math.min(ms, end)).toISOString();
  const exp = (meanMs: number) => -Math.log(1 - random()) * meanMs;

  /** Decides a command on an aggregate's state, appends its events, and keeps the state. */
  function apply<S, C extends Command, E extends DomainEvent>(
    decider: Decider<S, C, E>,
    states: Map<string, S>,
    streamId: string,
    command: C,
    actor: string,
  ): E[] {
    const state = states.get(streamId) ?? decider.initialState();
    let events: E[];
    try {
      events = decider.decide(command, state);
    } catch {
      return [];
    }
    states.set(streamId, events.reduce(decider.evolve, state));
    for (const e of events) out.push({ streamId, type: e.type, data: e.data, occurredAt: e.occurredAt, actor });
    return events;
  }

  // Roughly 40 events per lead (a converted lead brings a customer's whole life)'s customer life; size the number of leads to the target.
  const leadsTotal = Math.max(10, Math.round(options.events / 40));
  const campaigns: { id: string; channel: string; launched: number }[] = [];
  const campaignStates = new Map<string, unknown>();
  const monthly = Math.max(1, Math.round(leadsTotal / 2000));
  for (let m = start; m < end; m += 30 * DAY) {
    for (let k = 0; k < monthly; k++) {
      const campaignId = id('camp');
      const channel = weighted(SOURCES, SOURCE_WEIGHTS);
      const launched = m + random() * 5 * DAY;
      apply(
        campaignDecider,
        campaignStates as never,
        streamIdOf('campaign', campaignId),
        {
          type: 'LaunchCampaign',
          data: {
            campaignId,
            name: `${channel} push ${new Date(launched).toISOString().slice(0, 7)}`,
            channel,
            budget: 5000 + Math.round(random() * 45000),
          },
          occurredAt: at(launched),
        },
        pick(OWNERS),
      );
      campaigns.push({ id: campaignId, channel, launched });
      for (let w = 1; w <= 4; w++) {
        const when = launched + w * 7 * DAY;
        if (when < end)
          apply(
            campaignDecider,
            campaignStates as never,
            streamIdOf('campaign', campaignId),
            {
              type: 'RecordSpend',
              data: {
                spendId: id('spend'),
                amount: Math.round(200 + random() * 3000),
                category: random() < 0.8 ? 'marketing' : 'sales',
                campaignId,
              },
              occurredAt: at(when),
            },
            'finance',
          );
      }
    }
    // Spend outside campaigns: tooling by channel, and some with no channel at all.
    const channel = weighted(SOURCES, SOURCE_WEIGHTS);
    apply(
      campaignDecider,
      new Map(),
      streamIdOf('spend', channel),
      {
        type: 'RecordSpend',
        data: { spendId: id('spend'), amount: Math.round(500 + random() * 2000), category: 'sales', channel },
        occurredAt: at(m + random() * 28 * DAY),
      },
      'finance',
    );
    apply(
      campaignDecider,
      new Map(),
      'spend-unattributed',
      {
        type: 'RecordSpend',
        data: { spendId: id('spend'), amount: Math.round(100 + random() * 1500), category: 'marketing' },
        occurredAt: at(m + random() * 28 * DAY),
      },
      'finance',
    );
  }

  const leads = new Map<string, LeadState>();
  const customers = new Map<string, CustomerState>();
  const deals = new Map<string, DealState>();
  const tasks = new Map<string, TaskState>();

  for (let n = 0; n < leadsTotal; n++) {
    const owner = pick(OWNERS);
    const captured = start + random() * (end - start);
    const recentCampaigns = campaigns.filter((c) => c.launched <= captured && c.launched > captured - 60 * DAY);
    const campaign = random() < 0.4 && recentCampaigns.length ? pick(recentCampaigns) : undefined;
    const source = campaign?.channel ?? weighted(SOURCES, SOURCE_WEIGHTS);
    const leadId = id('lead');
    const leadStream = streamIdOf('lead', leadId);
    apply(
      leadDecider,
      leads,
      leadStream,
      {
        type: 'CaptureLead',
        data: {
          leadId,
          name: `Lead ${n}`,
          email: `lead${n}@example.com`,
          source,
          ...(campaign ? { campaignId: campaign.id } : {}),
          attributes: { industry: pick(INDUSTRIES), employees: Math.round(exp(200)) },
        },
        occurredAt: at(captured),
      },
      owner,
    );
    let t = captured + exp(2 * DAY);
    apply(
      leadDecider,
      leads,
      leadStream,
      { type: 'AssignLead', data: { leadId, ownerId: owner, strategy: 'round-robin' }, occurredAt: at(t) },
      'system',
    );
    apply(
      leadDecider,
      leads,
      leadStream,
      { type: 'ScoreLead', data: { leadId, score: Math.round(random() * 100), reasons: ['profile', 'engagement'] }, occurredAt: at(t) },
      'system',
    );
    if (t >= end) continue;
    const fate = random();
    if (fate < 0.25) {
      apply(
        leadDecider,
        leads,
        leadStream,
        {
          type: 'DisqualifyLead',
          data: { leadId, reason: pick(['no budget', 'not a fit', 'unresponsive']) },
          occurredAt: at(t + exp(5 * DAY)),
        },
        owner,
      );
      continue;
    }
    t += exp(4 * DAY);
    apply(leadDecider, leads, leadStream, { type: 'QualifyLead', data: { leadId }, occurredAt: at(t) }, owner);
    if (fate < 0.45 || t >= end) continue;
    t += exp(6 * DAY);
    if (t >= end) continue;
    const customerId = id('cust');
    const customerStream = streamIdOf('customer', customerId);
    const [converted] = apply(
      leadDecider,
      leads,
      leadStream,
      { type: 'ConvertLead', data: { leadId, customerId }, occurredAt: at(t) },
      owner,
    );
    if (!converted) continue;
    const register = customerFromLead(leads.get(leadStream)!, customerId, at(t));
    register.data = { ...register.data, region: pick(REGIONS), industry: pick(INDUSTRIES), company: `Company ${n}` };
    apply(customerDecider, customers, customerStream, register, 'system:process-manager');
    simulateCustomer(customerId, customerStream, owner, source, t);
  }

  function simulateCustomer(customerId: string, stream: string, owner: string, source: string, registered: number) {
    // The customer's commands are decided in business-time order: deals, purchases, interactions, churn.
    type Planned = { time: number; run: () => void };
    const plan: Planned[] = [];
    const dealCount = 1 + Math.floor(exp(1.2));
    for (let k = 0; k < dealCount; k++) {
      const opened = registered + exp(20 * DAY) + k * exp(90 * DAY);
      if (opened >= end) break;
      const dealId = id('deal');
      const dealStream = streamIdOf('deal', dealId);
      const amount = Math.round(1000 + exp(15000));
      let t = opened;
      plan.push({
        time: opened,
        run: () =>
          apply(
            deal,
            deals,
            dealStream,
            {
              type: 'OpenDeal',
              data: {
                dealId,
                customerId,
                title: `Deal ${k + 1}`,
                amount,
                ownerId: owner,
                source,
                expectedCloseDate: at(opened + 30 * DAY + random() * 90 * DAY).slice(0, 10),
              },
              occurredAt: at(opened),
            },
            owner,
          ),
      });
      const outcome = random();
      const reach = outcome < 0.35 ? pipeline.stages.length : 1 + Math.floor(random() * pipeline.stages.length);
      for (let s = 1; s < reach; s++) {
        t += exp(9 * DAY);
        const stage = pipeline.stages[s].name;
        const when = t;
        plan.push({
          time: when,
          run: () => apply(deal, deals, dealStream, { type: 'ChangeDealStage', data: { dealId, stage }, occurredAt: at(when) }, owner),
        });
        if (random() < 0.25) {
          const newAmount = Math.round(amount * (0.8 + random() * 0.4));
          plan.push({
            time: when,
            run: () =>
              apply(deal, deals, dealStream, { type: 'UpdateDeal', data: { dealId, amount: newAmount }, occurredAt: at(when) }, owner),
          });
        }
        for (let i = 0; i < 2; i++) plan.push(interaction(when - random() * 3 * DAY, owner, dealId));
      }
      t += exp(10 * DAY);
      const close = t;
      if (close < end && outcome < 0.35) {
        plan.push({
          time: close,
          run: () => {
            const [won] = apply(deal, deals, dealStream, { type: 'WinDeal', data: { dealId }, occurredAt: at(close) }, owner);
            if (won?.type === 'DealWon') apply(customerDecider, customers, stream, onDealWon(won), 'system:process-manager');
          },
        });
      } else if (close < end && outcome < 0.75) {
        plan.push({
          time: close,
          run: () =>
            apply(
              deal,
              deals,
              dealStream,
              { type: 'LoseDeal', data: { dealId, reason: pick(LOSS_REASONS) }, occurredAt: at(close) },
              owner,
            ),
        });
      }
      if (random() < 0.5) {
        const taskId = id('task');
        const created = opened + exp(3 * DAY);
        plan.push({
          time: created,
          run: () =>
            apply(
              taskDecider,
              tasks,
              streamIdOf('task', taskId),
              {
                type: 'CreateTask',
                data: { taskId, ownerId: owner, subject: 'Follow up', dueAt: at(created + 2 * DAY), customerId, dealId },
                occurredAt: at(created),
              },
              owner,
            ),
        });
        const completed = created + exp(2 * DAY);
        if (random() < 0.8)
          plan.push({
            time: completed,
            run: () =>
              apply(
                taskDecider,
                tasks,
                streamIdOf('task', taskId),
                { type: 'CompleteTask', data: { taskId }, occurredAt: at(completed) },
                owner,
              ),
          });
      }
    }
    // Purchases, interactions, churn and reactivation through the customer's life.
    let t = registered + exp(45 * DAY);
    while (t < end) {
      if (random() < 0.35) {
        const when = t;
        plan.push({
          time: when,
          run: () =>
            apply(
              customerDecider,
              customers,
              stream,
              {
                type: 'RecordPurchase',
                data: { customerId, purchaseId: id('purchase'), amount: Math.round(50 + exp(800)) },
                occurredAt: at(when),
              },
              owner,
            ),
        });
      }
      for (let i = 0; i < 8; i++) plan.push(interaction(t + random() * 30 * DAY, owner));
      const r = random();
      if (r < 0.06) {
        const when = t + random() * 30 * DAY;
        plan.push({
          time: when,
          run: () =>
            apply(
              customerDecider,
              customers,
              stream,
              { type: 'ChurnCustomer', data: { customerId, reason: pick(CHURN_REASONS) }, occurredAt: at(when) },
              owner,
            ),
        });
      } else if (r < 0.08) {
        const when = t + random() * 30 * DAY;
        plan.push({
          time: when,
          run: () =>
            apply(
              customerDecider,
              customers,
              stream,
              { type: 'ReactivateCustomer', data: { customerId, reason: 'won back' }, occurredAt: at(when) },
              owner,
            ),
        });
      }
      t += 30 * DAY + exp(20 * DAY);
    }
    function interaction(time: number, actor: string, dealId?: string): Planned {
      return {
        time,
        run: () =>
          apply(
            customerDecider,
            customers,
            stream,
            {
              type: 'LogInteraction',
              data: {
                customerId,
                interactionId: id('int'),
                type: pick(InteractionTypes),
                direction: random() < 0.6 ? 'outbound' : 'inbound',
                subject: 'Touchpoint',
                durationMinutes: Math.round(exp(20)),
                ...(dealId ? { dealId } : {}),
              },
              occurredAt: at(time),
            },
            actor,
          ),
      };
    }
    plan
      .filter((p) => p.time < end && p.time >= registered)
      .sort((a, b) => a.time - b.time)
      .forEach((p) => p.run());
  }

  // Stable sort keeps each stream's own order for events at the same instant.
  return out
    .map((e, i) => ({ e, i }))
    .sort((a, b) => (a.e.occurredAt < b.e.occurredAt ? -1 : a.e.occurredAt > b.e.occurredAt ? 1 : a.i - b.i))
    .map(({ e }) => e);
}
