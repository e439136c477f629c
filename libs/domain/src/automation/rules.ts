import { addBusinessDays } from './business-days';
import { ConfigFileError, eachWithLine, parseJsonConfig } from './config-source';

/**
 * Follow-up rules: trigger (event types + a condition on the event, the aggregate's state after
 * it and the state before it) → actions. Matching is pure; the rules process manager turns the
 * planned actions into commands with ids derived from the triggering event.
 */
export type Condition =
  | { all: Condition[] }
  | { any: Condition[] }
  | { not: Condition }
  | {
      /** `event.<field>` (the event's data), `state.<field>` (after the event), `previous.<field>` (before it), `type`. */
      path: string;
      eq?: unknown;
      ne?: unknown;
      gt?: number;
      gte?: number;
      lt?: number;
      lte?: number;
      in?: unknown[];
      exists?: boolean;
    };

export type RuleActionSpec =
  | { action: 'create-task'; subject: string; dueInBusinessDays?: number; dueInDays?: number; ownerId?: string }
  | { action: 'assign'; ownerId: string }
  | { action: 'enroll'; campaign: string }
  | { action: 'tag'; tag: string };

export interface FollowUpRule {
  name: string;
  on: string[];
  when?: Condition;
  then: RuleActionSpec[];
  /** The line of the rule in its file (for messages). */
  line?: number;
}

export type Aggregate = 'customer' | 'lead' | 'deal' | 'task';

/** The aggregate an event type belongs to (rules may trigger on these). */
export function aggregateOfEventType(type: string): Aggregate | undefined {
  if (type.startsWith('Lead')) return 'lead';
  if (type.startsWith('Deal')) return 'deal';
  if (type.startsWith('Task')) return 'task';
  if (type.startsWith('Customer') || type === 'PurchaseRecorded' || type === 'InteractionLogged') return 'customer';
  return undefined;
}

/** The seed's rule: a deal opened at, or changed to, an amount ≥ 500 → call the lead; below 500 → nurture. */
export const defaultRulesText = `{
  "rules": [
    {
      "name": "call-the-lead",
      "on": ["DealOpened", "DealAmountChanged"],
      "when": { "all": [
        { "path": "state.amount", "gte": 500 },
        { "any": [{ "path": "previous.amount", "exists": false }, { "path": "previous.amount", "lt": 500 }] }
      ] },
      "then": [{ "action": "create-task", "subject": "Call the lead", "dueInBusinessDays": 1 }]
    },
    {
      "name": "nurture-small-deals",
      "on": ["DealOpened", "DealAmountChanged"],
      "when": { "all": [
        { "path": "state.amount", "lt": 500 },
        { "any": [{ "path": "previous.amount", "exists": false }, { "path": "previous.amount", "gte": 500 }] }
      ] },
      "then": [{ "action": "enroll", "campaign": "nurture" }]
    }
  ]
}
`;

function valueAt(root: Record<string, unknown>, path: string): unknown {
  let current: unknown = root;
  for (const part of path.split('.')) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<string, unknown>)[part];
  }
  return current;
}

export interface RuleInput {
  type: string;
  data: unknown;
  /** State after the event and before it (undefined before the stream's first event). */
  state: unknown;
  previous: unknown;
}

export function evaluate(condition: Condition | undefined, input: RuleInput): boolean {
  if (!condition) return true;
  if ('all' in condition) return condition.all.every((c) => evaluate(c, input));
  if ('any' in condition) return condition.any.some((c) => evaluate(c, input));
  if ('not' in condition) return !evaluate(condition.not, input);
  const root = { type: input.type, event: input.data, state: input.state, previous: input.previous };
  const v = valueAt(root, condition.path);
  const c = condition;
  if (c.exists !== undefined && (v !== undefined && v !== null) !== c.exists) return false;
  if (c.exists === false) return true;
  if ((c.gt !== undefined || c.gte !== undefined || c.lt !== undefined || c.lte !== undefined) && typeof v !== 'number') return false;
  const n = v as number;
  if (c.eq !== undefined && v !== c.eq) return false;
  if (c.ne !== undefined && v === c.ne) return false;
  if (c.gt !== undefined && !(n > c.gt)) return false;
  if (c.gte !== undefined && !(n >= c.gte)) return false;
  if (c.lt !== undefined && !(n < c.lt)) return false;
  if (c.lte !== undefined && !(n <= c.lte)) return false;
  if (c.in !== undefined && !c.in.includes(v)) return false;
  return true;
}

