import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { schemaVersions } from '@chronicle/domain';

/**
 * The contract in docs/ is generated from the code, never edited by hand: regenerated here
 * (`npm run contract -- --check`, one TypeScript program, ~5 s), it must equal the committed files
 * byte for byte. A failure means an event type, the envelope or the sealing changed without
 * `npm run contract`. A child process because the generator formats with Prettier, which loads
 * itself with a dynamic import() that Jest's sandbox refuses.
 */
const ROOT = join(__dirname, '..', '..', '..');
const RUN = 'run `npm run contract` and commit docs/asyncapi.json and docs/schemas/';

interface Schema {
  properties: Record<string, unknown>;
  required: string[];
}
const document = JSON.parse(readFileSync(join(ROOT, 'docs', 'asyncapi.json'), 'utf8')) as {
  asyncapi: string;
  channels: Record<string, { address: string; messages: Record<string, unknown> }>;
  components: { schemas: Record<string, Schema> };
};

describe('the published contract (docs/asyncapi.json, docs/schemas/)', () => {
  it('is what the code generates, byte for byte', () => {
    const check = spawnSync(process.execPath, ['-r', '@swc-node/register', 'libs/messaging/scripts/generate-contract.ts', '--check'], {
      cwd: ROOT,
      encoding: 'utf8',
    });
    if (check.status !== 0) throw new Error(`${check.stdout}${check.stderr}${RUN}`);
  }, 60_000);

  it('has a schema for every event type at its current schema version, and older versions only besides', () => {
    expect(document.asyncapi).toBe('3.0.0');
    const files = readdirSync(join(ROOT, 'docs', 'schemas'));
    for (const [type, version] of Object.entries(schemaVersions)) {
      expect(files).toContain(`${type}.v${version}.json`);
      expect(document.components.schemas).toHaveProperty([`${type}.v${version}`]);
    }
    // A changed shape is a new schemaVersion and a new file; the old file stays for consumers of old events.
    for (const file of files) {
      const match = /^([A-Za-z]+)\.v(\d+)\.json$/.exec(file);
      const current = match ? (schemaVersions as Record<string, number>)[match[1]] : undefined;
      if (!match || current === undefined || Number(match[2]) > current)
        throw new Error(`docs/schemas/${file}: not an event type's schema; ${RUN}`);
    }
  });

  it('puts every event type on the topic of its streams', () => {
    const channels = document.channels;
    expect(Object.values(channels).map((c) => c.address)).toEqual(
      ['customer', 'lead', 'deal', 'campaign', 'spend', 'task', 'goal'].map((c) => `crm.${c}`),
    );
    const onTopics = new Set(Object.values(channels).flatMap((c) => Object.keys(c.messages)));
    expect([...onTopics].sort()).toEqual(Object.keys(schemaVersions).sort());
    expect(Object.keys(channels.spend.messages)).toEqual(['SpendRecorded']);
    expect(Object.keys(channels.campaign.messages)).toEqual(['CampaignLaunched', 'SpendRecorded']);
  });

  it('describes personal fields as they travel: sealed, never in clear (but in a task about nobody)', () => {
    const schemas = document.components.schemas;
    expect(Object.keys(schemas['CustomerRegistered.v1'].properties)).not.toContain('name');
    expect(schemas['CustomerRegistered.v1'].required).toEqual(['customerId', 'source', 'sealed']);
    expect(schemas['CustomerProfileUpdated.v1'].required).toEqual(['customerId']);
    expect(Object.keys(schemas['TaskCreated.v1'].properties)).toEqual(expect.arrayContaining(['subject', 'sealed']));
    expect(schemas['TaskCreated.v1'].required).not.toContain('subject');
    expect(Object.keys(schemas['DealWon.v1'].properties)).not.toContain('sealed');
  });
});
