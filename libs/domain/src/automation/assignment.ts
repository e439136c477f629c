/**
 * Fair auto-assignment of new leads and unowned customers. The book is folded from the event
 * history in feed order (who owns which open lead and deal, where each round-robin stands), so
 * the choice for the n-th captured lead is the same on every replay, whatever the HTTP races
 * that wrote the history. Pure: no I/O, no clock.
 */
export const AssignmentStrategies = ['off', 'round-robin', 'least-busy', 'territory'] as const;
export type AssignmentStrategy = (typeof AssignmentStrategies)[number];

export interface RepConfig {
  id: string;
  /** At most this many open leads + open deals (absent: no limit). */
  capacity?: number;
  /** false: on leave, gets nothing (default true). */
  available?: boolean;
  /** Periods away [from, to) in business time (ISO 8601): a subject arriving then skips the rep. */
  away?: { from: string; to: string }[];
}

export interface TerritoryRule {
  region?: string[];
  industry?: string[];
  reps: string[];
}

export interface AssignmentConfig {
  strategy: AssignmentStrategy;
  reps: RepConfig[];
  /** territory: the first rule whose region and industry (those given) match the subject. */
  territories: TerritoryRule[];
  /** How a rep is chosen within a territory's reps, or among all reps when none matches. */
  within: 'round-robin' | 'least-busy';
  /** Also assign customers registered without an owner (default true). */
  customers: boolean;
}

export const defaultAssignmentConfig: AssignmentConfig = {
  strategy: 'off',
  reps: [],
  territories: [],
  within: 'round-robin',
  customers: true,
};

export interface AssignmentSubject {
  region?: string;
  industry?: string;
  /** When the subject arrived (epoch ms): checked against the reps' `away` periods. */
  at?: number;
}

export interface AssignmentChoice {
  ownerId: string;
  strategy: AssignmentStrategy;
  reason: string;
}

export interface AssignmentBookState {
  /** Next index per round-robin pool (pool key = its reps joined). */
  pointers: Record<string, number>;
  /** Open leads and open deals, by id, with their owner. */
  leadOwners: Record<string, string>;
  dealOwners: Record<string, string>;
  closedLeads: Record<string, true>;
}

export const initialAssignmentBook = (): AssignmentBookState => ({ pointers: {}, leadOwners: {}, dealOwners: {}, closedLeads: {} });

export interface BookEvent {
  type: string;
  data: unknown;
}

/** Folds an event into the book (ownership of open leads and deals). Mutates `state`. */
export function foldAssignmentBook(state: AssignmentBookState, event: BookEvent): void {
  const d = event.data as { leadId?: string; dealId?: string; ownerId?: string };
  switch (event.type) {
    case 'LeadAssigned':
      if (d.leadId && !state.closedLeads[d.leadId]) state.leadOwners[d.leadId] = d.ownerId!;
      break;
    case 'LeadConverted':
    case 'LeadDisqualified':
      if (d.leadId) {
        delete state.leadOwners[d.leadId];
        state.closedLeads[d.leadId] = true;
      }
      break;
    case 'DealOpened':
    case 'DealReopened':
      if (d.dealId && d.ownerId) state.dealOwners[d.dealId] = d.ownerId;
      break;
    case 'DealWon':
    case 'DealLost':
      if (d.dealId) delete state.dealOwners[d.dealId];
      break;
  }
}

/** Open leads + open deals per rep. */
export function workloads(state: AssignmentBookState): Map<string, number> {
  const load = new Map<string, number>();
  for (const owner of Object.values(state.leadOwners)) load.set(owner, (load.get(owner) ?? 0) + 1);
  for (const owner of Object.values(state.dealOwners)) load.set(owner, (load.get(owner) ?? 0) + 1);
  return load;
}

const listed = (values: string[] | undefined, value: string | undefined): boolean =>
  values === undefined || (value !== undefined && values.map((v) => v.toLowerCase()).includes(value.toLowerCase()));

/**
 * Chooses an owner for a new subject, or undefined (assignment off, or no rep eligible: every one
 * unavailable or at capacity). Advances the round-robin pointer it used (mutates `state`).
 */
