import { schemaVersions } from '../events';
import { addBusinessDays } from './business-days';
import { defaultRulesText, parseRules, planActions } from './rules';

const types = Object.keys(schemaVersions);
const rules = parseRules(defaultRulesText, types);
const deal = (amount: number) => ({ dealId: 'd1', customerId: 'c1', ownerId: 'rep-1', amount, stage: 'qualification' });

describe('follow-up rules', () => {
  it('business days skip the weekend', () => {
    expect(addBusinessDays('2024-03-01T10:00:00.000Z', 1)).toBe('2024-03-04T10:00:00.000Z'); // Fri → Mon
    expect(addBusinessDays('2024-03-02T10:00:00.000Z', 1)).toBe('2024-03-04T10:00:00.000Z'); // Sat → Mon
    expect(addBusinessDays('2024-03-04T10:00:00.000Z', 1)).toBe('2024-03-05T10:00:00.000Z'); // Mon → Tue
    expect(addBusinessDays('2024-03-04T10:00:00.000Z', 5)).toBe('2024-03-11T10:00:00.000Z');
  });

  it('the seed rule: a deal opened at ≥ 500 → a call task due in one business day for its owner', () => {
    const actions = planActions(rules, {
      type: 'DealOpened',
      data: { amount: 500 },
      state: deal(500),
      previous: undefined,
      occurredAt: '2024-03-01T10:00:00.000Z',
    });
    expect(actions).toEqual([
      {
        rule: 'call-the-lead',
        index: 0,
        action: 'create-task',
        ownerId: 'rep-1',
        subject: 'Call the lead',
        dueAt: '2024-03-04T10:00:00.000Z',
        customerId: 'c1',
        dealId: 'd1',
      },
    ]);
  });

  it('below 500 → the customer is enrolled in the nurture campaign, no task', () => {
    const actions = planActions(rules, {
      type: 'DealOpened',
      data: { amount: 499.99 },
      state: deal(499.99),
      previous: undefined,
      occurredAt: '2024-03-01T10:00:00.000Z',
    });
    expect(actions).toEqual([{ rule: 'nurture-small-deals', index: 0, action: 'enroll', customerId: 'c1', campaign: 'nurture' }]);
  });

  it('an amount changed across 500 triggers; a change that stays on one side does not', () => {
    const at = '2024-03-05T09:00:00.000Z';
    const up = planActions(rules, {
      type: 'DealAmountChanged',
      data: { from: 100, to: 800 },
      state: deal(800),
      previous: deal(100),
      occurredAt: at,
    });
    expect(up.map((a) => a.action)).toEqual(['create-task']);
    expect(
      planActions(rules, {
        type: 'DealAmountChanged',
        data: { from: 800, to: 900 },
        state: deal(900),
        previous: deal(800),
        occurredAt: at,
      }),
    ).toEqual([]);
    expect(
      planActions(rules, {
        type: 'DealAmountChanged',
        data: { from: 100, to: 200 },
        state: deal(200),
        previous: deal(100),
        occurredAt: at,
      }),
    ).toEqual([]);
    const down = planActions(rules, {
      type: 'DealAmountChanged',
      data: { from: 800, to: 300 },
      state: deal(300),
      previous: deal(800),
      occurredAt: at,
    });
    expect(down.map((a) => a.action)).toEqual(['enroll']);
    expect(planActions(rules, { type: 'DealStageChanged', data: {}, state: deal(900), previous: deal(900), occurredAt: at })).toEqual([]);
  });

  it('a bad rule file names the line of the offending rule', () => {
    const text = `{
  "rules": [
    { "name": "ok", "on": ["DealOpened"], "then": [{ "action": "tag", "tag": "new-deal" }] },
    {
      "name": "broken",
      "on": ["DealOpenned"],
      "then": [{ "action": "tag", "tag": "x" }]
    }
  ]
}`;
    expect(() => parseRules(text, types)).toThrow('line 4: rules[1]: "broken": on: "DealOpenned" is not an event type');
    expect(() => parseRules('{\n  "rules": [\n    { "name": "a", }\n  ]\n}', types)).toThrow(/^line 3: not valid JSON/);
    const badAction = '{ "rules": [\n{ "name": "a", "on": ["DealWon"], "then": [{ "action": "email" }] }\n] }';
    expect(() => parseRules(badAction, types)).toThrow(
      'line 2: rules[0]: "a": then[0].action must be one of create-task, assign, enroll, tag',
    );
    const badOp =
      '{ "rules": [{ "name": "a", "on": ["DealWon"], "when": { "path": "state.amount", "greater": 3 }, "then": [{ "action": "tag", "tag": "t" }] }] }';
    expect(() => parseRules(badOp, types)).toThrow(/line 1: .*unknown operator greater/);
  });

  it('conditions on state, event and type; assign and tag on customer events', () => {
    const custom = parseRules(
      JSON.stringify({
        rules: [
          {
            name: 'vip',
            on: ['PurchaseRecorded'],
            when: { all: [{ path: 'event.amount', gt: 1000 }, { not: { path: 'state.ownerId', exists: true } }] },
            then: [
              { action: 'assign', ownerId: 'key-accounts' },
              { action: 'tag', tag: 'vip' },
            ],
          },
        ],
      }),
      types,
    );
    const input = {
      type: 'PurchaseRecorded',
      data: { amount: 1500 },
      state: { customerId: 'c9' },
      previous: { customerId: 'c9' },
      occurredAt: '2024-03-01T00:00:00.000Z',
    };
    expect(planActions(custom, input)).toEqual([
      { rule: 'vip', index: 0, action: 'assign', aggregate: 'customer', id: 'c9', ownerId: 'key-accounts' },
      { rule: 'vip', index: 1, action: 'tag', customerId: 'c9', tag: 'vip' },
    ]);
    expect(planActions(custom, { ...input, state: { customerId: 'c9', ownerId: 'x' } })).toEqual([]);
    expect(planActions(custom, { ...input, data: { amount: 10 } })).toEqual([]);
  });
});
