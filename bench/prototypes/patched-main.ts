/**
 * Bench-only: applies the prototypes named in BENCH_PATCHES (comma-separated, see patches.ts),
 * then starts BENCH_TARGET (default: the real app, dist/apps/api/src/main.js).
 */
import { join } from 'node:path';
import { applyPatches } from './patches';

applyPatches(
  (process.env.BENCH_PATCHES ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean),
);
// eslint-disable-next-line @typescript-eslint/no-require-imports
require(process.env.BENCH_TARGET ?? join(__dirname, '..', '..', 'apps', 'api', 'src', 'main.js'));
