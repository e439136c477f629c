import { derivedRecordId, formatOfFile, parseImport, rowKey } from './import-format';

describe('import files', () => {
  it('reads CSV as a JSON body: quotes, doubled quotes, line breaks in quotes, CRLF, empty cells absent, numbers, attributes', () => {
    const csv =
      '\ufeffname,amount,notes,attributes.tier,attributes\r\n' +
      '"Hopper & Co, Inc",12.5,"said ""hi""",gold,"{""size"":3}"\r\n' +
      '\r\n' +
      'Plain,abc,"two\nlines",,\n' +
      'Last,-1e3,,,';
    const parsed = parseImport(csv, 'csv', new Set(['amount']));
    expect(parsed.errors).toEqual([]);
    expect(parsed.columns).toEqual(['name', 'amount', 'notes', 'attributes.tier', 'attributes']);
    expect(parsed.rows.map((r) => [r.row, r.fields])).toEqual([
      [1, { name: 'Hopper & Co, Inc', amount: 12.5, notes: 'said "hi"', attributes: { tier: 'gold', size: 3 } }],
      [2, { name: 'Plain', amount: 'abc', notes: 'two\nlines' }],
      [3, { name: 'Last', amount: -1000 }],
    ]);
    // Each row as written, for a rejects file.
    expect(parsed.rows.map((r) => r.text)).toEqual([
      '"Hopper & Co, Inc",12.5,"said ""hi""",gold,"{""size"":3}"',
      'Plain,abc,"two\nlines",,',
      'Last,-1e3,,,',
    ]);
  });

  it('says what is wrong with a CSV file or row', () => {
    expect(parseImport('', 'csv').errors).toEqual([{ row: 0, message: expect.stringContaining('empty') }]);
    expect(parseImport('name,name\nA,B\n', 'csv').errors).toEqual([
      { row: 0, column: 'name', message: 'the header names column name twice' },
    ]);
    expect(parseImport('name\n"open\n', 'csv').errors).toEqual([{ row: 0, message: 'line 2: a quoted field is not closed' }]);
    const rows = parseImport('name,email\nA\nB,b@example.com\nC,D,E\n', 'csv').rows;
    expect(rows.map((r) => r.errors ?? [])).toEqual([
      [{ row: 1, message: 'has 1 fields, the header 2' }],
      [],
      [{ row: 3, message: 'has 3 fields, the header 2' }],
    ]);
    const json = parseImport('name,attributes\nA,{nope\n', 'csv').rows[0];
    expect(json.errors).toEqual([{ row: 1, column: 'attributes', message: expect.stringContaining('JSON object') }]);
  });

  it('reads NDJSON lines as they are; a line that is not a JSON object is an error on its row', () => {
    const parsed = parseImport('{"name":"A","amount":1}\n\n[1]\n{oops\r\n{"name":null}', 'ndjson');
    expect(parsed.rows.map((r) => [r.row, r.fields, r.errors ?? []])).toEqual([
      [1, { name: 'A', amount: 1 }, []],
      [2, {}, [{ row: 2, message: 'must be a JSON object' }]],
      [3, {}, [{ row: 3, message: expect.stringMatching(/^not JSON/) }]],
      [4, { name: null }, []],
    ]);
  });

  it('keys a row by a column, or by a hash of its fields whatever their order', () => {
    expect(rowKey({ a: 1, b: { y: 2, x: 1 } })).toBe(rowKey({ b: { x: 1, y: 2 }, a: 1 }));
    expect(rowKey({ a: 1 })).not.toBe(rowKey({ a: 2 }));
    expect(rowKey({ legacyId: 'L-7', name: 'A' }, 'legacyId')).toBe('legacyId:L-7');
    expect(rowKey({ name: 'A' }, 'legacyId')).toBeUndefined();
    expect(rowKey({ legacyId: '' }, 'legacyId')).toBeUndefined();
  });

  it('derives record ids with the API layout (UUID version 4), the same for the same key', () => {
    const id = derivedRecordId('import|customers|legacyId:L-7|id');
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(derivedRecordId('import|customers|legacyId:L-7|id')).toBe(id);
    expect(derivedRecordId('import|customers|legacyId:L-8|id')).not.toBe(id);
  });

  it('takes the format from the file name', () => {
    expect(['a.csv', 'a.ndjson', 'A.JSONL', 'a.json', 'a.txt'].map(formatOfFile)).toEqual(['csv', 'ndjson', 'ndjson', 'ndjson', 'csv']);
  });
});
