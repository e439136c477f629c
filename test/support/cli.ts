import { spawn } from 'node:child_process';
import { repositoryRoot } from './api-process';

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
  /** Wall time of the run. */
  ms: number;
}

/** `chronicle <args>` from the sources (as `npm run chronicle` runs the build), in its own process. */
export function runChronicle(args: string[], env: NodeJS.ProcessEnv): Promise<CliRun> {
  const started = Date.now();
  const child = spawn(process.execPath, ['-r', '@swc-node/register', 'apps/cli/src/main.ts', ...args], {
    cwd: repositoryRoot,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk) => (stdout += chunk));
  child.stderr.on('data', (chunk) => (stderr += chunk));
  return new Promise((done) => child.on('exit', (code) => done({ code, stdout, stderr, ms: Date.now() - started })));
}
