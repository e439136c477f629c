/**
 * HTTP load for the cluster tier: a deterministic (seeded) stream of realistic CRM commands, sent
 * with bounded concurrency round-robin over the API processes, as a client behind a load balancer
 * would: every command carries its own Idempotency-Key, and a network error or a 5xx (an API
 * being killed or restarted) is retried with the same key and body on the next API.
 *
 *   const load = new Load({ commands: generateCommands({ count: 3000, seed: 7 }), apis: () => cluster.apiUrls(), keys: cluster.keys });
 *   const done = load.run();
 *   await load.waitFor(1000);      // …inject a fault…
 *   await load.pause();            // in-flight commands settle; nothing new is sent
 *   load.resume();
 *   const stats = await done;
 *
 * Every id is client-supplied (from the seed): a create retried on another process names the same
 * aggregate, never a second one. Commands on one aggregate run in generation order (a deal's stage
 * moves wait for its opening, churn waits for the win that made the customer active); a command
 * referring to another aggregate waits for that aggregate's creation.
 */
import type { Role } from '@chronicle/infrastructure';
import { prng } from '../prng';

export interface LoadCommand {
  seq: number;
  /** What it does (`open-deal`, `win-deal`, …), for the per-kind counts. */
  kind: string;
  method: 'POST' | 'PATCH';
  path: string;
  body: Record<string, unknown>;
  role: Extract<Role, 'manager' | 'admin'>;
  /** Aggregates it writes: it runs after the previous command on each of them. */
  keys: string[];
  /** Aggregates it refers to: it runs after their creation. */
  needs: string[];
  idempotencyKey: string;
}

export interface LoadStats {
  commands: number;
  /** Commands whose final answer came back. */
  completed: number;
  /** HTTP attempts, retries included. */
  attempts: number;
  /** Attempts repeated after a network error or a 5xx. */
  retries: number;
  networkErrors: number;
  serverErrors: number;
  /** Final status → count. */
  statuses: Record<string, number>;
  /** 409/422 answers to a command whose earlier attempt may have been applied (the process died before answering). */
  conflictsAfterRetry: number;
  /** The first of them: `#<seq> <kind> <method> <path> → <status> <body>`. */
  conflictExamples: string[];
  /** Kind → count of completed commands. */
  kinds: Record<string, number>;
  /** Command latency (first attempt to final answer), ms. */
  latency: { p50: number; p99: number; max: number };
  durationMs: number;
}

export interface LoadOptions {
  commands: LoadCommand[];
  /** Base URLs of the APIs to use, asked before every attempt (processes come and go). */
  apis: () => string[];
  keys: Record<Role, string>;
  /** Commands in flight at most (default 8). */
  concurrency?: number;
  /** How long one command is retried before the run fails (default 60 s: an API restart takes ~3 s). */
  retryForMs?: number;
  /** Per-attempt timeout (default 20 s). */
  requestTimeoutMs?: number;
  /** Called after every completed command. */
  onProgress?: (stats: LoadStats) => void;
}

