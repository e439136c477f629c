import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { streamIdOf } from '@chronicle/domain';
import { repositoryRoot as root } from '../support/api-process';
import { runChronicle } from '../support/cli';
import { client } from '../support/http';
import { startTestApp, TestApp } from '../support/test-app';

/**
 * `chronicle import <file>`: the README's line as written, a re-run that appends nothing, exit
 * code 2 with the errors by row and column (nothing appended), and `--skip-invalid --rejects`.
 */

jest.setTimeout(120_000);

let t: TestApp;
let dir: string;
const ADA = '5b0e8a52-3c1d-4f7e-9a61-0c2f4d8e1a01';

const chronicle = (...args: string[]) => runChronicle(args, { DATA_DIR: t.dataDir, LOG_LEVEL: 'silent' });

beforeAll(async () => {
  t = await startTestApp();
  dir = mkdtempSync(join(tmpdir(), 'chronicle-cli-import-'));
});
afterAll(async () => {
  await t.close();
  rmSync(dir, { recursive: true, force: true });
});

it("runs the README's `import` line as written; run again, it appends nothing", async () => {
  const readme = readFileSync(join(root, 'README.md'), 'utf8');
  const line = readme.split('\n').find((l) => l.startsWith('npm run chronicle -- import'))!;
  const args = line.replace(/#.*$/, '').trim().split(/\s+/).slice(4); // after `npm run chronicle --`
  const run = await chronicle(...args);
  expect([run.code, run.stderr]).toEqual([0, '']);
  expect(run.stdout).toMatch(/: 4 rows appended \(4 events\), 0 already imported, 0 rejected in /);
  const [registered] = await t.events(streamIdOf('customer', ADA));
  expect(registered).toMatchObject({ type: 'CustomerRegistered', actor: 'cli', occurredAt: '2021-02-03T09:15:00.000Z' });
  expect(registered.metadata).toEqual({ import: { type: 'customers', automation: false } });
  expect((await client(t, 'manager').latest(`/customers/${ADA}`)).body).toMatchObject({ name: 'Ada Lovelace', email: 'ada@example.com' });
  const head = await t.store.headPosition();
  const again = await chronicle(...args);
  expect(again.code).toBe(0);
  expect(again.stdout).toMatch(/: 0 rows appended \(0 events\), 4 already imported, 0 rejected in /);
  expect(await t.store.headPosition()).toBe(head);
});

it('imports the other example files in order, NDJSON by its extension', async () => {
  for (const type of ['leads', 'deals', 'interactions']) {
    const run = await chronicle('import', join(root, 'examples', 'imports', `${type}.csv`), '--type', type);
    expect([type, run.code]).toEqual([type, 0]);
  }
  const file = join(dir, 'more.ndjson');
  writeFileSync(file, `${JSON.stringify({ customerId: ADA, type: 'note', direction: 'inbound', subject: 'Imported note' })}\n`);
  const run = await chronicle('import', file, '--type', 'interactions');
  expect([run.code, run.stdout]).toEqual([0, expect.stringContaining('1 rows appended')]);
});

it('exits with code 2 and the errors by row and column, appending nothing; --skip-invalid --rejects appends the valid rows', async () => {
  const file = join(dir, 'interactions.csv');
  const header = 'customerId,type,direction,subject';
  const bad = [`${ADA},meeting,sideways,Review`, `00000000-0000-4000-8000-000000000000,call,inbound,Hello`];
  writeFileSync(file, [header, bad[0], `${ADA},call,inbound,Fine`, bad[1]].join('\n') + '\n');
  const head = await t.store.headPosition();
  const refused = await chronicle('import', file, '--type', 'interactions');
  expect(refused.code).toBe(2);
  expect(refused.stderr).toContain('row 1, direction: direction must be one of the following values: inbound, outbound');
  expect(refused.stderr).toContain('row 3, customerId: customer-00000000-0000-4000-8000-000000000000 does not exist');
  expect(refused.stderr).toContain('2 of 3 rows are invalid: nothing was appended');
  expect(await t.store.headPosition()).toBe(head);

  const rejects = join(dir, 'rejects.csv');
  const partial = await chronicle('import', file, '--type', 'interactions', '--skip-invalid', '--rejects', rejects);
  expect(partial.code).toBe(0);
  expect(partial.stdout).toMatch(/: 1 rows appended \(1 events\), 0 already imported, 2 rejected \(written to /);
  expect(readFileSync(rejects, 'utf8')).toBe([header, ...bad].join('\n') + '\n');
  expect(await t.store.headPosition()).toBe(head + 1);

  const usage = await chronicle('import', file, '--type', 'tasks');
  expect([usage.code, usage.stderr]).toEqual([2, 'chronicle import: --type: must be one of customers, leads, deals, interactions\n']);
});
