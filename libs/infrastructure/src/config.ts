import { existsSync, readFileSync, statSync } from 'node:fs';
import { isIP } from 'node:net';
import { resolve } from 'node:path';
import {
  AssignmentConfig,
  defaultAssignmentConfig,
  defaultPipeline,
  defaultRulesText,
  defaultScoringModel,
  FollowUpRule,
  parseJsonConfig,
  parseRules,
  Pipeline,
  schemaVersions,
  ScoringModel,
  validateAssignmentConfig,
  validatePipeline,
  validateScoringModel,
} from '@chronicle/domain';

export const Roles = ['admin', 'manager', 'rep', 'analyst', 'service'] as const;
export type Role = (typeof Roles)[number];

export interface ApiKeyConfig {
  key: string;
  actor: string;
  role: Role;
}

export interface ChronicleConfig {
  eventStore: 'sqlite' | 'eventstoredb';
  eventStoreUrl?: string;
  readStore: 'embedded' | 'mongodb';
  /** Where personal-data keys live (default: MongoDB when the read store is, else SQLite in DATA_DIR). */
  keyStore: 'sqlite' | 'mongodb';
  mongoUrl?: string;
  /** Empty: the Kafka relay is off. */
  kafkaBrokers: string[];
  /** Topics are `<prefix>.<category>` (default `crm`). */
  kafkaTopicPrefix: string;
  /** Partitions and replication factor of the topics the relay creates. */
  kafkaTopicPartitions: number;
  kafkaReplicationFactor: number;
  dataDir: string;
  /** REPORTS_DIR: report files (projection + query, .js/.ts/.json) the processes load at start-up. */
  reportsDir?: string;
  host: string;
  port: number;
  sqliteSynchronous: 'FULL' | 'NORMAL';
  /** Keys from API_KEYS / API_KEYS_FILE; empty means "generate one into DATA_DIR" (embedded default). */
  apiKeys: ApiKeyConfig[];
  pipeline: Pipeline;
  /** AUTOMATION=off turns every sales-automation process manager off (scoring, assignment, rules, stalled deals). */
  automation: boolean;
  /** Sales automation (docs/automation.md): SCORING_FILE, ASSIGNMENT_FILE, RULES_FILE. */
  scoring: ScoringModel;
  assignment: AssignmentConfig;
  rules: FollowUpRule[];
  /** How often stalled deals are looked for (STALL_CHECK_SECONDS). */
  stallCheckSeconds: number;
  currency: string;
  logLevel: 'debug' | 'info' | 'warn' | 'error' | 'silent';
  /** LOG_FORMAT: JSON lines (default when NODE_ENV=production) or readable lines (pino-pretty, coloured only on a TTY). */
  logFormat: 'json' | 'pretty';
  /** Run the projector and process managers inside the API process (the embedded default); false when apps/projector runs apart. */
  runProjector: boolean;
  /** Requests per minute per API key (0: no limit). */
  rateLimitPerMinute: number;
  /** The HTTP server's own limits, against slow or unauthenticated clients (docs/operations.md). */
  http: HttpLimits;
  /** Leases on background roles (docs/operations.md): LEASE_TIMEOUT_MS and LEASE_RENEW_MS. */
  lease: { timeoutMs: number; renewMs: number };
  /** PROJECTIONS: the roles this process may take (projection names or role names); undefined = any. */
  pinnedRoles?: string[];
  /** HEALTH_PORT: where apps/projector and apps/relay answer GET /health (they have no API); unset = no health endpoint. */
  healthPort?: number;
  /** Webhook delivery (docs/webhooks.md). */
  webhooks: WebhookSettings;
}

export interface WebhookSettings {
  /** WEBHOOK_ALLOWED_HOSTS: hosts and CIDRs webhook URLs may reach although private, loopback or link-local. */
  allowedHosts: string[];
  /** WEBHOOK_MAX_ATTEMPTS: attempts at a batch before it goes to the subscription's dead letters. */
  maxAttempts: number;
  /** WEBHOOK_RETRY_BASE_MS / WEBHOOK_RETRY_MAX_MS: the backoff doubles from the base up to the max, with jitter. */
  retryBaseMs: number;
  retryMaxMs: number;
  /** WEBHOOK_TIMEOUT_MS: a receiver that has not answered within this is a failed attempt. */
  timeoutMs: number;
  /** WEBHOOK_BATCH_SIZE: events per delivery, at most. */
  batchSize: number;
}

