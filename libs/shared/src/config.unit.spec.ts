import { ConfigError, loadConfig } from './config';

describe('RATE_LIMIT_PER_MINUTE', () => {
  it('defaults to 60,000 per key, takes a positive integer, and 0 turns the limit off', () => {
    expect(loadConfig({}).rateLimitPerMinute).toBe(60_000);
    expect(loadConfig({ RATE_LIMIT_PER_MINUTE: '120' }).rateLimitPerMinute).toBe(120);
    expect(loadConfig({ RATE_LIMIT_PER_MINUTE: '0' }).rateLimitPerMinute).toBe(0);
  });

  it.each(['-1', '1.5', 'many', '99999999'])('refuses %s with a message naming the variable', (value) => {
    expect(() => loadConfig({ RATE_LIMIT_PER_MINUTE: value })).toThrow(ConfigError);
    expect(() => loadConfig({ RATE_LIMIT_PER_MINUTE: value })).toThrow(/RATE_LIMIT_PER_MINUTE/);
  });
});

describe('automation configuration files', () => {
  const { mkdtempSync, writeFileSync } = require('node:fs') as typeof import('node:fs');
  const { join } = require('node:path') as typeof import('node:path');
  const { tmpdir } = require('node:os') as typeof import('node:os');
  const dir = mkdtempSync(join(tmpdir(), 'chronicle-config-'));
  const file = (name: string, text: string) => {
    const path = join(dir, name);
    writeFileSync(path, text);
    return path;
  };

  it('defaults: the built-in scoring model, assignment off, the seed rules', () => {
    const config = loadConfig({});
    expect(config.assignment.strategy).toBe('off');
    expect(config.rules.map((r) => r.name)).toEqual(['call-the-lead', 'nurture-small-deals']);
    expect(config.scoring.halfLifeDays).toBe(30);
  });

  it('a bad rule file stops start-up naming the variable and the line of the rule', () => {
    const path = file('rules.json', '{\n  "rules": [\n    { "name": "a", "on": ["DealOpened"], "then": [{ "action": "tag", "tag": "x" }] },\n    { "name": "b", "on": ["DealOpened"], "then": [] }\n  ]\n}\n');
    expect(() => loadConfig({ RULES_FILE: path })).toThrow(ConfigError);
    expect(() => loadConfig({ RULES_FILE: path })).toThrow(`RULES_FILE="${path}": line 4: rules[1]: "b": then must be a non-empty array of actions`);
    expect(() => loadConfig({ RULES_FILE: join(dir, 'missing.json') })).toThrow(/RULES_FILE=.*cannot be read/);
  });

  it('scoring and assignment files are validated, the message naming the variable', () => {
    expect(() => loadConfig({ SCORING_FILE: file('s.json', '{"halfLifeDays": -1}') })).toThrow(/SCORING_FILE=.*halfLifeDays must be a positive number/);
    expect(() => loadConfig({ ASSIGNMENT_FILE: file('a.json', '{"strategy": "round-robin", "reps": []}') })).toThrow(/ASSIGNMENT_FILE=.*needs at least one rep/);
    expect(() => loadConfig({ ASSIGNMENT_FILE: file('b.json', '{"strategy": ') })).toThrow(/ASSIGNMENT_FILE=.*not valid JSON/);
    const ok = loadConfig({ ASSIGNMENT_FILE: file('c.json', '{"strategy": "least-busy", "reps": [{"id": "u-1", "capacity": 5}]}') });
    expect(ok.assignment).toEqual({ strategy: 'least-busy', reps: [{ id: 'u-1', capacity: 5 }], territories: [], within: 'round-robin', customers: true });
  });

  it('the shipped example files are valid', () => {
    for (const [name, variable] of [['scoring.json', 'SCORING_FILE'], ['assignment.json', 'ASSIGNMENT_FILE'], ['rules.json', 'RULES_FILE']]) {
      expect(() => loadConfig({ [variable]: join(__dirname, '../../../examples/automation', name) })).not.toThrow();
    }
  });
});

describe('shipped example files equal the built-in defaults', () => {
  it('scoring.json and rules.json', () => {
    const { readFileSync } = require('node:fs') as typeof import('node:fs');
    const { join } = require('node:path') as typeof import('node:path');
    const dir = join(__dirname, '../../../examples/automation');
    const defaults = loadConfig({});
    expect(loadConfig({ SCORING_FILE: join(dir, 'scoring.json') }).scoring).toEqual(defaults.scoring);
    expect(loadConfig({ RULES_FILE: join(dir, 'rules.json') }).rules).toEqual(defaults.rules);
    expect(readFileSync(join(dir, 'rules.json'), 'utf8').length).toBeGreaterThan(100);
  });
});
