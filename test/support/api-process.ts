import { ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';

/** The API as `npm start` runs it, without the build step: its main.ts through swc, in a child process. */

export const repositoryRoot = resolve(__dirname, '../..');

/** A port free on loopback right now. */
export async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((done) => probe.listen(0, '127.0.0.1', done));
  const { port } = probe.address() as { port: number };
  await new Promise((done) => probe.close(done));
  return port;
}

/** Starts apps/api/src/main.ts with `env` (PORT among it) in `cwd`, and waits until /health answers 200. */
export async function startApiProcess(options: {
  env: NodeJS.ProcessEnv;
  cwd?: string;
  timeoutMs?: number;
  onOutput?: (text: string) => void;
}): Promise<ChildProcess> {
  const env = { ...process.env, ...options.env };
  // The register hook resolved from here: `cwd` may be any folder (the README session runs in its own).
  const child = spawn(process.execPath, ['-r', require.resolve('@swc-node/register'), join(repositoryRoot, 'apps/api/src/main.ts')], {
    cwd: options.cwd ?? repositoryRoot,
    env: { ...env, SWC_NODE_PROJECT: join(repositoryRoot, 'tsconfig.json') },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const keep = (chunk: Buffer) => {
    output += chunk.toString();
    options.onOutput?.(chunk.toString());
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  const deadline = Date.now() + (options.timeoutMs ?? 90_000);
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`the API exited (${child.exitCode}): ${output}`);
    try {
      if ((await fetch(`http://127.0.0.1:${env.PORT}/health`)).status === 200) return child;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  child.kill('SIGKILL');
  throw new Error(`the API did not answer /health within ${options.timeoutMs ?? 90_000} ms: ${output}`);
}

/** SIGTERM (a clean shutdown), and the exit. */
export async function stopProcess(child: ChildProcess | undefined): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((done) => child.once('exit', done));
  child.kill('SIGTERM');
  await exited;
}
