import fc from 'fast-check';
import {
  campaignDecider,
  customerDecider,
  CustomerState,
  dealDecider,
  DealState,
  defaultPipeline,
  DomainEvent,
  leadDecider,
  LeadState,
  onDealWon,
  customerFromLead,
  taskDecider,
  TaskState,
  CampaignState,
  Command,
  Decider,
  InteractionTypes,
} from '@chronicle/domain';
import type { ScenarioEvent } from './harness';

export const SOURCES = ['web', 'referral', 'ads', 'events'] as const;
export const OWNERS = ['u1', 'u2', 'u3'] as const;
export const REGIONS = ['emea', 'amer', 'apac'] as const;
const DAY = 86_400_000;

/** One step of a random script; `pick` and `choice` select targets and options. */
export interface Step {
  kind:
    | 'register'
    | 'purchase'
    | 'interaction'
    | 'churn'
    | 'reactivate'
    | 'openDeal'
    | 'stage'
    | 'amount'
    | 'closeDate'
    | 'win'
    | 'lose'
    | 'lead'
    | 'qualify'
    | 'disqualify'
    | 'convert'
    | 'campaign'
    | 'spend'
    | 'task'
    | 'completeTask'
    | 'editTask'
    | 'cancelTask'
    | 'reassignTask'
    | 'reopen';
  pick: number;
  choice: number;
  amount: number;
  /** How far business time moves before this step. */
  advance: number;
}

/** Edits, cancellations and reassignments of tasks: only in histories that ask for them (`taskChanges`), so the others stay as they were. */
const TASK_CHANGES: Step['kind'][] = ['editTask', 'cancelTask', 'reassignTask', 'task'];

const stepArbitraryOf = (extra: Step['kind'][]): fc.Arbitrary<Step> =>
  fc.record({
    kind: fc.constantFrom<Step['kind']>(
      'register',
      'register',
      'purchase',
      'interaction',
      'churn',
      'reactivate',
      'openDeal',
      'openDeal',
      'stage',
      'stage',
      'amount',
      'closeDate',
      'win',
      'lose',
      'lead',
      'qualify',
      'disqualify',
      'convert',
      'campaign',
      'spend',
      'spend',
      'task',
      'completeTask',
      ...extra,
    ),
    pick: fc.nat(1000),
    choice: fc.nat(1000),
    amount: fc.oneof(
      fc.constant(0),
      fc.integer({ min: 1, max: 50_000 }),
      fc.double({ min: 0, max: 10_000, noNaN: true, noDefaultInfinity: true }),
    ),
    // Mostly hours to days; sometimes nothing (same instant) or a jump to the next UTC midnight.
    advance: fc.oneof(fc.constant(0), fc.constant(-1), fc.integer({ min: 60_000, max: 20 * DAY })),
  });
/** Reopened deals (issue 16): only in histories that ask for them (`reopens`); wins and losses come more often there, so that deals close, reopen and close again. */
const REOPENS: Step['kind'][] = ['reopen', 'reopen', 'win', 'lose'];
const stepArbitrary = stepArbitraryOf([]);
const stepWithTaskChangesArbitrary = stepArbitraryOf(TASK_CHANGES);
const stepWithReopensArbitrary = stepArbitraryOf(REOPENS);
const stepWithBothArbitrary = stepArbitraryOf([...TASK_CHANGES, ...REOPENS]);

/** Random but valid histories: commands decided by the real deciders, rejected ones dropped. */
export const historyArbitrary = (
  options: { minSteps?: number; maxSteps?: number; start?: string; taskChanges?: boolean; reopens?: boolean } = {},
) =>
  fc
    .array(
      options.taskChanges
        ? options.reopens
          ? stepWithBothArbitrary
          : stepWithTaskChangesArbitrary
        : options.reopens
          ? stepWithReopensArbitrary
          : stepArbitrary,
      {
        minLength: options.minSteps ?? 10,
        maxLength: options.maxSteps ?? 120,
      },
    )
    .map((steps) => runScript(steps, options.start));