/** An action resolved against its trigger: what the process manager will command. */
export type PlannedAction =
  | {
      rule: string;
      index: number;
      action: 'create-task';
      ownerId: string;
      subject: string;
      dueAt: string;
      customerId?: string;
      dealId?: string;
      leadId?: string;
    }
  | { rule: string; index: number; action: 'assign'; aggregate: 'lead' | 'customer'; id: string; ownerId: string }
  | { rule: string; index: number; action: 'enroll'; customerId: string; campaign: string }
  | { rule: string; index: number; action: 'tag'; customerId: string; tag: string };

interface Subject {
  ownerId?: string;
  customerId?: string;
  dealId?: string;
  leadId?: string;
}

/** The ids an aggregate's state refers to (deal → its customer, task → its customer/deal/lead). */
function subjectOf(aggregate: Aggregate, state: Record<string, unknown>): Subject {
  const s = state as Subject;
  switch (aggregate) {
    case 'deal':
      return { ownerId: s.ownerId, customerId: s.customerId, dealId: s.dealId };
    case 'lead':
      return { ownerId: s.ownerId, leadId: s.leadId, customerId: s.customerId };
    case 'customer':
      return { ownerId: s.ownerId, customerId: s.customerId };
    case 'task':
      return { ownerId: s.ownerId, customerId: s.customerId, dealId: s.dealId, leadId: s.leadId };
  }
}

/**
 * The actions of every rule the event matches, in rule order. An action that has no target (a
 * task for an aggregate without owner, an enrollment without customer) is left out.
 */
export function planActions(rules: FollowUpRule[], input: RuleInput & { occurredAt: string }): PlannedAction[] {
  const aggregate = aggregateOfEventType(input.type);
  if (!aggregate) return [];
  const subject = subjectOf(aggregate, (input.state ?? {}) as Record<string, unknown>);
  const planned: PlannedAction[] = [];
  for (const rule of rules) {
    if (!rule.on.includes(input.type) || !evaluate(rule.when, input)) continue;
    rule.then.forEach((spec, index) => {
      const base = { rule: rule.name, index };
      switch (spec.action) {
        case 'create-task': {
          const ownerId = spec.ownerId ?? subject.ownerId;
          if (!ownerId) return;
          const dueAt =
            spec.dueInBusinessDays !== undefined
              ? addBusinessDays(input.occurredAt, spec.dueInBusinessDays)
              : new Date(Date.parse(input.occurredAt) + (spec.dueInDays ?? 0) * 86_400_000).toISOString();
          const refs = JSON.parse(JSON.stringify({ customerId: subject.customerId, dealId: subject.dealId, leadId: subject.leadId }));
          planned.push({ ...base, action: 'create-task', ownerId, subject: spec.subject, dueAt, ...refs });
          return;
        }
        case 'assign': {
          if (aggregate === 'lead' && subject.leadId)
            planned.push({ ...base, action: 'assign', aggregate: 'lead', id: subject.leadId, ownerId: spec.ownerId });
          else if (aggregate === 'customer' && subject.customerId)
            planned.push({ ...base, action: 'assign', aggregate: 'customer', id: subject.customerId, ownerId: spec.ownerId });
          return;
        }
        case 'enroll':
          if (subject.customerId) planned.push({ ...base, action: 'enroll', customerId: subject.customerId, campaign: spec.campaign });
          return;
        case 'tag':
          if (subject.customerId) planned.push({ ...base, action: 'tag', customerId: subject.customerId, tag: spec.tag });
          return;
      }
    });
  }
  return planned;
}

const OPS = ['eq', 'ne', 'gt', 'gte', 'lt', 'lte', 'in', 'exists'] as const;

