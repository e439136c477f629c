import { assertPinnedRoles, ConfigError, loadConfig } from './config';

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

describe('HTTP limits', () => {
  it('defaults, and each variable taken', () => {
    expect(loadConfig({}).http).toEqual({
      headersTimeoutMs: 10_000,
      requestTimeoutMs: 30_000,
      keepAliveTimeoutMs: 72_000,
      idleTimeoutMs: 120_000,
      maxConnections: 1_000,
      unauthenticatedPerMinute: 60,
    });
    const env = {
      HTTP_HEADERS_TIMEOUT_MS: '500',
      HTTP_REQUEST_TIMEOUT_MS: '1500',
      HTTP_KEEP_ALIVE_TIMEOUT_MS: '5000',
      HTTP_IDLE_TIMEOUT_MS: '9000',
      HTTP_MAX_CONNECTIONS: '12',
      UNAUTHENTICATED_LIMIT_PER_MINUTE: '0',
    };
    expect(loadConfig(env).http).toEqual({
      headersTimeoutMs: 500,
      requestTimeoutMs: 1500,
      keepAliveTimeoutMs: 5000,
      idleTimeoutMs: 9000,
      maxConnections: 12,
      unauthenticatedPerMinute: 0,
    });
  });

  it.each([
    ['HTTP_HEADERS_TIMEOUT_MS', '0'],
    ['HTTP_MAX_CONNECTIONS', 'many'],
    ['UNAUTHENTICATED_LIMIT_PER_MINUTE', '-1'],
    ['HTTP_REQUEST_TIMEOUT_MS', '5000'], // shorter than the headers timeout
  ])('refuses %s=%s with a message naming it', (name, value) => {
    expect(() => loadConfig({ [name]: value })).toThrow(new RegExp(name));
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
    const path = file(
      'rules.json',
      '{\n  "rules": [\n    { "name": "a", "on": ["DealOpened"], "then": [{ "action": "tag", "tag": "x" }] },\n    { "name": "b", "on": ["DealOpened"], "then": [] }\n  ]\n}\n',
    );
    expect(() => loadConfig({ RULES_FILE: path })).toThrow(ConfigError);
    expect(() => loadConfig({ RULES_FILE: path })).toThrow(
      `RULES_FILE="${path}": line 4: rules[1]: "b": then must be a non-empty array of actions`,
    );
    expect(() => loadConfig({ RULES_FILE: join(dir, 'missing.json') })).toThrow(/RULES_FILE=.*cannot be read/);
  });

  it('scoring and assignment files are validated, the message naming the variable', () => {
    expect(() => loadConfig({ SCORING_FILE: file('s.json', '{"halfLifeDays": -1}') })).toThrow(
      /SCORING_FILE=.*halfLifeDays must be a positive number/,
    );
    expect(() => loadConfig({ ASSIGNMENT_FILE: file('a.json', '{"strategy": "round-robin", "reps": []}') })).toThrow(
      /ASSIGNMENT_FILE=.*needs at least one rep/,
    );
    expect(() => loadConfig({ ASSIGNMENT_FILE: file('b.json', '{"strategy": ') })).toThrow(/ASSIGNMENT_FILE=.*not valid JSON/);
    const ok = loadConfig({ ASSIGNMENT_FILE: file('c.json', '{"strategy": "least-busy", "reps": [{"id": "u-1", "capacity": 5}]}') });
    expect(ok.assignment).toEqual({
      strategy: 'least-busy',
      reps: [{ id: 'u-1', capacity: 5 }],
      territories: [],
      within: 'round-robin',
      customers: true,
    });
  });

  it('the shipped example files are valid', () => {
    for (const [name, variable] of [
      ['scoring.json', 'SCORING_FILE'],
      ['assignment.json', 'ASSIGNMENT_FILE'],
      ['rules.json', 'RULES_FILE'],
    ]) {
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

describe('cluster settings: LEASE_TIMEOUT_MS, LEASE_RENEW_MS, PROJECTIONS, HEALTH_PORT', () => {
  it('defaults to a 10 s lease renewed every quarter of it; the renewal follows the timeout', () => {
    expect(loadConfig({}).lease).toEqual({ timeoutMs: 10_000, renewMs: 2500 });
    expect(loadConfig({ LEASE_TIMEOUT_MS: '3000' }).lease).toEqual({ timeoutMs: 3000, renewMs: 750 });
    expect(loadConfig({ LEASE_TIMEOUT_MS: '3000', LEASE_RENEW_MS: '1000' }).lease).toEqual({ timeoutMs: 3000, renewMs: 1000 });
  });

  it.each([
    [{ LEASE_TIMEOUT_MS: 'soon' }, /LEASE_TIMEOUT_MS="soon"/],
    [{ LEASE_TIMEOUT_MS: '500' }, /LEASE_TIMEOUT_MS="500" must be at least 1000/],
    [
      { LEASE_TIMEOUT_MS: '3000', LEASE_RENEW_MS: '1001' },
      /LEASE_RENEW_MS="1001" must be between 100 and a third of LEASE_TIMEOUT_MS \(3000\)/,
    ],
    [{ LEASE_RENEW_MS: '50' }, /LEASE_RENEW_MS="50"/],
    [{ PROJECTIONS: 'customers,Bad Name' }, /PROJECTIONS entry "Bad Name"/],
    [{ HEALTH_PORT: '70000' }, /HEALTH_PORT="70000"/],
  ])('a misconfigured setting stops start-up naming the variable: %j', (env, message) => {
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(message);
  });

  it('PROJECTIONS names projections or roles; a name no process knows is refused with the known ones', () => {
    const config = loadConfig({ PROJECTIONS: 'customers, process-manager:rules' });
    expect(config.pinnedRoles).toEqual(['projection:customers', 'process-manager:rules']);
    expect(loadConfig({}).pinnedRoles).toBeUndefined();
    const known = ['projection:customers', 'projection:deals', 'process-manager:rules'];
    expect(() => assertPinnedRoles(config, known)).not.toThrow();
    expect(() => assertPinnedRoles(loadConfig({ PROJECTIONS: 'customer' }), known)).toThrow(
      'PROJECTIONS names unknown role(s) customer; known: customers, deals, process-manager:rules',
    );
  });
});
