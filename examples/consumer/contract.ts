/**
 * Checks Chronicle's Kafka messages against its published contract (docs/asyncapi.json, served
 * at GET /asyncapi.json): the envelope, the headers, and `data` against the JSON Schema of the
 * event's type and schema version. Compiled once (Ajv); each check is then cheap.
 *
 * A consumer depends on the published document, not on Chronicle's code: point CHRONICLE_CONTRACT
 * at a copy, or fetch it from the API.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Ajv, { type ErrorObject, type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';

export const DEFAULT_CONTRACT_FILE = join(__dirname, '..', '..', 'docs', 'asyncapi.json');

/** A message the contract does not describe; `problems` say where it differs. */
export class ContractViolation extends Error {
  constructor(
    readonly type: string,
    readonly problems: string[],
  ) {
    super(`${type} does not match the contract: ${problems.join('; ')}`);
    this.name = 'ContractViolation';
  }
}

interface AsyncApiDocument {
  info: { version: string };
  components: { messages: Record<string, unknown> };
}

const describe = (errors: ErrorObject[] | null | undefined, where: string) =>
  (errors ?? []).map((e) => `${where}${e.instancePath || ''} ${e.message ?? e.keyword}${e.params ? ` ${JSON.stringify(e.params)}` : ''}`);

export class ContractValidator {
  private readonly payloads = new Map<string, ValidateFunction>();
  private readonly headers = new Map<string, ValidateFunction>();
  private readonly feedPage: ValidateFunction;
  private readonly webhookDelivery: ValidateFunction;

  constructor(document: AsyncApiDocument) {
    // allErrors: a refusal should name everything that is wrong, not the first thing.
    const ajv = new Ajv({ allErrors: true, strict: true });
    addFormats(ajv);
    // The AsyncAPI document's own top-level keys are not JSON Schema keywords: declare them, so
    // strict mode still checks the schemas inside.
    ajv.addVocabulary(['asyncapi', 'info', 'servers', 'defaultContentType', 'channels', 'operations', 'components']);
    ajv.addSchema(document, 'asyncapi.json');
    for (const type of Object.keys(document.components.messages)) {
      const at = `asyncapi.json#/components/messages/${encodeURIComponent(type)}`;
      this.payloads.set(type, ajv.getSchema(`${at}/payload`)!);
      this.headers.set(type, ajv.getSchema(`${at}/headers`)!);
    }
    this.feedPage = ajv.getSchema('asyncapi.json#/components/schemas/EventFeedPage')!;
    this.webhookDelivery = ajv.getSchema('asyncapi.json#/components/schemas/WebhookDelivery')!;
  }

  static fromFile(file = process.env.CHRONICLE_CONTRACT || DEFAULT_CONTRACT_FILE): ContractValidator {
    return new ContractValidator(JSON.parse(readFileSync(file, 'utf8')) as AsyncApiDocument);
  }

  /** The problems of a parsed record value (and its headers, if given); empty when it matches. */
  problems(envelope: unknown, headers?: Record<string, unknown>): string[] {
    const type = (envelope as { type?: unknown } | null)?.type;
    const payload = typeof type === 'string' ? this.payloads.get(type) : undefined;
    if (!payload) return [`unknown event type ${JSON.stringify(type)} (not in this contract: is it newer than this consumer's?)`];
    const found = payload(envelope) ? [] : describe(payload.errors, 'value');
    if (headers) {
      const check = this.headers.get(type as string)!;
      const text = Object.fromEntries(
        Object.entries(headers).map(([name, value]) => [name, Buffer.isBuffer(value) ? value.toString() : value]),
      );
      if (!check(text)) found.push(...describe(check.errors, 'headers'));
    }
    return found;
  }

  /** Throws ContractViolation unless the envelope (and headers) match the contract. */
  check(envelope: unknown, headers?: Record<string, unknown>): void {
    const problems = this.problems(envelope, headers);
    if (problems.length > 0) throw new ContractViolation(String((envelope as { type?: unknown } | null)?.type), problems);
  }

  /** The problems of a page of the HTTP feed (`GET /events`, schema EventFeedPage); empty when it matches. */
  feedPageProblems(page: unknown): string[] {
    return this.feedPage(page) ? [] : describe(this.feedPage.errors, 'page');
  }

  /** The problems of a webhook delivery's body (schema WebhookDelivery); empty when it matches. */
  webhookDeliveryProblems(body: unknown): string[] {
    return this.webhookDelivery(body) ? [] : describe(this.webhookDelivery.errors, 'body');
  }
}
