import { LeadInteractionType, LeadInteractionTypes } from '../lead/events';

/**
 * Lead scoring: points for profile attributes and for behaviour (the lead's interactions), the
 * latter optionally decaying with a half-life. Pure: the score of a lead at an instant depends on
 * its history up to that instant and the model only, so a replay scores exactly the same.
 */
export interface ProfileRule {
  /** `source`, `campaignId`, or a key of the lead's `attributes` (industry, jobTitle, companySize, region, pastPurchases, …). */
  attribute: string;
  equals?: string | number | boolean;
  in?: (string | number)[];
  /** Case-insensitive substring (e.g. "director" in a job title). */
  contains?: string;
  gte?: number;
  lte?: number;
  points: number;
}

export interface BehaviourRule {
  interaction: LeadInteractionType;
  /** Points per interaction (before decay). */
  points: number;
  /** Only the most recent N count. */
  maxCount?: number;
}

export interface ScoreBand {
  name: string;
  /** Lowest score in the band; bands ascend. */
  min: number;
}

export interface ScoringModel {
  profile: ProfileRule[];
  behaviour: BehaviourRule[];
  /** Behaviour points halve every this many days (absent: no decay). */
  halfLifeDays?: number;
  bands: ScoreBand[];
}

export const defaultScoringModel: ScoringModel = {
  profile: [
    { attribute: 'industry', in: ['software', 'saas', 'fintech'], points: 15 },
    { attribute: 'jobTitle', contains: 'director', points: 10 },
    { attribute: 'jobTitle', contains: 'chief', points: 15 },
    { attribute: 'companySize', gte: 200, points: 10 },
    { attribute: 'region', in: ['emea', 'na'], points: 5 },
    { attribute: 'pastPurchases', gte: 1, points: 15 },
    { attribute: 'source', equals: 'referral', points: 10 },
  ],
  behaviour: [
    { interaction: 'web-visit', points: 2, maxCount: 10 },
    { interaction: 'form-submission', points: 10 },
    { interaction: 'email-opened', points: 1, maxCount: 10 },
    { interaction: 'email-replied', points: 8 },
    { interaction: 'content-download', points: 5 },
    { interaction: 'meeting', points: 10 },
    { interaction: 'purchase', points: 15 },
  ],
  halfLifeDays: 30,
  bands: [
    { name: 'cold', min: 0 },
    { name: 'warm', min: 30 },
    { name: 'hot', min: 60 },
  ],
};

export interface ScoringInput {
  source: string;
  campaignId?: string;
  attributes?: Record<string, unknown>;
  interactions: { type: string; occurredAt: string }[];
}

export interface LeadScore {
  score: number;
  reasons: string[];
}

const DAY_MS = 86_400_000;
const round2 = (n: number): number => Math.round(n * 100) / 100 + 0;

function attributeOf(input: ScoringInput, attribute: string): unknown {
  if (attribute === 'source') return input.source;
  if (attribute === 'campaignId') return input.campaignId;
  return input.attributes?.[attribute];
}

function matches(rule: ProfileRule, value: unknown): boolean {
  if (value === undefined || value === null) return false;
  if (rule.equals !== undefined && value !== rule.equals) return false;
  if (rule.in !== undefined && !rule.in.includes(value as string | number)) return false;
  if (rule.contains !== undefined && !(typeof value === 'string' && value.toLowerCase().includes(rule.contains.toLowerCase())))
    return false;
  if (rule.gte !== undefined && !(typeof value === 'number' && value >= rule.gte)) return false;
  if (rule.lte !== undefined && !(typeof value === 'number' && value <= rule.lte)) return false;
  return true;
}

/**
 * The rule that matched, not the lead's value: attributes are personal data (sealed, erasable),
 * while LeadScored's reasons are stored in clear.
 */
function describe(rule: ProfileRule): string {
  const conditions: string[] = [];
  if (rule.equals !== undefined) conditions.push(`= ${String(rule.equals)}`);
  if (rule.in !== undefined) conditions.push(`in [${rule.in.join(', ')}]`);
  if (rule.contains !== undefined) conditions.push(`contains "${rule.contains}"`);
  if (rule.gte !== undefined) conditions.push(`≥ ${rule.gte}`);
  if (rule.lte !== undefined) conditions.push(`≤ ${rule.lte}`);
  return `${rule.attribute} ${conditions.join(' and ') || 'present'}`;
}