/** A 409/422 that is the application saying no to a valid request is not what this load sends: it fails the run. */
export class UnexpectedStatusError extends Error {
  constructor(
    readonly command: LoadCommand,
    readonly status: number | 'network',
    readonly body: string,
  ) {
    super(
      `load: ${command.method} ${command.path} (#${command.seq} ${command.kind}) ended with ${status}: ${body.slice(0, 2000)}\nbody sent: ${JSON.stringify(command.body)}`,
    );
    this.name = 'UnexpectedStatusError';
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class Load {
  private readonly options: Required<Omit<LoadOptions, 'onProgress'>> & Pick<LoadOptions, 'onProgress'>;
  private readonly latencies: number[] = [];
  private readonly counters = { completed: 0, attempts: 0, retries: 0, networkErrors: 0, serverErrors: 0, conflictsAfterRetry: 0 };
  private readonly statuses: Record<string, number> = {};
  private readonly kinds: Record<string, number> = {};
  private readonly conflictExamples: string[] = [];
  private readonly waiters = new Set<() => void>();
  private roundRobin = 0;
  private startedAt = 0;
  private finishedAt = 0;
  private paused = false;
  private resumed?: () => void;
  private failure?: Error;
  private running?: Promise<LoadStats>;
  private inFlight = new Set<Promise<void>>();

  constructor(options: LoadOptions) {
    this.options = { concurrency: 8, retryForMs: 60_000, requestTimeoutMs: 20_000, ...options };
  }

  /** Sends every command; resolves with the figures, rejects on the first unexpected answer. */
  run(): Promise<LoadStats> {
    this.running ??= this.execute();
    return this.running;
  }

  /** Stops sending new commands; resolves once the commands in flight have their answer. */
  async pause(): Promise<void> {
    this.paused = true;
    await Promise.allSettled([...this.inFlight]);
  }

  resume(): void {
    this.paused = false;
    this.resumed?.();
  }

  /** Ends the run (a failing test): nothing more is sent or retried; run() rejects. */
  stop(): void {
    this.failure ??= new Error('load: stopped');
    this.resume();
  }

  /** Resolves once `count` commands are complete (or the run ended; it throws if the run failed). */
  waitFor(count: number, timeoutMs = 300_000): Promise<void> {
    return new Promise((resolve, reject) => {
      const check = () => {
        if (this.failure) return finish(this.failure);
        if (this.counters.completed >= Math.min(count, this.options.commands.length)) finish();
      };
      const finish = (error?: Error) => {
        clearTimeout(timer);
        this.waiters.delete(check);
        if (error) reject(error);
        else resolve();
      };
      const timer = setTimeout(
        () => finish(new Error(`load: ${this.counters.completed} of ${count} commands complete after ${timeoutMs} ms`)),
        timeoutMs,
      );
      this.waiters.add(check);
      check();
    });
  }

  stats(): LoadStats {
    const sorted = [...this.latencies].sort((a, b) => a - b);
    const at = (q: number) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] : 0);
    return {
      commands: this.options.commands.length,
      ...this.counters,
      statuses: { ...this.statuses },
      kinds: { ...this.kinds },
      conflictExamples: [...this.conflictExamples],
      latency: { p50: at(0.5), p99: at(0.99), max: sorted.at(-1) ?? 0 },
      durationMs: (this.finishedAt || Date.now()) - this.startedAt,
    };
  }

  private async execute(): Promise<LoadStats> {
    this.startedAt = Date.now();
    // Per aggregate: the completion of its last command so far, and of its creation.
    const last = new Map<string, Promise<void>>();
    const created = new Map<string, Promise<void>>();
    for (const command of this.options.commands) {
      if (this.failure) break;
      while (this.paused) await new Promise<void>((r) => (this.resumed = r));
      while (this.inFlight.size >= this.options.concurrency) await Promise.race(this.inFlight);
      if (this.failure) break;
      const before = [...command.keys.map((k) => last.get(k)), ...command.needs.map((k) => created.get(k))].filter(
        (p): p is Promise<void> => p !== undefined,
      );
      const done: Promise<void> = Promise.all(before)
        // After a failure nothing new is sent: the run is over, only its figures are kept.
        .then(() => (this.failure ? undefined : this.send(command)))
        .catch((error: Error) => {
          this.failure ??= error;
        })
        .finally(() => {
          this.inFlight.delete(done);
          for (const waiter of [...this.waiters]) waiter();
        });
      this.inFlight.add(done);
      for (const key of command.keys) {
        last.set(key, done);
        if (!created.has(key)) created.set(key, done);
      }
    }
    await Promise.allSettled([...this.inFlight]);
    this.finishedAt = Date.now();
    for (const waiter of [...this.waiters]) waiter();
    if (this.failure) throw this.failure;
    return this.stats();
  }

