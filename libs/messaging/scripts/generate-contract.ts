/**
 * `npm run contract`: writes the contract generated from the code (contract.ts) to docs/.
 * `npm run contract -- --check`: writes nothing, exits 1 naming the committed files that differ
 * (contract.unit.spec.ts runs it). Schema files of older schema versions are left as they are:
 * consumers may still hold such events.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { buildContract } from './contract';

async function main(): Promise<void> {
  const root = join(__dirname, '..', '..', '..');
  const { files } = await buildContract();
  if (process.argv.includes('--check')) {
    const stale = [...files].filter(
      ([path, content]) => !existsSync(join(root, path)) || readFileSync(join(root, path), 'utf8') !== content,
    );
    if (stale.length === 0) return;
    process.stdout.write(`contract out of date: ${stale.map(([path]) => path).join(', ')}\n`);
    process.exitCode = 1;
    return;
  }
  for (const [path, content] of files) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), content);
  }
  process.stdout.write(`contract: wrote ${files.size} files (docs/asyncapi.json and ${files.size - 1} event schemas)\n`);
}

main().catch((error) => {
  process.stderr.write(`${(error as Error).stack ?? error}\n`);
  process.exit(1);
});
