import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { jsonTextProblem } from './body-shape';

/**
 * Bodies are JSON: `Content-Type: application/json`, with no parameter but `charset=utf-8` (JSON is
 * UTF-8, RFC 8259). Everything else is a 415, `application/*+json` included: such a type names
 * semantics of its own (a `merge-patch+json` PATCH deletes with null, which this API refuses), and
 * a client sending one would expect them.
 */
export function contentTypeProblem(headers: FastifyRequest['headers']): string | undefined {
  const header = headers['content-type'];
  const hasBody =
    headers['transfer-encoding'] !== undefined || (headers['content-length'] !== undefined && headers['content-length'] !== '0');
  if (header === undefined) return hasBody ? 'a body needs Content-Type: application/json' : undefined;
  const [essence, ...parameters] = header.split(';').map((part) => part.trim().toLowerCase());
  if (essence !== 'application/json') return `Content-Type "${essence.slice(0, 100)}" is not supported: bodies are application/json`;
  for (const parameter of parameters) {
    if (parameter === '') continue;
    const [name, value] = parameter.split('=', 2).map((part) => part.trim().replace(/^"(.*)"$/, '$1'));
    if (name !== 'charset' || value !== 'utf-8')
      return `Content-Type application/json; ${parameter.slice(0, 100)} is not supported: bodies are UTF-8 JSON (charset=utf-8 or none)`;
  }
  return undefined;
}

/**
 * The content-type policy, applied to every request (a DELETE or a GET included) before its body
 * is read: a body or a Content-Type other than JSON is a 415. And the one body parser: JSON, where
 * an empty body counts as no body (`curl -H 'Content-Type: application/json' -X POST …/win` is a
 * request without a body, not malformed JSON); a route that needs a body then answers its usual
 * 400 naming the missing fields.
 */
export function acceptJsonOnly(instance: FastifyInstance): void {
  instance.addHook('onRequest', async (request: FastifyRequest, reply: FastifyReply) => {
    const problem = contentTypeProblem(request.headers);
    if (problem === undefined) return;
    const correlationId = (request as FastifyRequest & { correlationId?: string }).correlationId;
    // The body is not read: closing the connection discards it.
    reply.header('Connection', 'close');
    return reply.code(415).send({ statusCode: 415, error: 'Unsupported Media Type', message: problem, correlationId });
  });
  // Fastify's JSON parser (with its prototype-poisoning checks), but an empty body is no body, and
  // the text's shape is bounded before it is parsed (body-shape.ts).
  const json = instance.getDefaultJsonParser('error', 'error');
  instance.removeAllContentTypeParsers();
  instance.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    if (body === '') return done(null, undefined);
    const problem = jsonTextProblem(body as string);
    if (problem !== undefined) return done(Object.assign(new Error(problem), { statusCode: 400 }), undefined);
    // Its type allows a promise, but the default parser is synchronous and answers through `done`.
    void json(request, body as string, done);
  });
}