export interface HttpLimits {
  /** HTTP_HEADERS_TIMEOUT_MS: a request's headers must have arrived within this (408 and closed otherwise). */
  headersTimeoutMs: number;
  /** HTTP_REQUEST_TIMEOUT_MS: the whole request, body included, must have arrived within this. */
  requestTimeoutMs: number;
  /** HTTP_KEEP_ALIVE_TIMEOUT_MS: an idle kept-alive connection is closed after this. */
  keepAliveTimeoutMs: number;
  /** HTTP_IDLE_TIMEOUT_MS: a connection on which nothing moves at all (no bytes either way) is closed after this. */
  idleTimeoutMs: number;
  /** HTTP_MAX_CONNECTIONS: connections beyond this many open ones are closed at once. */
  maxConnections: number;
  /** UNAUTHENTICATED_LIMIT_PER_MINUTE: requests without a valid key per client address per minute (0: no limit). */
  unauthenticatedPerMinute: number;
}

export class ConfigError extends Error {
  constructor(message: string) {
    super(`Invalid configuration: ${message}`);
    this.name = 'ConfigError';
  }
}

function oneOf<T extends string>(env: NodeJS.ProcessEnv, name: string, allowed: readonly T[], fallback: T): T {
  const value = env[name]?.trim();
  if (value === undefined || value === '') return fallback;
  if (!(allowed as readonly string[]).includes(value)) {
    throw new ConfigError(`${name}="${value}" must be one of ${allowed.join(', ')}`);
  }
  return value as T;
}

function positiveInteger(env: NodeJS.ProcessEnv, name: string, fallback: number, max: number): number {
  const text = env[name]?.trim();
  if (text === undefined || text === '') return fallback;
  const value = Number(text);
  if (!/^\d+$/.test(text) || value < 1 || value > max) throw new ConfigError(`${name}="${text}" must be an integer between 1 and ${max}`);
  return value;
}

function parseApiKey(entry: unknown, where: string): ApiKeyConfig {
  const e = entry as Partial<ApiKeyConfig>;
  if (!e || typeof e.key !== 'string' || e.key.length < 16)
    throw new ConfigError(`${where}.key must be a string of at least 16 characters`);
  if (typeof e.actor !== 'string' || !e.actor.trim()) throw new ConfigError(`${where}.actor must be a non-empty string`);
  if (!Roles.includes(e.role as Role)) throw new ConfigError(`${where}.role must be one of ${Roles.join(', ')}`);
  return { key: e.key, actor: e.actor, role: e.role as Role };
}

/** API_KEYS="<key>:<actor>:<role>,…" and/or API_KEYS_FILE (a JSON array of {key, actor, role}). */
export function parseApiKeys(env: NodeJS.ProcessEnv): ApiKeyConfig[] {
  const keys: ApiKeyConfig[] = [];
  const inline = env.API_KEYS?.trim();
  if (inline) {
    inline.split(',').forEach((item, i) => {
      const [key, actor, role] = item.trim().split(':');
      keys.push(parseApiKey({ key, actor, role }, `API_KEYS[${i}]`));
    });
  }
  const file = env.API_KEYS_FILE?.trim();
  if (file) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(readFileSync(file, 'utf8'));
    } catch (error) {
      throw new ConfigError(`API_KEYS_FILE="${file}" cannot be read as JSON (${(error as Error).message})`);
    }
    if (!Array.isArray(parsed)) throw new ConfigError(`API_KEYS_FILE="${file}" must hold a JSON array of {key, actor, role}`);
    parsed.forEach((entry, i) => keys.push(parseApiKey(entry, `API_KEYS_FILE[${i}]`)));
  }
  return keys;
}

function loadPipeline(env: NodeJS.ProcessEnv): Pipeline {
  const file = env.PIPELINE_FILE?.trim();
  if (!file) return defaultPipeline;
  try {
    return validatePipeline(JSON.parse(readFileSync(file, 'utf8')));
  } catch (error) {
    throw new ConfigError(`PIPELINE_FILE="${file}": ${(error as Error).message}`);
  }
}

