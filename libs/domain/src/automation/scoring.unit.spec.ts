import { defaultScoringModel, ScoringModel, scoreBand, scoreLead, validateScoringModel } from './scoring';

const DAY = 86_400_000;
const t0 = Date.parse('2024-03-01T00:00:00.000Z');
const at = (days: number) => new Date(t0 + days * DAY).toISOString();

const model: ScoringModel = {
  profile: [
    { attribute: 'industry', equals: 'software', points: 20 },
    { attribute: 'companySize', gte: 200, points: 10 },
    { attribute: 'jobTitle', contains: 'director', points: 5 },
    { attribute: 'source', in: ['referral'], points: 7 },
  ],
  behaviour: [
    { interaction: 'web-visit', points: 10 },
    { interaction: 'email-opened', points: 1, maxCount: 2 },
  ],
  halfLifeDays: 10,
  bands: [
    { name: 'cold', min: 0 },
    { name: 'warm', min: 25 },
    { name: 'hot', min: 50 },
  ],
};

describe('lead scoring', () => {
  it('gives profile points per matching attribute, with the reasons', () => {
    const s = scoreLead(
      { source: 'referral', attributes: { industry: 'software', companySize: 500, jobTitle: 'Sales Director' }, interactions: [] },
      model,
      t0,
    );
    expect(s).toEqual({
      score: 42,
      reasons: ['industry = software: +20', 'companySize ≥ 200: +10', 'jobTitle contains "director": +5', 'source in [referral]: +7'],
    });
  });

  it('decays behaviour points with the half-life: visits 20 and 10 days old are worth 1/4 and 1/2', () => {
    const input = {
      source: 'web',
      attributes: { industry: 'software' },
      interactions: [
        { type: 'web-visit', occurredAt: at(0) },
        { type: 'web-visit', occurredAt: at(10) },
      ],
    };
    expect(scoreLead(input, model, t0 + 20 * DAY)).toEqual({ score: 27.5, reasons: ['industry = software: +20', 'web-visit ×2: +7.5'] });
    // Ten days later both halved again.
    expect(scoreLead(input, model, t0 + 30 * DAY).score).toBe(23.75);
    // Without decay, the same history is worth the full points.
    expect(scoreLead(input, { ...model, halfLifeDays: undefined }, t0 + 30 * DAY).score).toBe(40);
  });

  it('counts only the most recent maxCount interactions and none after the scoring instant', () => {
    const input = {
      source: 'web',
      interactions: [0, 1, 2, 3]
        .map((d) => ({ type: 'email-opened', occurredAt: at(d) }))
        .concat([{ type: 'web-visit', occurredAt: at(9) }]),
    };
    const s = scoreLead(input, { ...model, halfLifeDays: undefined }, t0 + 3 * DAY);
    expect(s).toEqual({ score: 2, reasons: ['email-opened ×2: +2'] });
  });

  it('is deterministic: the same history and instant give the same score', () => {
    const input = {
      source: 'web',
      attributes: { industry: 'saas', region: 'emea', pastPurchases: 2 },
      interactions: [
        { type: 'form-submission', occurredAt: at(1) },
        { type: 'web-visit', occurredAt: at(2) },
      ],
    };
    const runs = Array.from({ length: 5 }, () => scoreLead(input, defaultScoringModel, t0 + 5 * DAY));
    for (const run of runs) expect(run).toEqual(runs[0]);
    // 15 (saas) + 5 (emea) + 15 (past purchases) + 10·½^(4/30) + 2·½^(3/30)
    expect(runs[0].score).toBe(45.98);
  });

  it('puts a score in its band', () => {
    expect([0, 24.99, 25, 49, 50, 200, -3].map((s) => scoreBand(model, s))).toEqual(['cold', 'cold', 'warm', 'warm', 'hot', 'hot', 'cold']);
  });

  it('validates a model, naming the field', () => {
    expect(() => validateScoringModel({ behaviour: [{ interaction: 'fax', points: 1 }] })).toThrow(/behaviour\[0\]\.interaction/);
    expect(() => validateScoringModel({ profile: [{ attribute: 'industry' }] })).toThrow(/profile\[0\]\.points/);
    expect(() => validateScoringModel({ halfLifeDays: 0 })).toThrow(/halfLifeDays/);
    expect(() =>
      validateScoringModel({
        bands: [
          { name: 'a', min: 10 },
          { name: 'b', min: 5 },
        ],
      }),
    ).toThrow(/bands\[1\]\.min/);
    expect(validateScoringModel(defaultScoringModel)).toEqual(defaultScoringModel);
  });
});