function checkCondition(c: unknown, at: string): void {
  if (!c || typeof c !== 'object' || Array.isArray(c)) throw new Error(`${at} must be an object`);
  const o = c as Record<string, unknown>;
  if ('all' in o || 'any' in o) {
    const list = o.all ?? o.any;
    if (!Array.isArray(list) || list.length === 0) throw new Error(`${at}.${'all' in o ? 'all' : 'any'} must be a non-empty array`);
    list.forEach((x, i) => checkCondition(x, `${at}.${'all' in o ? 'all' : 'any'}[${i}]`));
    return;
  }
  if ('not' in o) return checkCondition(o.not, `${at}.not`);
  if (typeof o.path !== 'string' || !/^(type|(event|state|previous)(\.[A-Za-z0-9_-]+)+)$/.test(o.path)) {
    throw new Error(`${at}.path must be "type" or start with event., state. or previous.`);
  }
  const unknown = Object.keys(o).filter((k) => k !== 'path' && !(OPS as readonly string[]).includes(k));
  if (unknown.length) throw new Error(`${at}: unknown operator ${unknown.join(', ')} (use ${OPS.join(', ')})`);
  if (!OPS.some((op) => op in o)) throw new Error(`${at} needs an operator (${OPS.join(', ')})`);
  for (const op of ['gt', 'gte', 'lt', 'lte'] as const) {
    if (op in o && !(typeof o[op] === 'number' && Number.isFinite(o[op]))) throw new Error(`${at}.${op} must be a number`);
  }
  if ('in' in o && !Array.isArray(o.in)) throw new Error(`${at}.in must be an array`);
  if ('exists' in o && typeof o.exists !== 'boolean') throw new Error(`${at}.exists must be true or false`);
}

const nonEmpty = (v: unknown): v is string => typeof v === 'string' && v.trim().length > 0;

function checkRule(value: unknown, knownTypes: readonly string[]): FollowUpRule {
  const r = value as Partial<FollowUpRule>;
  if (!r || typeof r !== 'object') throw new Error('must be an object { name, on, when?, then }');
  if (!nonEmpty(r.name)) throw new Error('name must be a non-empty string');
  if (!Array.isArray(r.on) || r.on.length === 0) throw new Error(`"${r.name}": on must be a non-empty array of event types`);
  const aggregates = new Set<Aggregate>();
  for (const type of r.on) {
    const aggregate = typeof type === 'string' ? aggregateOfEventType(type) : undefined;
    if (!knownTypes.includes(type) || !aggregate)
      throw new Error(`"${r.name}": on: "${String(type)}" is not an event type of a customer, lead, deal or task`);
    aggregates.add(aggregate);
  }
  if (r.when !== undefined) checkCondition(r.when, `"${r.name}": when`);
  if (!Array.isArray(r.then) || r.then.length === 0) throw new Error(`"${r.name}": then must be a non-empty array of actions`);
  r.then.forEach((a, i) => {
    const at = `"${r.name}": then[${i}]`;
    switch (a?.action) {
      case 'create-task':
        if (!nonEmpty(a.subject)) throw new Error(`${at}.subject must be a non-empty string`);
        for (const k of ['dueInBusinessDays', 'dueInDays'] as const) {
          if (a[k] !== undefined && !(Number.isInteger(a[k]) && a[k] >= 0)) throw new Error(`${at}.${k} must be an integer ≥ 0`);
        }
        if (a.ownerId !== undefined && !nonEmpty(a.ownerId)) throw new Error(`${at}.ownerId must be a non-empty string`);
        break;
      case 'assign':
        if (!nonEmpty(a.ownerId)) throw new Error(`${at}.ownerId must be a non-empty string`);
        if ([...aggregates].some((g) => g !== 'lead' && g !== 'customer'))
          throw new Error(`${at}: assign applies to lead and customer events only`);
        break;
      case 'enroll':
        if (!nonEmpty(a.campaign)) throw new Error(`${at}.campaign must be a non-empty string`);
        break;
      case 'tag':
        if (!nonEmpty(a.tag)) throw new Error(`${at}.tag must be a non-empty string`);
        break;
      default:
        throw new Error(`${at}.action must be one of create-task, assign, enroll, tag`);
    }
  });
  return { name: r.name, on: r.on, when: r.when, then: r.then };
}

/** Parses a rules file `{ "rules": [ … ] }`; an error names the line of the offending rule. */
export function parseRules(text: string, knownTypes: readonly string[]): FollowUpRule[] {
  const parsed = parseJsonConfig(text) as { rules?: unknown };
  if (!parsed || typeof parsed !== 'object' || !Array.isArray(parsed.rules))
    throw new ConfigFileError(1, 'must be a JSON object { "rules": [ … ] }');
  const names = new Set<string>();
  return eachWithLine(text, 'rules', parsed.rules, (item) => {
    const rule = checkRule(item, knownTypes);
    if (names.has(rule.name)) throw new Error(`"${rule.name}": duplicate rule name`);
    names.add(rule.name);
    return rule;
  });
}
