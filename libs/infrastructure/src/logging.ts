import { DynamicModule, Module, RequestMethod } from '@nestjs/common';
import { LoggerModule } from 'nestjs-pino';
import pino, { DestinationStream, Logger } from 'pino';
import pretty from 'pino-pretty';
import type { ChronicleConfig } from './config';

/**
 * Paths never written, should a log call ever be handed a request or its headers: an API key
 * (the Authorization header) or a cookie. Request lines themselves carry no headers and no body.
 */
export const REDACTED_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-api-key"]',
  'headers.authorization',
  'headers.cookie',
  'authorization',
];

export interface LoggerOptions {
  /** The app (`api`, `projector`, `relay`): the `app` field of every line. */
  app: string;
  /** Where lines go (tests); stdout otherwise. */
  destination?: DestinationStream;
}

/**
 * The process's pino logger (docs/operations.md, "Logs"): LOG_LEVEL filters, LOG_FORMAT picks JSON
 * lines (the default when NODE_ENV=production) or pino-pretty's readable lines, coloured only when
 * the output is a terminal. Writes are synchronous: nothing is lost when the process exits.
 */
export function createLogger(config: Pick<ChronicleConfig, 'logLevel' | 'logFormat'>, options: LoggerOptions): Logger {
  const out = options.destination;
  const destination: DestinationStream =
    config.logFormat === 'pretty'
      ? pretty({
          colorize: out ? false : process.stdout.isTTY === true,
          translateTime: 'SYS:HH:MM:ss.l',
          ignore: 'pid,hostname,app',
          singleLine: true,
          messageKey: 'msg',
          sync: true,
          ...(out ? { destination: out } : {}),
        })
      : (out ?? pino.destination({ dest: 1, sync: true }));
  return pino(
    {
      level: config.logLevel,
      base: { app: options.app, pid: process.pid },
      timestamp: pino.stdTimeFunctions.isoTime,
      // JSON lines name their level (`"level":"info"`); pino-pretty prints its own label.
      ...(config.logFormat === 'json' ? { formatters: { level: (label: string) => ({ level: label }) } } : {}),
      redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
    },
    destination,
  );
}

/**
 * nestjs-pino over `logger`: Nest's `Logger` (and `app.useLogger(app.get(Logger))`) writes through
 * it. In the API, `useExisting` binds each request's Fastify logger (whose `correlationId` binding
 * is the request's correlation id) for the duration of the request (AsyncLocalStorage), so every
 * line written while serving a request carries the id; outside requests lines go to `logger`.
 */
export function loggingModule(logger: Logger): DynamicModule {
  return LoggerModule.forRoot({
    pinoHttp: { logger },
    useExisting: true,
    forRoutes: [{ path: '{*path}', method: RequestMethod.ALL }],
  });
}

/** The root module of a process: its app module, and nestjs-pino over the process's logger. */
@Module({})
export class LoggedAppModule {
  static forRoot(app: DynamicModule, logger: Logger): DynamicModule {
    return { module: LoggedAppModule, imports: [loggingModule(logger), app] };
  }
}
