import helmet from '@fastify/helmet';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { LogController } from 'fastify';
import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { Logger } from 'nestjs-pino';
import type { DestinationStream, Logger as PinoLogger } from 'pino';
import { ChronicleConfig, createLogger, LoggedAppModule } from '@chronicle/infrastructure';
import type { ReportDefinition } from '@chronicle/projections';
import { AppModule, ApiOptions } from './app.module';
import { AddressLimiter } from './auth/address-limit';
import type { AuthenticatedRequest } from './auth/api-key.guard';
import { ApiKeyRegistry, resolveApiKeys } from './auth/api-keys';
import { authenticateBeforeBody } from './auth/early-authentication';
import { SampledAccessLog } from './http/access-log';
import { acceptJsonOnly } from './http/content-type';
import { answerCsv } from './http/csv';
import { ErrorFilter } from './http/error.filter';
import { validationPipe } from './http/validation';
import { REPORTS } from './reports/run-report.query';

const TRACE_ID = /^[\x21-\x7e]{1,128}$/;

/** The request's correlation id: its valid `X-Correlation-Id`, else a new one (an invalid header is a 400 below). */
function correlationIdOf(request: IncomingMessage): string {
  const header = request.headers['x-correlation-id'];
  return typeof header === 'string' && TRACE_ID.test(header) ? header : randomUUID();
}

export const BODY_LIMIT_BYTES = 1024 * 1024;
export const MAX_BODY_DEPTH = 32;

/** Nesting depth of a parsed JSON value (a scalar is 0), counted without recursion and up to `limit` + 1. */
export function nestingDepth(value: unknown, limit: number): number {
  let max = 0;
  const stack: Array<[unknown, number]> = [[value, 0]];
  while (stack.length > 0) {
    const [current, depth] = stack.pop()!;
    if (current === null || typeof current !== 'object') continue;
    const level = depth + 1;
    if (level > max) max = level;
    if (max > limit) return max;
    for (const child of Object.values(current)) stack.push([child, level]);
  }
  return max;
}

