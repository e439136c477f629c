import { lookup as dnsLookup, LookupAddress } from 'node:dns';
import { request as httpRequest, RequestOptions } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { isIP, LookupFunction } from 'node:net';
import type { WebhookUrlPolicy } from './url-policy';

export interface PostResult {
  /** 2xx. */
  ok: boolean;
  /** The receiver's status (absent: no response). */
  status?: number;
  /** Why it failed (absent when ok). */
  error?: string;
}

/** The part of a receiver's answer read (and thrown away): enough to finish the response cleanly, not a memory sink. */
const MAX_RESPONSE_BYTES = 64 * 1024;

/** Resolves a name like the default lookup, then keeps only the addresses the policy allows. */
function guardedLookup(policy: WebhookUrlPolicy): LookupFunction {
  return (hostname, options, callback) => {
    dnsLookup(hostname, { ...options, all: true }, (error, addresses: LookupAddress[]) => {
      if (error) return callback(error, '', 0);
      const allowed = addresses.filter((a) => policy.addressProblem(hostname, a.address) === undefined);
      if (allowed.length === 0) {
        const problem = policy.addressProblem(hostname, addresses[0]?.address ?? '') ?? `${hostname} did not resolve`;
        return callback(Object.assign(new Error(problem), { code: 'EADDRNOTALLOWED' }), '', 0);
      }
      // Node asks for every address when it races IPv4 and IPv6 (autoSelectFamily), else for one.
      if (options.all) (callback as unknown as (e: null, a: LookupAddress[]) => void)(null, allowed);
      else callback(null, allowed[0].address, allowed[0].family);
    });
  };
}

/**
 * One POST of a delivery. Redirects are not followed (a 3xx is a failed attempt: the subscription
 * names where events go), the whole exchange is bounded by `timeoutMs`, and the connection only
 * goes to addresses the policy allows.
 */
export function post(
  url: string,
  body: string,
  headers: Record<string, string>,
  options: { timeoutMs: number; policy: WebhookUrlPolicy; signal?: AbortSignal },
): Promise<PostResult> {
  return new Promise((resolve) => {
    const target = new URL(url);
    const host = target.hostname.replace(/^\[(.*)\]$/, '$1');
    if (isIP(host) !== 0) {
      const problem = options.policy.addressProblem(host, host);
      if (problem) return resolve({ ok: false, error: problem });
    }
    let settled = false;
    const finish = (result: PostResult) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
      resolve(result);
    };
    const requestOptions: RequestOptions = {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), ...headers },
      lookup: guardedLookup(options.policy),
      // No connection reuse between deliveries: every attempt resolves (and is checked) afresh.
      agent: false,
    };
    const req = (target.protocol === 'https:' ? httpsRequest : httpRequest)(target, requestOptions, (res) => {
      let read = 0;
      res.on('data', (chunk: Buffer) => {
        read += chunk.length;
        if (read > MAX_RESPONSE_BYTES) res.destroy();
      });
      const status = res.statusCode ?? 0;
      const done = () =>
        finish(
          status >= 200 && status < 300
            ? { ok: true, status }
            : { ok: false, status, error: status >= 300 && status < 400 ? `redirects are not followed (${status})` : `HTTP ${status}` },
        );
      res.on('end', done);
      res.on('close', done);
      res.on('error', done);
    });
    const timer = setTimeout(() => {
      finish({ ok: false, error: `no answer within ${options.timeoutMs} ms` });
      req.destroy();
    }, options.timeoutMs);
    const onAbort = () => {
      finish({ ok: false, error: 'delivery stopped' });
      req.destroy();
    };
    options.signal?.addEventListener('abort', onAbort, { once: true });
    req.on('error', (error: NodeJS.ErrnoException) => finish({ ok: false, error: error.message || error.code || 'connection failed' }));
    req.end(body);
  });
}
