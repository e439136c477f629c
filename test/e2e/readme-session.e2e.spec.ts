import { parse } from 'csv-parse/sync';
import { ChildProcess, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, repositoryRoot, startApiProcess, stopProcess } from '../support/api-process';
import { defaultPipeline } from '@chronicle/domain';

/**
 * The README's example session, run as written: its bash block, extracted from README.md, against
 * the API started as `npm start` starts it (the same main.ts and defaults, from the sources), on a
 * fresh data folder whose key the session reads from data/api-keys.json, as a newcomer's would.
 */

jest.setTimeout(120_000);

let server: ChildProcess | undefined;
let dir: string;
let url: string;

function readmeSession(): string {
  const readme = readFileSync(join(repositoryRoot, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('## An example session'));
  const match = /```bash\n([\s\S]*?)```/.exec(section);
  if (!match) throw new Error('README.md: no bash block under "## An example session"');
  return match[1];
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'chronicle-readme-'));
  const port = await freePort();
  url = `http://127.0.0.1:${port}`;
  // `npm start` without its build step: no API_KEYS, the default DATA_DIR (./data of the session's folder).
  server = await startApiProcess({ cwd: dir, env: { PORT: String(port), DATA_DIR: join(dir, 'data'), LOG_LEVEL: 'warn' } });
});

afterAll(async () => {
  await stopProcess(server);
  rmSync(dir, { recursive: true, force: true });
});

it("runs the README's example session as written, and every step answers as its comment says", () => {
  const run = spawnSync('bash', ['-e', '-o', 'pipefail', '-c', readmeSession()], {
    cwd: dir,
    env: { ...process.env, CHRONICLE_URL: url },
    encoding: 'utf8',
    timeout: 60_000,
  });
  expect([run.status, run.error, run.status === 0 ? '' : `${run.stdout}\n${run.stderr}`]).toEqual([0, undefined, '']);
  // What `created` shows: the customer's and the deal's creation.
  const [customer, deal] = run.stderr
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line));
  expect(customer).toEqual({ id: expect.any(String), streamId: `customer-${customer.id}`, revision: 0, position: 1 });
  expect(deal).toMatchObject({ streamId: `deal-${deal.id}`, revision: 0 });
  const lines = run.stdout.trim().split('\n');
  const [proposal, stale, amount, win, retry, interaction, trail, before] = lines.slice(0, 8).map((line) => JSON.parse(line));
  expect(proposal).toMatchObject({ streamId: `deal-${deal.id}`, revision: 1 });
  expect(stale).toMatchObject({ statusCode: 409 });
  expect(amount).toMatchObject({ revision: 2 });
  expect(win).toMatchObject({ streamId: `deal-${deal.id}`, revision: 3 });
  expect(retry).toEqual(win);
  expect(interaction).toMatchObject({ streamId: `customer-${customer.id}` });
  expect(trail.events.map((e: { type: string }) => e.type)).toEqual(['DealOpened', 'DealStageChanged', 'DealAmountChanged', 'DealWon']);
  expect(before.state).toMatchObject({ stage: 'proposal', amount: 26000, status: 'open' });
  // The pipeline as CSV: its header, then a row per configured stage, none open (the deal was won).
  const csv = parse<Record<string, string>>(lines.slice(8).join('\n'), { columns: true, skip_empty_lines: true });
  expect(lines[8]).toBe('stage,deals,value,weightedValue,avgAgeDays\r');
  expect(csv.map((row) => [row.stage, row.deals])).toEqual(defaultPipeline.stages.map((stage) => [stage.name, '0']));
});