function readConfigFile(env: NodeJS.ProcessEnv, name: string): string | undefined {
  const file = env[name]?.trim();
  if (!file) return undefined;
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    throw new ConfigError(`${name}="${file}" cannot be read (${(error as Error).message})`);
  }
}

/** A JSON configuration file validated by `validate`; any problem is a ConfigError naming the variable (and the line when known). */
function loadJsonFile<T>(env: NodeJS.ProcessEnv, name: string, fallback: T, validate: (value: unknown, text: string) => T): T {
  const text = readConfigFile(env, name);
  if (text === undefined) return fallback;
  try {
    return validate(parseJsonConfig(text), text);
  } catch (error) {
    throw new ConfigError(`${name}="${env[name]!.trim()}": ${(error as Error).message}`);
  }
}

const eventTypes = Object.keys(schemaVersions);
const defaultRules = parseRules(defaultRulesText, eventTypes);

const HOST_NAME = /^(?=.{1,253}$)[a-z0-9_]([a-z0-9_-]{0,62})(\.[a-z0-9_]([a-z0-9_-]{0,62}))*\.?$/i;

function webhookSettings(env: NodeJS.ProcessEnv): WebhookSettings {
  const allowedHosts = (env.WEBHOOK_ALLOWED_HOSTS ?? '')
    .split(',')
    .map((entry) => entry.trim().toLowerCase())
    .filter(Boolean);
  for (const entry of allowedHosts) {
    const [address, prefix, ...rest] = entry.split('/');
    const family = isIP(address);
    const valid =
      rest.length === 0 &&
      (prefix === undefined
        ? family !== 0 || HOST_NAME.test(address)
        : family !== 0 && /^\d{1,3}$/.test(prefix) && Number(prefix) <= (family === 4 ? 32 : 128));
    if (!valid) throw new ConfigError(`WEBHOOK_ALLOWED_HOSTS entry "${entry}" must be a host name, an IP address or a CIDR (10.0.0.0/8)`);
  }
  const retryBaseMs = positiveInteger(env, 'WEBHOOK_RETRY_BASE_MS', 1_000, 3_600_000);
  const retryMaxMs = positiveInteger(env, 'WEBHOOK_RETRY_MAX_MS', 300_000, 86_400_000);
  if (retryMaxMs < retryBaseMs)
    throw new ConfigError(`WEBHOOK_RETRY_MAX_MS="${retryMaxMs}" must be at least WEBHOOK_RETRY_BASE_MS (${retryBaseMs})`);
  return {
    allowedHosts,
    maxAttempts: positiveInteger(env, 'WEBHOOK_MAX_ATTEMPTS', 8, 100),
    retryBaseMs,
    retryMaxMs,
    timeoutMs: positiveInteger(env, 'WEBHOOK_TIMEOUT_MS', 10_000, 300_000),
    batchSize: positiveInteger(env, 'WEBHOOK_BATCH_SIZE', 100, 1_000),
  };
}

function leaseSettings(env: NodeJS.ProcessEnv): ChronicleConfig['lease'] {
  const timeoutMs = positiveInteger(env, 'LEASE_TIMEOUT_MS', 10_000, 600_000);
  if (timeoutMs < 1000)
    throw new ConfigError(`LEASE_TIMEOUT_MS="${timeoutMs}" must be at least 1000 (a lease shorter than a second is lost to every pause)`);
  const renewMs = positiveInteger(env, 'LEASE_RENEW_MS', Math.floor(timeoutMs / 4), 200_000);
  if (renewMs * 3 > timeoutMs || renewMs < 100)
    throw new ConfigError(`LEASE_RENEW_MS="${renewMs}" must be between 100 and a third of LEASE_TIMEOUT_MS (${timeoutMs})`);
  return { timeoutMs, renewMs };
}

