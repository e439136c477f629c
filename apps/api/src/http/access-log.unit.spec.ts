import { SampledAccessLog } from './access-log';

describe('SampledAccessLog', () => {
  let now = 0;
  const lines: string[] = [];
  let log: SampledAccessLog;
  beforeEach(() => {
    now = 0;
    lines.length = 0;
    log = new SampledAccessLog({ warn: (line: string) => void lines.push(line) }, 60_000, 2, () => now);
  });
  afterEach(() => log.close());

  it('logs the first line per source per window, then how many it left out', () => {
    for (let i = 0; i < 5; i++) log.warn('ip=1.2.3.4', `401 #${i}`);
    log.warn('ip=5.6.7.8', '401 other');
    expect(lines).toEqual(['401 #0', '401 other']);
    now = 60_000;
    log.warn('ip=1.2.3.4', '401 #5'); // a new window: the count of the last one, then the line
    expect(lines.slice(2)).toEqual(['4 more denied requests from ip=1.2.3.4 not logged (at most one line per 60 s)', '401 #5']);
  });

  it('reports the counts when a window ends without a new line, and forgets the source', () => {
    log.warn('ip=1.2.3.4', 'first');
    log.warn('ip=1.2.3.4', 'second');
    log.flush();
    expect(lines).toEqual(['first']);
    now = 60_001;
    log.flush();
    expect(lines).toEqual(['first', '1 more denied requests from ip=1.2.3.4 not logged (at most one line per 60 s)']);
    log.warn('ip=1.2.3.4', 'third');
    expect(lines.at(-1)).toBe('third');
  });

  it('counts, without tracking them, the sources past its bound', () => {
    log.warn('a', 'a');
    log.warn('b', 'b');
    log.warn('c', 'c');
    log.warn('d', 'd');
    expect(lines).toEqual(['a', 'b']);
    now = 60_000;
    log.flush();
    expect(lines).toContain('2 more denied requests not logged (over 2 sources within 60 s)');
  });
});
