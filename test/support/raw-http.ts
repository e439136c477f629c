import { connect, Socket } from 'node:net';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** Makes the test app's server listen on 127.0.0.1 (supertest then uses that address too); returns the port. */
export async function listen(server: Server): Promise<number> {
  if (!server.listening) await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

/** A raw TCP client: what was received, and when the server closed the connection. */
export interface RawClient {
  socket: Socket;
  /** Everything received so far. */
  received(): string;
  /** Resolves once the received text matches (or rejects after `timeoutMs`). */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<string>;
  /** Resolves with the ms from connect to the close (or rejects after `timeoutMs`). */
  closed(timeoutMs?: number): Promise<number>;
  isClosed(): boolean;
  write(text: string | Buffer): Promise<void>;
}

export async function rawClient(port: number): Promise<RawClient> {
  const socket = connect(port, '127.0.0.1');
  const started = Date.now();
  let text = '';
  let closedAt: number | undefined;
  const waiters = new Set<() => void>();
  const poke = () => waiters.forEach((w) => w());
  socket.on('data', (chunk) => {
    text += chunk.toString('latin1');
    poke();
  });
  socket.on('error', () => undefined); // a reset is a close, for these tests
  socket.on('close', () => {
    closedAt = Date.now();
    poke();
  });
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  const until = <T>(check: () => T | undefined, timeoutMs: number, what: string) =>
    new Promise<T>((resolve, reject) => {
      const done = () => {
        const value = check();
        if (value === undefined) return;
        clearTimeout(timer);
        waiters.delete(done);
        resolve(value);
      };
      const timer = setTimeout(() => {
        waiters.delete(done);
        reject(new Error(`${what} not seen within ${timeoutMs} ms; received: ${JSON.stringify(text.slice(0, 300))}`));
      }, timeoutMs);
      waiters.add(done);
      done();
    });
  return {
    socket,
    received: () => text,
    waitFor: (pattern, timeoutMs = 5_000) => until(() => (pattern.test(text) ? text : undefined), timeoutMs, String(pattern)),
    closed: (timeoutMs = 5_000) => until(() => (closedAt === undefined ? undefined : closedAt - started), timeoutMs, 'close'),
    isClosed: () => closedAt !== undefined,
    write: (data) =>
      new Promise<void>((resolve) => {
        if (socket.destroyed) return resolve();
        socket.write(data, () => resolve());
      }),
  };
}

/** The status code of the first response in `text`. */
export const statusOf = (text: string): number | undefined => {
  const match = /^HTTP\/1\.1 (\d{3})/.exec(text);
  return match ? Number(match[1]) : undefined;
};