function httpLimits(env: NodeJS.ProcessEnv): HttpLimits {
  const headersTimeoutMs = positiveInteger(env, 'HTTP_HEADERS_TIMEOUT_MS', 10_000, 600_000);
  const requestTimeoutMs = positiveInteger(env, 'HTTP_REQUEST_TIMEOUT_MS', 30_000, 3_600_000);
  // Node refuses a headers timeout longer than the request timeout (the headers are part of the request).
  if (requestTimeoutMs < headersTimeoutMs)
    throw new ConfigError(`HTTP_REQUEST_TIMEOUT_MS="${requestTimeoutMs}" must be at least HTTP_HEADERS_TIMEOUT_MS (${headersTimeoutMs})`);
  return {
    headersTimeoutMs,
    requestTimeoutMs,
    keepAliveTimeoutMs: positiveInteger(env, 'HTTP_KEEP_ALIVE_TIMEOUT_MS', 72_000, 3_600_000),
    idleTimeoutMs: positiveInteger(env, 'HTTP_IDLE_TIMEOUT_MS', 120_000, 3_600_000),
    maxConnections: positiveInteger(env, 'HTTP_MAX_CONNECTIONS', 1_000, 1_000_000),
    unauthenticatedPerMinute:
      env.UNAUTHENTICATED_LIMIT_PER_MINUTE?.trim() === '0' ? 0 : positiveInteger(env, 'UNAUTHENTICATED_LIMIT_PER_MINUTE', 60, 10_000_000),
  };
}

/** PROJECTIONS="customers,pipeline,process-manager:rules": bare names are projections' roles. */
function pinnedRoles(env: NodeJS.ProcessEnv): string[] | undefined {
  const text = env.PROJECTIONS?.trim();
  if (!text) return undefined;
  const roles = text
    .split(',')
    .map((n) => n.trim())
    .filter(Boolean);
  for (const role of roles)
    if (!/^[a-z0-9][a-z0-9:-]*$/.test(role)) throw new ConfigError(`PROJECTIONS entry "${role}" is not a projection or role name`);
  return roles.map((r) => (r.includes(':') ? r : `projection:${r}`));
}

/** Throws a ConfigError naming PROJECTIONS when it names a role this process does not know. */
export function assertPinnedRoles(config: ChronicleConfig, known: readonly string[]): void {
  const unknown = (config.pinnedRoles ?? []).filter((r) => !known.includes(r));
  if (unknown.length > 0) {
    const names = known.map((r) => r.replace(/^projection:/, ''));
    throw new ConfigError(
      `PROJECTIONS names unknown role(s) ${unknown.map((r) => r.replace(/^projection:/, '')).join(', ')}; known: ${names.join(', ')}`,
    );
  }
}

