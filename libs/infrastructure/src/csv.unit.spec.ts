import { parse } from 'csv-parse/sync';
import { toCsv } from './csv';

describe('toCsv', () => {
  it('writes one header row and one CRLF-terminated row per row, columns in first-seen order', () => {
    expect(
      toCsv([
        { a: 1, b: 'x' },
        { b: 'y', c: true },
      ]),
    ).toBe('a,b,c\r\n1,x,\r\n,y,true\r\n');
  });

  it('quotes fields holding a comma, a quote or a line break (RFC 4180) and reads back exactly', () => {
    const rows = [{ name: 'Smith, "Ada"', note: 'two\r\nlines', plain: 'ok' }];
    const csv = toCsv(rows);
    expect(csv).toBe('name,note,plain\r\n"Smith, ""Ada""","two\r\nlines",ok\r\n');
    expect(parse(csv, { columns: true })).toEqual(rows);
  });

  it('keeps numbers unformatted, null as an empty field, booleans as words', () => {
    expect(toCsv([{ value: 1234567.5, rate: 0.0001, negative: -3, none: null, flag: false }])).toBe(
      'value,rate,negative,none,flag\r\n1234567.5,0.0001,-3,,false\r\n',
    );
  });

  it('defuses text a spreadsheet would run as a formula, and only text', () => {
    const csv = toCsv([{ a: '=HYPERLINK("http://x")', b: '+1', c: '-x', d: '@SUM(A1)', e: -1, f: 'a=b' }]);
    expect(parse(csv, { columns: true })).toEqual([
      { a: `'=HYPERLINK("http://x")`, b: `'+1`, c: `'-x`, d: `'@SUM(A1)`, e: '-1', f: 'a=b' },
    ]);
  });

  it('answers an empty body for no rows', () => {
    expect(toCsv([])).toBe('');
  });
});
