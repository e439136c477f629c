import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { ContractValidator } from '../../examples/consumer/contract';
import { verifySignature } from '../../examples/webhooks/verify-signature';

const contract = ContractValidator.fromFile();

export interface ReceivedEnvelope {
  eventId: string;
  type: string;
  streamId: string;
  streamRevision: number;
  globalPosition: number;
  data: Record<string, unknown>;
}

export interface Received {
  path: string;
  subscriptionId: string;
  deliveryId: string;
  attempt: number;
  events: ReceivedEnvelope[];
  signatureValid: boolean;
  /** What the published contract (docs/asyncapi.json, schema WebhookDelivery) finds wrong with the body; empty when it matches. */
  contractProblems: string[];
  /** What the receiver answered. */
  answer: Answer;
}

/** How the receiver answers a delivery: 2xx, a 5xx, a redirect, or never (until the server stops). */
export type Answer = 'ok' | 'fail' | 'redirect' | 'hang';

/**
 * A local webhook receiver for the tests: records every delivery (checking its signature with the
 * example receivers copy, examples/webhooks/verify-signature.ts) and answers as `answer` says per
 * path. It can be stopped (connections refused) and started again on the same port.
 */
export class WebhookReceiver {
  readonly received: Received[] = [];
  /** Subscription id → secret, for the signature check. */
  readonly secrets = new Map<string, string>();
  answer: (path: string) => Answer = () => 'ok';
  port = 0;
  private server?: Server;
  private readonly sockets = new Set<Socket>();
  private readonly waiters = new Set<() => void>();

  async start(): Promise<void> {
    const server = createServer((req, res) => void this.handle(req, res));
    server.on('connection', (socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
    await new Promise<void>((resolve) => server.listen(this.port, '127.0.0.1', resolve));
    this.port = (server.address() as { port: number }).port;
    this.server = server;
  }

  /** Down: open connections cut, new ones refused. */
  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    for (const socket of this.sockets) socket.destroy();
    await new Promise((resolve) => server.close(resolve));
  }

  url(path: string): string {
    return `http://127.0.0.1:${this.port}${path}`;
  }

  /** First receptions of each event id, in the order they arrived. */
  firstReceptions(path?: string): ReceivedEnvelope[] {
    const seen = new Set<string>();
    const out: ReceivedEnvelope[] = [];
    for (const r of this.received)
      if ((path === undefined || r.path === path) && r.answer === 'ok')
        for (const e of r.events)
          if (!seen.has(e.eventId)) {
            seen.add(e.eventId);
            out.push(e);
          }
    return out;
  }

  /** Resolves once `check()` holds (checked on every delivery), or rejects after `timeoutMs`. */
  waitUntil(check: () => boolean, timeoutMs = 15_000, what = 'the deliveries'): Promise<void> {
    return new Promise((resolve, reject) => {
      const poke = () => {
        if (!check()) return;
        this.waiters.delete(poke);
        clearTimeout(timer);
        clearInterval(interval);
        resolve();
      };
      const timer = setTimeout(() => {
        this.waiters.delete(poke);
        clearInterval(interval);
        reject(new Error(`${what} did not arrive within ${timeoutMs} ms (${this.received.length} deliveries received)`));
      }, timeoutMs);
      const interval = setInterval(poke, 100);
      this.waiters.add(poke);
      poke();
    });
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const raw = Buffer.concat(chunks);
    const path = req.url ?? '/';
    const answer = this.answer(path);
    try {
      const body = JSON.parse(raw.toString('utf8')) as { subscriptionId: string; deliveryId: string; events: ReceivedEnvelope[] };
      const secret = this.secrets.get(body.subscriptionId);
      this.received.push({
        path,
        subscriptionId: body.subscriptionId,
        deliveryId: body.deliveryId,
        attempt: Number(req.headers['chronicle-delivery-attempt']),
        events: body.events,
        signatureValid: secret !== undefined && verifySignature(secret, req.headers['chronicle-signature'] as string, raw),
        contractProblems: contract.webhookDeliveryProblems(body),
        answer,
      });
    } catch {
      // not a delivery: left out
    }
    this.waiters.forEach((w) => w());
    if (answer === 'hang') return; // never answered: the sender's timeout, or the server stopping, ends it
    if (answer === 'redirect') res.writeHead(302, { location: this.url('/redirected') }).end();
    else res.writeHead(answer === 'ok' ? 204 : 503).end();
  }
}