/** Reads and validates the environment; a bad value throws a ConfigError naming the variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): ChronicleConfig {
  const eventStore = oneOf(env, 'EVENT_STORE', ['sqlite', 'eventstoredb'] as const, 'sqlite');
  const readStore = oneOf(env, 'READ_STORE', ['embedded', 'mongodb'] as const, 'embedded');
  const eventStoreUrl = env.EVENTSTORE_URL?.trim() || undefined;
  const mongoUrl = env.MONGO_URL?.trim() || undefined;
  if (eventStore === 'eventstoredb' && !eventStoreUrl)
    throw new ConfigError('EVENT_STORE=eventstoredb needs EVENTSTORE_URL (e.g. esdb://localhost:2113?tls=false)');
  if (eventStoreUrl && !/^(esdb|esdb\+discover|kurrentdb|kdb):\/\//.test(eventStoreUrl))
    throw new ConfigError(`EVENTSTORE_URL="${eventStoreUrl}" must start with esdb:// or esdb+discover://`);
  const keyStore = oneOf(env, 'KEY_STORE', ['sqlite', 'mongodb'] as const, readStore === 'mongodb' ? 'mongodb' : 'sqlite');
  if (keyStore === 'mongodb' && !mongoUrl)
    throw new ConfigError('KEY_STORE=mongodb needs MONGO_URL (e.g. mongodb://localhost:27017/chronicle)');
  if (readStore === 'mongodb' && !mongoUrl)
    throw new ConfigError('READ_STORE=mongodb needs MONGO_URL (e.g. mongodb://localhost:27017/chronicle)');
  if (mongoUrl && !/^mongodb(\+srv)?:\/\//.test(mongoUrl)) throw new ConfigError(`MONGO_URL="${mongoUrl}" must start with mongodb://`);

  const kafkaBrokers = (env.KAFKA_BROKERS ?? '')
    .split(',')
    .map((b) => b.trim())
    .filter(Boolean);
  for (const broker of kafkaBrokers) {
    if (!/^[^\s:]+:\d{1,5}$/.test(broker)) throw new ConfigError(`KAFKA_BROKERS entry "${broker}" must be host:port`);
  }
  const kafkaTopicPrefix = env.KAFKA_TOPIC_PREFIX?.trim() || 'crm';
  // Kafka topic names: [a-zA-Z0-9._-], at most 249 characters (room left for `.<category>`).
  if (!/^[a-zA-Z0-9._-]{1,200}$/.test(kafkaTopicPrefix))
    throw new ConfigError(`KAFKA_TOPIC_PREFIX="${kafkaTopicPrefix}" may only contain letters, digits, '.', '_' and '-' (at most 200)`);

  const portText = env.PORT?.trim() || '3000';
  const port = Number(portText);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new ConfigError(`PORT="${portText}" must be an integer between 0 and 65535`);

  const currency = env.CURRENCY?.trim() || 'USD';
  if (!/^[A-Z]{3}$/.test(currency)) throw new ConfigError(`CURRENCY="${currency}" must be a 3-letter ISO 4217 code`);

  return {
    eventStore,
    eventStoreUrl,
    readStore,
    keyStore,
    mongoUrl,
    kafkaBrokers,
    kafkaTopicPrefix,
    kafkaTopicPartitions: positiveInteger(env, 'KAFKA_TOPIC_PARTITIONS', 3, 10_000),
    kafkaReplicationFactor: positiveInteger(env, 'KAFKA_REPLICATION_FACTOR', 1, 32),
    dataDir: resolve(env.DATA_DIR?.trim() || 'data'),
    reportsDir: reportsDirOf(env),
    host: env.HOST?.trim() || '127.0.0.1',
    port,
    sqliteSynchronous: oneOf(env, 'SQLITE_SYNCHRONOUS', ['FULL', 'NORMAL'] as const, 'FULL'),
    apiKeys: parseApiKeys(env),
    pipeline: loadPipeline(env),
    automation: oneOf(env, 'AUTOMATION', ['on', 'off'] as const, 'on') === 'on',
    scoring: loadJsonFile(env, 'SCORING_FILE', defaultScoringModel, (v) => validateScoringModel(v)),
    assignment: loadJsonFile(env, 'ASSIGNMENT_FILE', defaultAssignmentConfig, (v) => validateAssignmentConfig(v)),
    rules: loadJsonFile(env, 'RULES_FILE', defaultRules, (_v, text) => parseRules(text, eventTypes)),
    stallCheckSeconds: positiveInteger(env, 'STALL_CHECK_SECONDS', 60, 86_400),
    currency,
    logLevel: oneOf(env, 'LOG_LEVEL', ['debug', 'info', 'warn', 'error', 'silent'] as const, 'info'),
    logFormat: oneOf(env, 'LOG_FORMAT', ['json', 'pretty'] as const, env.NODE_ENV?.trim() === 'production' ? 'json' : 'pretty'),
    runProjector: oneOf(env, 'RUN_PROJECTOR', ['true', 'false'] as const, 'true') === 'true',
    rateLimitPerMinute: env.RATE_LIMIT_PER_MINUTE?.trim() === '0' ? 0 : positiveInteger(env, 'RATE_LIMIT_PER_MINUTE', 60_000, 10_000_000),
    http: httpLimits(env),
    lease: leaseSettings(env),
    pinnedRoles: pinnedRoles(env),
    healthPort: env.HEALTH_PORT?.trim() ? positiveInteger(env, 'HEALTH_PORT', 0, 65_535) : undefined,
    webhooks: webhookSettings(env),
  };
}

/** REPORTS_DIR, when set, must name a folder that exists: a typo would otherwise serve no report silently. */
function reportsDirOf(env: NodeJS.ProcessEnv): string | undefined {
  const dir = env.REPORTS_DIR?.trim();
  if (!dir) return undefined;
  const path = resolve(dir);
  if (!existsSync(path) || !statSync(path).isDirectory()) throw new ConfigError(`REPORTS_DIR: ${path} is not a folder`);
  return path;
}