/** The lead's score at `atMs` (epoch ms), with one reason per rule that gave points. */
export function scoreLead(input: ScoringInput, model: ScoringModel, atMs: number): LeadScore {
  let total = 0;
  const reasons: string[] = [];
  for (const rule of model.profile) {
    const value = attributeOf(input, rule.attribute);
    if (!matches(rule, value)) continue;
    total += rule.points;
    reasons.push(`${describe(rule)}: ${rule.points >= 0 ? '+' : ''}${rule.points}`);
  }
  for (const rule of model.behaviour) {
    const times = input.interactions
      .filter((i) => i.type === rule.interaction)
      .map((i) => Date.parse(i.occurredAt))
      .filter((t) => t <= atMs)
      .sort((a, b) => b - a)
      .slice(0, rule.maxCount ?? Number.MAX_SAFE_INTEGER);
    if (times.length === 0) continue;
    let points = 0;
    for (const t of times) {
      const decay = model.halfLifeDays ? Math.pow(0.5, (atMs - t) / DAY_MS / model.halfLifeDays) : 1;
      points += rule.points * decay;
    }
    total += points;
    reasons.push(`${rule.interaction} ×${times.length}: ${points >= 0 ? '+' : ''}${round2(points)}`);
  }
  return { score: round2(total), reasons };
}

/** The band a score falls in (below the first band's min: the first band). */
export function scoreBand(model: Pick<ScoringModel, 'bands'>, score: number): string {
  let band = model.bands[0].name;
  for (const b of model.bands) if (score >= b.min) band = b.name;
  return band;
}

const isNumber = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

/** Validates a scoring model; the error names the offending field. */
export function validateScoringModel(value: unknown): ScoringModel {
  const m = value as Partial<ScoringModel>;
  if (!m || typeof m !== 'object') throw new Error('must be a JSON object { profile, behaviour, halfLifeDays?, bands }');
  const profile = m.profile ?? [];
  const behaviour = m.behaviour ?? [];
  if (!Array.isArray(profile)) throw new Error('profile must be an array');
  if (!Array.isArray(behaviour)) throw new Error('behaviour must be an array');
  profile.forEach((r, i) => {
    if (!r || typeof r.attribute !== 'string' || !r.attribute) throw new Error(`profile[${i}].attribute must be a non-empty string`);
    if (!isNumber(r.points)) throw new Error(`profile[${i}].points must be a number`);
    if (r.in !== undefined && !Array.isArray(r.in)) throw new Error(`profile[${i}].in must be an array`);
    if (r.gte !== undefined && !isNumber(r.gte)) throw new Error(`profile[${i}].gte must be a number`);
    if (r.lte !== undefined && !isNumber(r.lte)) throw new Error(`profile[${i}].lte must be a number`);
    if (r.contains !== undefined && typeof r.contains !== 'string') throw new Error(`profile[${i}].contains must be a string`);
  });
  behaviour.forEach((r, i) => {
    if (!r || !(LeadInteractionTypes as readonly string[]).includes(r.interaction))
      throw new Error(`behaviour[${i}].interaction must be one of ${LeadInteractionTypes.join(', ')}`);
    if (!isNumber(r.points)) throw new Error(`behaviour[${i}].points must be a number`);
    if (r.maxCount !== undefined && !(Number.isInteger(r.maxCount) && r.maxCount > 0))
      throw new Error(`behaviour[${i}].maxCount must be a positive integer`);
  });
  if (m.halfLifeDays !== undefined && !(isNumber(m.halfLifeDays) && m.halfLifeDays > 0))
    throw new Error('halfLifeDays must be a positive number');
  const bands = m.bands ?? defaultScoringModel.bands;
  if (!Array.isArray(bands) || bands.length === 0) throw new Error('bands must be a non-empty array of { name, min }');
  bands.forEach((b, i) => {
    if (!b || typeof b.name !== 'string' || !b.name) throw new Error(`bands[${i}].name must be a non-empty string`);
    if (!isNumber(b.min)) throw new Error(`bands[${i}].min must be a number`);
    if (i > 0 && !(b.min > bands[i - 1].min)) throw new Error(`bands[${i}].min must be above bands[${i - 1}].min`);
  });
  return { profile, behaviour, halfLifeDays: m.halfLifeDays, bands };
}