  /**
   * One command to its final answer: after a network error or a 5xx it is sent again, same key
   * and body, to the next API, with a small backoff, for at most `retryForMs`.
   */
  private async send(command: LoadCommand): Promise<void> {
    const started = Date.now();
    let sent = 0;
    let mayHaveApplied = false; // an earlier attempt reached an API that did not answer 2xx/4xx
    let lastProblem = '';
    for (let attempt = 1; Date.now() - started < this.options.retryForMs && !this.failure; attempt++) {
      if (attempt > 1) await sleep(Math.min(1000, 25 * 2 ** attempt));
      const apis = this.options.apis();
      if (apis.length === 0) {
        lastProblem = 'no API running';
        continue;
      }
      const base = apis[this.roundRobin++ % apis.length];
      if (sent > 0) this.counters.retries++;
      sent++;
      this.counters.attempts++;
      let status: number;
      let text: string;
      try {
        const response = await fetch(`${base}${command.path}`, {
          method: command.method,
          headers: {
            Authorization: `Bearer ${this.options.keys[command.role]}`,
            'Content-Type': 'application/json',
            'Idempotency-Key': command.idempotencyKey,
          },
          body: JSON.stringify(command.body),
          signal: AbortSignal.timeout(this.options.requestTimeoutMs),
        });
        status = response.status;
        text = await response.text();
      } catch (error) {
        this.counters.networkErrors++;
        const cause = (error as Error).cause as (Error & { code?: string }) | undefined;
        // Refused: the request never reached a process. Anything else (reset, timeout) may have been applied.
        if (cause?.code !== 'ECONNREFUSED') mayHaveApplied = true;
        lastProblem = `${base}: ${(error as Error).message} ${cause?.message ?? ''}`;
        continue;
      }
      if (status >= 500) {
        mayHaveApplied = true;
        this.counters.serverErrors++;
        lastProblem = `${base}: ${status} ${text.slice(0, 500)}`;
        continue;
      }
      const ok = status >= 200 && status < 300;
      // A retry of a command whose earlier attempt was applied before its process died gets the
      // application's answer to a repeat: the aggregate exists (409) or the change was made (422).
      const afterRetry = mayHaveApplied && (status === 409 || status === 422);
      if (!ok && !afterRetry) throw new UnexpectedStatusError(command, status, text);
      if (afterRetry) {
        this.counters.conflictsAfterRetry++;
        if (this.conflictExamples.length < 10)
          this.conflictExamples.push(`#${command.seq} ${command.kind} ${command.method} ${command.path} → ${status} ${text.slice(0, 300)}`);
      }
      this.statuses[status] = (this.statuses[status] ?? 0) + 1;
      this.kinds[command.kind] = (this.kinds[command.kind] ?? 0) + 1;
      this.counters.completed++;
      this.latencies.push(Date.now() - started);
      this.options.onProgress?.(this.stats());
      return;
    }
    if (this.failure) return;
    throw new UnexpectedStatusError(
      command,
      'network',
      `no answer within ${this.options.retryForMs} ms (${sent} attempts); last: ${lastProblem}`,
    );
  }
}

const STAGES = ['qualification', 'needs-analysis', 'proposal', 'negotiation'];
const SOURCES = ['web', 'referral', 'paid-search', 'webinar', 'events', 'partner', 'direct'];
const INDUSTRIES = ['software', 'saas', 'fintech', 'retail', 'manufacturing', 'health'];
const REGIONS = ['emea', 'na', 'apac', 'latam'];
const TITLES = ['Director of Sales', 'Chief Revenue Officer', 'Engineer', 'Office Manager', 'VP Marketing'];
const REPS = ['rep-a', 'rep-b', 'rep-c'];
const LEAD_SIGNALS = ['web-visit', 'form-submission', 'email-opened', 'email-replied', 'content-download', 'meeting'];
const INTERACTIONS = ['call', 'email', 'meeting', 'note', 'support-ticket'];

interface Model {
  campaigns: Array<{ id: string; channel: string }>;
  customers: Array<{ id: string; status: 'prospect' | 'active' | 'churned' }>;
  leads: Array<{ id: string; status: 'new' | 'qualified' | 'closed' }>;
  deals: Array<{ id: string; customer: string; stage: number; open: boolean }>;
  tasks: Array<{ id: string; open: boolean }>;
}