/** Builds the HTTP app (used by main.ts, the e2e tests and the benchmark). */
export async function createApp(
  config: ChronicleConfig,
  options: Partial<ApiOptions> & { announce?: (message: string) => void; logDestination?: DestinationStream } = {},
): Promise<NestFastifyApplication> {
  const announce = options.announce ?? ((message: string) => process.stdout.write(`${message}\n`));
  const keys = new ApiKeyRegistry(resolveApiKeys(config, announce));
  const limits = config.http;
  const logger = createLogger(config, { app: 'api', destination: options.logDestination });
  const adapter = new FastifyAdapter({
    // Fastify's request logger is a child of the process's logger bound to the correlation id:
    // nestjs-pino (useExisting) makes it the logger of every line written during the request.
    loggerInstance: logger,
    genReqId: correlationIdOf,
    // One line per request, written below once the response is sent (not Fastify's two).
    logController: new LogController({ requestIdLogLabel: 'correlationId', disableRequestLogging: true }),
    bodyLimit: BODY_LIMIT_BYTES,
    // Slow clients (headers or body trickling in, idle sockets) are cut off rather than holding a
    // connection: Node answers 408 and closes once the headers or the whole request are late.
    requestTimeout: limits.requestTimeoutMs,
    keepAliveTimeout: limits.keepAliveTimeoutMs,
    connectionTimeout: limits.idleTimeoutMs,
    http: {
      headersTimeout: limits.headersTimeoutMs,
      requestTimeout: limits.requestTimeoutMs,
      // Node looks for late requests every 30 s by default, which would let a slow header live 40 s.
      connectionsCheckingInterval: Math.max(50, Math.min(1_000, Math.floor(limits.headersTimeoutMs / 4))),
    },
  });
  const app = await NestFactory.create<NestFastifyApplication>(
    LoggedAppModule.forRoot(
      AppModule.forRoot(config, keys, {
        processManagers: options.processManagers ?? config.runProjector,
        projector: options.projector ?? config.runProjector,
      }),
      logger,
    ),
    adapter,
    // No Nest body parsers: the one parser is JSON (http/content-type.ts); any other body type is a 415.
    // Nest's own lines wait for nestjs-pino (LOG_LEVEL filters them there).
    { bufferLogs: true, bodyParser: false },
  );
  app.useLogger(app.get(Logger));
  const fastify = app.getHttpAdapter().getInstance();
  // Connections past the cap are closed as they arrive (a slow-socket flood cannot exhaust file descriptors).
  app.getHttpServer().maxConnections = limits.maxConnections;

  // Correlation and causation ids travel into every event's metadata and every error body.
  app
    .getHttpAdapter()
    .getInstance()
    .addHook('onRequest', async (request, reply) => {
      const r = request as typeof request & { correlationId?: string; causationId?: string };
      for (const header of ['x-correlation-id', 'x-causation-id'] as const) {
        const value = request.headers[header];
        if (value !== undefined && (typeof value !== 'string' || !TRACE_ID.test(value))) {
          return reply
            .code(400)
            .send({ statusCode: 400, error: 'Bad Request', message: `${header}: must be 1–128 visible ASCII characters` });
        }
      }
      r.correlationId = request.id;
      r.causationId = (request.headers['x-causation-id'] as string | undefined) ?? r.correlationId;
      reply.header('x-correlation-id', r.correlationId);
    });

  // The request line (docs/operations.md, "Logs"): method, route pattern (never the URL: its query
  // may hold anything), status, duration, actor (never the key); the correlation id is the logger's
  // binding. No headers, no body. Skipped outright when LOG_LEVEL is above info.
  fastify.addHook('onResponse', (request, reply, done) => {
    const status = reply.statusCode;
    const level = status >= 500 ? 'error' : 'info';
    const log = request.log as PinoLogger;
    if (log.isLevelEnabled(level)) {
      const principal = (request as AuthenticatedRequest).principal;
      log[level](
        {
          method: request.method,
          route: request.routeOptions.url ?? '(unmatched)',
          status,
          durationMs: Math.round(reply.elapsedTime * 100) / 100,
          actor: principal?.actor ?? '-',
        },
        'request',
      );
    }
    done();
  });

  // A JSON body nested deeper than any command needs is refused before anything walks it
  // recursively (the idempotency hash, class-transformer): such a body would overflow the stack.
  app
    .getHttpAdapter()
    .getInstance()
    .addHook('preValidation', async (request, reply) => {
      if (nestingDepth(request.body, MAX_BODY_DEPTH) > MAX_BODY_DEPTH) {
        const r = request as typeof request & { correlationId?: string };
        return reply.code(400).send({
          statusCode: 400,
          error: 'Bad Request',
          message: `body: must not be nested more than ${MAX_BODY_DEPTH} levels deep`,
          correlationId: r.correlationId,
        });
      }
    });

  // Read routes that also answer text/csv (http/csv.ts).
  answerCsv(fastify, app.get<ReportDefinition[]>(REPORTS));

  // Security headers (nosniff, HSTS, frame and referrer policies, no X-Powered-By). No global CSP:
  // the API answers JSON, and the Swagger UI at /docs needs its inline scripts; the dashboard sends
  // a strict one of its own (dashboard/dashboard-files.ts).
  await app.register(helmet, { contentSecurityPolicy: false });

  // After the correlation id and helmet's headers, before the body is read: the key (401, or 429
  // per address), then the content type (415).
  const accessLog = new SampledAccessLog();
  const limiter = new AddressLimiter(limits.unauthenticatedPerMinute);
  authenticateBeforeBody(fastify, { keys, limiter, accessLog });
  acceptJsonOnly(fastify);
  fastify.addHook('onClose', async () => {
    accessLog.close();
    limiter.close();
  });

  app.useGlobalPipes(validationPipe);
  app.useGlobalFilters(new ErrorFilter(accessLog));
  app.enableShutdownHooks();

  const document = SwaggerModule.createDocument(
    app,
    new DocumentBuilder()
      .setTitle('Chronicle')
      .setDescription('Event-sourced CRM backend: commands append events; every change is kept with who, when and why.')
      .setVersion('0.1.0')
      .addBearerAuth({ type: 'http', scheme: 'bearer', description: 'API key' })
      .build(),
  );
  SwaggerModule.setup('docs', app, document);
  await app.init();
  return app;
}