/** Plays a script through the deciders, as the command handlers and process managers would. */
export function runScript(steps: Step[], start = '2024-01-01T00:00:00.000Z'): ScenarioEvent[] {
  const out: ScenarioEvent[] = [];
  const deal = dealDecider(defaultPipeline);
  const customers = new Map<string, CustomerState>();
  const deals = new Map<string, DealState>();
  const leads = new Map<string, LeadState>();
  const campaigns = new Map<string, CampaignState>();
  const tasks = new Map<string, TaskState>();
  let now = Date.parse(start);
  let n = 0;
  const id = (prefix: string) => `${prefix}${String(++n).padStart(4, '0')}`;

  function run<S, C extends Command, E extends DomainEvent>(
    decider: Decider<S, C, E>,
    states: Map<string, S>,
    category: string,
    key: string,
    command: C,
    actor: string,
  ): E[] {
    const state = states.get(key) ?? decider.initialState();
    let events: E[];
    try {
      events = decider.decide(command, state);
    } catch {
      return [];
    }
    states.set(key, events.reduce(decider.evolve, state));
    for (const e of events)
      out.push({ streamId: `${category}-${key}`, type: e.type, data: e.data as Record<string, unknown>, occurredAt: e.occurredAt, actor });
    return events;
  }
  const pickOf = <T>(map: Map<string, T>, pick: number, where: (v: T) => boolean = () => true): string | undefined => {
    const keys = [...map.entries()].filter(([, v]) => where(v)).map(([k]) => k);
    return keys.length ? keys[pick % keys.length] : undefined;
  };

  for (const step of steps) {
    now = step.advance === -1 ? Math.floor(now / DAY) * DAY + DAY : now + step.advance;
    const at = new Date(now).toISOString();
    const owner = OWNERS[step.choice % OWNERS.length];
    const source = SOURCES[step.choice % SOURCES.length];
    switch (step.kind) {
      case 'register': {
        const customerId = id('c');
        run(
          customerDecider,
          customers,
          'customer',
          customerId,
          {
            type: 'RegisterCustomer',
            data: { customerId, name: `Customer ${customerId}`, source, ownerId: owner, region: REGIONS[step.pick % REGIONS.length] },
            occurredAt: at,
          },
          owner,
        );
        break;
      }
      case 'purchase': {
        const customerId = pickOf(customers, step.pick);
        if (customerId)
          run(
            customerDecider,
            customers,
            'customer',
            customerId,
            { type: 'RecordPurchase', data: { customerId, purchaseId: id('p'), amount: step.amount }, occurredAt: at },
            owner,
          );
        break;
      }
      case 'interaction': {
        const customerId = pickOf(customers, step.pick);
        const type = InteractionTypes[step.choice % InteractionTypes.length];
        if (customerId)
          run(
            customerDecider,
            customers,
            'customer',
            customerId,
            {
              type: 'LogInteraction',
              data: {
                customerId,
                interactionId: id('i'),
                type,
                direction: step.choice % 2 ? 'inbound' : 'outbound',
                subject: 'touch',
                durationMinutes: step.choice % 60,
              },
              occurredAt: at,
            },
            owner,
          );
        break;
      }
      case 'churn': {
        const customerId = pickOf(customers, step.pick, (c) => c.status === 'active');
        if (customerId)
          run(
            customerDecider,
            customers,
            'customer',
            customerId,
            { type: 'ChurnCustomer', data: { customerId, reason: ['price', 'service', 'moved'][step.choice % 3] }, occurredAt: at },
            owner,
          );
        break;
      }
      case 'reactivate': {
        const customerId = pickOf(customers, step.pick, (c) => c.status === 'churned');
        if (customerId)
          run(
            customerDecider,
            customers,
            'customer',
            customerId,
            { type: 'ReactivateCustomer', data: { customerId }, occurredAt: at },
            owner,
          );
        break;
      }
      case 'openDeal': {
        const customerId = pickOf(customers, step.pick);
        if (!customerId) break;
        const dealId = id('d');
        const stage = defaultPipeline.stages[step.choice % defaultPipeline.stages.length].name;
        const expectedCloseDate = new Date(now + (step.choice % 120) * DAY).toISOString().slice(0, 10);
        run(
          deal,
          deals,
          'deal',
          dealId,
          {
            type: 'OpenDeal',
            data: {
              dealId,
              customerId,
              title: 'Deal',
              amount: step.amount,
              ownerId: owner,
              source: customers.get(customerId)!.source,
              stage,
              expectedCloseDate,
            },
            occurredAt: at,
          },
          owner,
        );
        break;
      }
      case 'stage': {
        const dealId = pickOf(deals, step.pick, (d) => d.status === 'open');
        const stage = defaultPipeline.stages[step.choice % defaultPipeline.stages.length].name;
        if (dealId) run(deal, deals, 'deal', dealId, { type: 'ChangeDealStage', data: { dealId, stage }, occurredAt: at }, owner);
        break;
      }
      case 'amount': {
        const dealId = pickOf(deals, step.pick, (d) => d.status === 'open');
        if (dealId) run(deal, deals, 'deal', dealId, { type: 'UpdateDeal', data: { dealId, amount: step.amount }, occurredAt: at }, owner);
        break;
      }
      case 'closeDate': {
        const dealId = pickOf(deals, step.pick, (d) => d.status === 'open');
        const expectedCloseDate = new Date(now + (step.choice % 200) * DAY).toISOString().slice(0, 10);
        if (dealId) run(deal, deals, 'deal', dealId, { type: 'UpdateDeal', data: { dealId, expectedCloseDate }, occurredAt: at }, owner);
        break;
      }
      case 'win': {
        const dealId = pickOf(deals, step.pick, (d) => d.status === 'open');
        if (!dealId) break;
        const [won] = run(deal, deals, 'deal', dealId, { type: 'WinDeal', data: { dealId }, occurredAt: at }, owner);
        if (won && won.type === 'DealWon') {
          const acquire = onDealWon(won);
          run(customerDecider, customers, 'customer', acquire.data.customerId, acquire, 'system:process-manager');
        }
        break;
      }
      case 'lose': {
        const dealId = pickOf(deals, step.pick, (d) => d.status === 'open');
        if (dealId)
          run(
            deal,
            deals,
            'deal',
            dealId,
            { type: 'LoseDeal', data: { dealId, reason: ['price', 'competitor', 'timing'][step.choice % 3] }, occurredAt: at },
            owner,
          );
        break;
      }
      case 'reopen': {
        // Mostly back to the stage it closed from; sometimes to another stage.
        const dealId = pickOf(deals, step.pick, (d) => d.status !== 'open');
        const stage = step.choice % 3 === 0 ? defaultPipeline.stages[step.choice % defaultPipeline.stages.length].name : undefined;
        if (dealId)
          run(
            deal,
            deals,
            'deal',
            dealId,
            { type: 'ReopenDeal', data: { dealId, ...(stage ? { stage } : {}) }, occurredAt: at },
            'manager',
          );
        break;
      }
      case 'lead': {
        const leadId = id('l');
        const campaignId = step.choice % 3 === 0 ? pickOf(campaigns, step.pick) : undefined;
        run(
          leadDecider,
          leads,
          'lead',
          leadId,
          { type: 'CaptureLead', data: { leadId, name: `Lead ${leadId}`, source, ...(campaignId ? { campaignId } : {}) }, occurredAt: at },
          owner,
        );
        break;
      }
      case 'qualify': {
        const leadId = pickOf(leads, step.pick, (l) => l.status === 'new');
        if (leadId) run(leadDecider, leads, 'lead', leadId, { type: 'QualifyLead', data: { leadId }, occurredAt: at }, owner);
        break;
      }
      case 'disqualify': {
        const leadId = pickOf(leads, step.pick, (l) => l.status === 'new' || l.status === 'qualified');
        if (leadId)
          run(leadDecider, leads, 'lead', leadId, { type: 'DisqualifyLead', data: { leadId, reason: 'no budget' }, occurredAt: at }, owner);
        break;
      }
      case 'convert': {
        const leadId = pickOf(leads, step.pick, (l) => l.status === 'new' || l.status === 'qualified');
        if (!leadId) break;
        const customerId = id('c');
        const [converted] = run(
          leadDecider,
          leads,
          'lead',
          leadId,
          { type: 'ConvertLead', data: { leadId, customerId }, occurredAt: at },
          owner,
        );
        if (converted)
          run(
            customerDecider,
            customers,
            'customer',
            customerId,
            customerFromLead(leads.get(leadId)!, customerId, at),
            'system:process-manager',
          );
        break;
      }
      case 'campaign': {
        const campaignId = id('k');
        run(
          campaignDecider,
          campaigns,
          'campaign',
          campaignId,
          { type: 'LaunchCampaign', data: { campaignId, name: `Campaign ${campaignId}`, channel: source }, occurredAt: at },
          owner,
        );
        break;
      }
      case 'spend': {
        const mode = step.choice % 3; // campaign, channel, unattributed
        const campaignId = mode === 0 ? pickOf(campaigns, step.pick) : undefined;
        const category: 'marketing' | 'sales' = step.pick % 2 ? 'marketing' : 'sales';
        const command = {
          type: 'RecordSpend' as const,
          data: {
            spendId: id('s'),
            amount: step.amount,
            category,
            ...(campaignId ? { campaignId } : mode === 1 ? { channel: source } : {}),
          },
          occurredAt: at,
        };
        const key = campaignId ?? (mode === 1 ? source : 'unattributed');
        if (campaignId) run(campaignDecider, campaigns, 'campaign', key, command, owner);
        else run(campaignDecider, new Map(), 'spend', key, command, owner);
        break;
      }
      case 'task': {
        const taskId = id('t');
        const customerId = pickOf(customers, step.pick);
        run(
          taskDecider,
          tasks,
          'task',
          taskId,
          {
            type: 'CreateTask',
            data: {
              taskId,
              ownerId: owner,
              subject: 'Follow up',
              dueAt: new Date(now + 2 * DAY).toISOString(),
              ...(customerId ? { customerId } : {}),
            },
            occurredAt: at,
          },
          owner,
        );
        break;
      }
      case 'completeTask': {
        const taskId = pickOf(tasks, step.pick, (t) => t.status === 'open');
        if (taskId) run(taskDecider, tasks, 'task', taskId, { type: 'CompleteTask', data: { taskId }, occurredAt: at }, owner);
        break;
      }
      case 'editTask': {
        const taskId = pickOf(tasks, step.pick, (t) => t.status === 'open');
        // A new due date from -3 to +6 days from now (overdue at once, or later), sometimes a new subject too.
        const dueAt = new Date(now + ((step.choice % 10) - 3) * DAY).toISOString();
        if (taskId) {
          const data = { taskId, dueAt, ...(step.choice % 3 === 0 ? { subject: `Follow up ${step.choice}` } : {}) };
          run(taskDecider, tasks, 'task', taskId, { type: 'UpdateTask', data, occurredAt: at }, owner);
        }
        break;
      }
      case 'cancelTask': {
        const taskId = pickOf(tasks, step.pick, (t) => t.status === 'open');
        if (taskId) run(taskDecider, tasks, 'task', taskId, { type: 'CancelTask', data: { taskId }, occurredAt: at }, owner);
        break;
      }
      case 'reassignTask': {
        const taskId = pickOf(tasks, step.pick, (t) => t.status === 'open');
        const ownerId = OWNERS[step.choice % OWNERS.length];
        if (taskId) run(taskDecider, tasks, 'task', taskId, { type: 'ReassignTask', data: { taskId, ownerId }, occurredAt: at }, 'manager');
        break;
      }
    }
  }
  return out;
}