/**
 * `count` commands from `seed`: customers (with source and owner), leads (attributes, campaigns,
 * behaviour, qualified, disqualified, converted), deals (amounts on both sides of the ≥ 500 rule,
 * stage moves, amount changes, won, lost, reassigned), interactions, purchases, churn and
 * reactivation, campaigns and spend, tasks created and completed. Each is valid for the state the
 * commands before it leave, so every answer is a 2xx.
 */
export function generateCommands(options: { count: number; seed: number }): LoadCommand[] {
  const random = prng(options.seed);
  const pick = <T>(items: T[]): T => items[Math.floor(random() * items.length)];
  const uuid = () => {
    const hex = Array.from({ length: 32 }, () => Math.floor(random() * 16).toString(16));
    hex[12] = '4';
    hex[16] = '89ab'[Math.floor(random() * 4)];
    const s = hex.join('');
    return `${s.slice(0, 8)}-${s.slice(8, 12)}-${s.slice(12, 16)}-${s.slice(16, 20)}-${s.slice(20)}`;
  };
  // Amounts spread over 50 … 50,000 (log-uniform): about 40 % below the default rule's 500.
  const amount = () => Math.round(50 * 1000 ** random() * 100) / 100;
  const model: Model = { campaigns: [], customers: [], leads: [], deals: [], tasks: [] };
  const commands: LoadCommand[] = [];
  const add = (
    kind: string,
    method: 'POST' | 'PATCH',
    path: string,
    body: Record<string, unknown>,
    keys: string[],
    needs: string[] = [],
    role: 'manager' | 'admin' = 'manager',
  ) => {
    const seq = commands.length;
    commands.push({
      seq,
      kind,
      method,
      path,
      body,
      role: seq % 5 === 0 ? 'admin' : role,
      keys,
      needs,
      idempotencyKey: `load-${options.seed}-${seq}`,
    });
  };
  const openDeals = () => model.deals.filter((d) => d.open);
  const where = <T>(items: T[], test: (item: T) => boolean) => items.filter(test);

  // What can happen next, with weights; an action whose precondition has no candidate is skipped.
  const actions: Array<[number, () => boolean]> = [
    [
      1,
      () => {
        if (model.campaigns.length >= 12) return false;
        const id = uuid();
        const channel = pick(['webinar', 'paid-search', 'events', 'partner']);
        add(
          'launch-campaign',
          'POST',
          '/campaigns',
          { id, name: `Campaign ${model.campaigns.length + 1}`, channel, budget: Math.round(random() * 50_000) },
          [`campaign-${id}`],
        );
        model.campaigns.push({ id, channel });
        return true;
      },
    ],
    [
      3,
      () => {
        if (!model.campaigns.length) return false;
        const campaign = pick(model.campaigns);
        add(
          'record-spend',
          'POST',
          '/spend',
          { id: uuid(), amount: amount(), category: pick(['marketing', 'sales']), campaignId: campaign.id },
          [`campaign-${campaign.id}`],
        );
        return true;
      },
    ],
    [
      12,
      () => {
        const id = uuid();
        const n = model.customers.length + 1;
        add(
          'register-customer',
          'POST',
          '/customers',
          {
            id,
            name: `Customer ${n}`,
            email: `customer${n}@example.com`,
            company: `Company ${n}`,
            industry: pick(INDUSTRIES),
            region: pick(REGIONS),
            source: pick(SOURCES),
            ownerId: pick(REPS),
          },
          [`customer-${id}`],
        );
        model.customers.push({ id, status: 'prospect' });
        return true;
      },
    ],
    [
      2,
      () => {
        if (!model.customers.length) return false;
        const c = pick(model.customers);
        add(
          'update-customer',
          'PATCH',
          `/customers/${c.id}`,
          { region: pick(REGIONS), phone: `+1-555-${Math.floor(random() * 9000 + 1000)}` },
          [`customer-${c.id}`],
        );
        return true;
      },
    ],
    [
      14,
      () => {
        const id = uuid();
        const n = model.leads.length + 1;
        const campaign = model.campaigns.length && random() < 0.4 ? pick(model.campaigns) : undefined;
        add(
          'capture-lead',
          'POST',
          '/leads',
          {
            id,
            name: `Lead ${n}`,
            email: `lead${n}@example.com`,
            source: campaign ? campaign.channel : pick(SOURCES),
            ...(campaign ? { campaignId: campaign.id } : {}),
            attributes: {
              industry: pick(INDUSTRIES),
              jobTitle: pick(TITLES),
              companySize: Math.floor(10 * 100 ** random()),
              region: pick(REGIONS),
              pastPurchases: Math.floor(random() * 3),
            },
          },
          [`lead-${id}`],
          campaign ? [`campaign-${campaign.id}`] : [],
        );
        model.leads.push({ id, status: 'new' });
        return true;
      },
    ],
    [
      10,
      () => {
        const open = where(model.leads, (l) => l.status !== 'closed');
        if (!open.length) return false;
        const lead = pick(open);
        add(
          'lead-interaction',
          'POST',
          `/leads/${lead.id}/interactions`,
          { id: uuid(), type: pick(LEAD_SIGNALS), subject: 'Pricing page' },
          [`lead-${lead.id}`],
        );
        return true;
      },
    ],
    [
      5,
      () => {
        const fresh = where(model.leads, (l) => l.status === 'new');
        if (!fresh.length) return false;
        const lead = pick(fresh);
        add('qualify-lead', 'POST', `/leads/${lead.id}/qualify`, {}, [`lead-${lead.id}`]);
        lead.status = 'qualified';
        return true;
      },
    ],
    [
      1.5,
      () => {
        const open = where(model.leads, (l) => l.status !== 'closed');
        if (!open.length) return false;
        const lead = pick(open);
        add('disqualify-lead', 'POST', `/leads/${lead.id}/disqualify`, { reason: pick(['no budget', 'no fit', 'unreachable']) }, [
          `lead-${lead.id}`,
        ]);
        lead.status = 'closed';
        return true;
      },
    ],
    [
      0.5,
      () => {
        const open = where(model.leads, (l) => l.status !== 'closed');
        if (!open.length) return false;
        const lead = pick(open);
        add('assign-lead', 'POST', `/leads/${lead.id}/assign`, { ownerId: pick(REPS) }, [`lead-${lead.id}`]);
        return true;
      },
    ],
    [
      3.5,
      () => {
        const qualified = where(model.leads, (l) => l.status === 'qualified');
        if (!qualified.length) return false;
        const lead = pick(qualified);
        const customerId = uuid(); // a new customer, registered by the conversion
        add('convert-lead', 'POST', `/leads/${lead.id}/convert`, { customerId }, [`lead-${lead.id}`, `customer-${customerId}`]);
        lead.status = 'closed';
        model.customers.push({ id: customerId, status: 'prospect' });
        return true;
      },
    ],
    [
      11,
      () => {
        if (!model.customers.length) return false;
        const c = pick(model.customers);
        const id = uuid();
        add(
          'open-deal',
          'POST',
          '/deals',
          { id, customerId: c.id, title: `Deal ${model.deals.length + 1}`, amount: amount(), ownerId: pick(REPS) },
          [`deal-${id}`],
          [`customer-${c.id}`],
        );
        model.deals.push({ id, customer: c.id, stage: 0, open: true });
        return true;
      },
    ],
    [
      12,
      () => {
        const movable = where(openDeals(), (d) => d.stage < STAGES.length - 1);
        if (!movable.length) return false;
        const deal = pick(movable);
        deal.stage += 1;
        add('move-stage', 'POST', `/deals/${deal.id}/stage`, { stage: STAGES[deal.stage] }, [`deal-${deal.id}`]);
        return true;
      },
    ],
    [
      3,
      () => {
        if (!openDeals().length) return false;
        const deal = pick(openDeals());
        add('update-deal', 'PATCH', `/deals/${deal.id}`, { amount: amount() }, [`deal-${deal.id}`]);
        return true;
      },
    ],
    [
      0.5,
      () => {
        if (!openDeals().length) return false;
        const deal = pick(openDeals());
        add('reassign-deal', 'POST', `/deals/${deal.id}/owner`, { ownerId: pick(REPS) }, [`deal-${deal.id}`]);
        return true;
      },
    ],
    [
      4,
      () => {
        const late = where(openDeals(), (d) => d.stage >= 2);
        if (!late.length) return false;
        const deal = pick(late);
        // Winning also acquires the customer (CustomerAcquired on its stream): ordered with its commands.
        add('win-deal', 'POST', `/deals/${deal.id}/win`, {}, [`deal-${deal.id}`, `customer-${deal.customer}`]);
        deal.open = false;
        const customer = model.customers.find((c) => c.id === deal.customer)!;
        if (customer.status === 'prospect') customer.status = 'active';
        return true;
      },
    ],
    [
      3,
      () => {
        if (!openDeals().length) return false;
        const deal = pick(openDeals());
        add('lose-deal', 'POST', `/deals/${deal.id}/lose`, { reason: pick(['price', 'timing', 'competitor']) }, [`deal-${deal.id}`]);
        deal.open = false;
        return true;
      },
    ],
    [
      9,
      () => {
        if (!model.customers.length) return false;
        const c = pick(model.customers);
        add(
          'customer-interaction',
          'POST',
          `/customers/${c.id}/interactions`,
          {
            id: uuid(),
            type: pick(INTERACTIONS),
            direction: pick(['inbound', 'outbound']),
            subject: 'Follow-up',
            durationMinutes: Math.floor(random() * 60),
          },
          [`customer-${c.id}`],
        );
        return true;
      },
    ],
    [
      4,
      () => {
        if (!model.customers.length) return false;
        const c = pick(model.customers);
        add('record-purchase', 'POST', `/customers/${c.id}/purchases`, { id: uuid(), amount: amount(), description: 'Licence' }, [
          `customer-${c.id}`,
        ]);
        if (c.status === 'prospect') c.status = 'active';
        return true;
      },
    ],
    [
      1.5,
      () => {
        const active = where(model.customers, (c) => c.status === 'active');
        if (!active.length) return false;
        const c = pick(active);
        add('churn-customer', 'POST', `/customers/${c.id}/churn`, { reason: pick(['price', 'moved to a competitor', 'closed down']) }, [
          `customer-${c.id}`,
        ]);
        c.status = 'churned';
        return true;
      },
    ],
    [
      1,
      () => {
        const churned = where(model.customers, (c) => c.status === 'churned');
        if (!churned.length) return false;
        const c = pick(churned);
        add('reactivate-customer', 'POST', `/customers/${c.id}/reactivate`, { reason: 'came back' }, [`customer-${c.id}`]);
        c.status = 'active';
        return true;
      },
    ],
    [
      4,
      () => {
        if (!model.customers.length) return false;
        const id = uuid();
        const deal = openDeals().length && random() < 0.5 ? pick(openDeals()) : undefined;
        const customer = deal ? deal.customer : pick(model.customers).id;
        const dueAt = new Date(Date.UTC(2030, 0, 1) + Math.floor(random() * 365) * 86_400_000).toISOString();
        add(
          'create-task',
          'POST',
          '/tasks',
          { id, subject: 'Send the proposal', dueAt, ownerId: pick(REPS), customerId: customer, ...(deal ? { dealId: deal.id } : {}) },
          [`task-${id}`],
          [`customer-${customer}`, ...(deal ? [`deal-${deal.id}`] : [])],
        );
        model.tasks.push({ id, open: true });
        return true;
      },
    ],
    [
      3,
      () => {
        const open = where(model.tasks, (t) => t.open);
        if (!open.length) return false;
        const task = pick(open);
        add('complete-task', 'POST', `/tasks/${task.id}/complete`, { outcome: 'done' }, [`task-${task.id}`]);
        task.open = false;
        return true;
      },
    ],
  ];
  const total = actions.reduce((sum, [w]) => sum + w, 0);
  while (commands.length < options.count) {
    let r = random() * total;
    const action = actions.find(([w]) => (r -= w) < 0) ?? actions[actions.length - 1];
    action[1]();
  }
  return commands;
}
