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