export function chooseOwner(
  config: AssignmentConfig,
  state: AssignmentBookState,
  subject: AssignmentSubject,
): AssignmentChoice | undefined {
  if (config.strategy === 'off' || config.reps.length === 0) return undefined;
  let pool = config.reps.map((r) => r.id);
  let why = '';
  let method: 'round-robin' | 'least-busy' = config.strategy === 'least-busy' ? 'least-busy' : 'round-robin';
  if (config.strategy === 'territory') {
    method = config.within;
    const index = config.territories.findIndex((t) => listed(t.region, subject.region) && listed(t.industry, subject.industry));
    if (index >= 0) {
      pool = config.territories[index].reps;
      const t = config.territories[index];
      why = `territory ${index + 1} (${[t.region && `region ${t.region.join('|')}`, t.industry && `industry ${t.industry.join('|')}`].filter(Boolean).join(', ') || 'any'}), `;
    } else why = 'no territory matched: fallback to all reps, ';
  }
  const load = workloads(state);
  const byId = new Map(config.reps.map((r) => [r.id, r]));
  const eligible = (id: string): boolean => {
    const rep = byId.get(id);
    if (!rep || rep.available === false) return false;
    if (subject.at !== undefined && rep.away?.some((p) => Date.parse(p.from) <= subject.at! && subject.at! < Date.parse(p.to)))
      return false;
    return rep.capacity === undefined || (load.get(id) ?? 0) < rep.capacity;
  };
  if (method === 'least-busy') {
    let best: string | undefined;
    for (const id of pool) if (eligible(id) && (best === undefined || (load.get(id) ?? 0) < (load.get(best) ?? 0))) best = id;
    if (best === undefined) return undefined;
    return { ownerId: best, strategy: config.strategy, reason: `${why}least busy: ${load.get(best) ?? 0} open leads and deals` };
  }
  const key = pool.join(',');
  const start = state.pointers[key] ?? 0;
  for (let step = 0; step < pool.length; step++) {
    const index = (start + step) % pool.length;
    const id = pool[index];
    if (!eligible(id)) continue;
    state.pointers[key] = (index + 1) % pool.length;
    const skipped = step > 0 ? ` (skipped ${step} unavailable or at capacity)` : '';
    return { ownerId: id, strategy: config.strategy, reason: `${why}round-robin turn ${index + 1} of ${pool.length}${skipped}` };
  }
  return undefined;
}

/** Validates an assignment configuration; the error names the offending field. */
export function validateAssignmentConfig(value: unknown): AssignmentConfig {
  const c = value as Partial<AssignmentConfig>;
  if (!c || typeof c !== 'object') throw new Error('must be a JSON object { strategy, reps, territories?, within?, customers? }');
  const strategy = c.strategy ?? 'off';
  if (!AssignmentStrategies.includes(strategy)) throw new Error(`strategy must be one of ${AssignmentStrategies.join(', ')}`);
  const reps = c.reps ?? [];
  if (!Array.isArray(reps)) throw new Error('reps must be an array of { id, capacity?, available? }');
  const ids = new Set<string>();
  reps.forEach((r, i) => {
    if (!r || typeof r.id !== 'string' || !r.id.trim()) throw new Error(`reps[${i}].id must be a non-empty string`);
    if (ids.has(r.id)) throw new Error(`reps[${i}].id "${r.id}" is listed twice`);
    ids.add(r.id);
    if (r.capacity !== undefined && !(Number.isInteger(r.capacity) && r.capacity >= 0))
      throw new Error(`reps[${i}].capacity must be an integer ≥ 0`);
    if (r.available !== undefined && typeof r.available !== 'boolean') throw new Error(`reps[${i}].available must be true or false`);
    if (r.away !== undefined) {
      if (!Array.isArray(r.away)) throw new Error(`reps[${i}].away must be an array of { from, to }`);
      r.away.forEach((p, j) => {
        const from = Date.parse(p?.from);
        const to = Date.parse(p?.to);
        if (Number.isNaN(from) || Number.isNaN(to) || !(from < to))
          throw new Error(`reps[${i}].away[${j}] must be { from, to } ISO 8601 instants with from before to`);
      });
    }
  });
  if (strategy !== 'off' && reps.length === 0) throw new Error(`strategy ${strategy} needs at least one rep`);
  const territories = c.territories ?? [];
  if (!Array.isArray(territories)) throw new Error('territories must be an array');
  territories.forEach((t, i) => {
    if (!t || !Array.isArray(t.reps) || t.reps.length === 0) throw new Error(`territories[${i}].reps must be a non-empty array`);
    for (const id of t.reps) if (!ids.has(id)) throw new Error(`territories[${i}].reps: "${id}" is not in reps`);
    for (const key of ['region', 'industry'] as const) {
      if (t[key] !== undefined && !(Array.isArray(t[key]) && t[key].every((v) => typeof v === 'string')))
        throw new Error(`territories[${i}].${key} must be an array of strings`);
    }
  });
  if (strategy === 'territory' && territories.length === 0) throw new Error('strategy territory needs territories');
  const within = c.within ?? 'round-robin';
  if (within !== 'round-robin' && within !== 'least-busy') throw new Error('within must be round-robin or least-busy');
  if (c.customers !== undefined && typeof c.customers !== 'boolean') throw new Error('customers must be true or false');
  return { strategy, reps, territories, within, customers: c.customers ?? true };
}
