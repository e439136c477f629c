/**
 * The published contract of Chronicle's events (docs/kafka.md, "The contract"), generated from
 * the TypeScript types so that it is never kept by hand in a second place: an AsyncAPI 3.0.0
 * document (docs/asyncapi.json) and one JSON Schema per event type and schema version
 * (docs/schemas/<Type>.v<version>.json). `npm run contract` writes them (generate-contract.ts);
 * contract.unit.spec.ts fails when the committed files differ from what the code generates.
 */
import { join } from 'node:path';
import { format, resolveConfig } from 'prettier';
import { createGenerator, type Schema } from 'ts-json-schema-generator';
import { type Category, personalDataSubject, personalFieldsOf, schemaVersions } from '@chronicle/domain';
import { DEFAULT_TOPIC_PREFIX, ENVELOPE_VERSION } from '../src/envelope';

const ROOT = join(__dirname, '..', '..', '..');
const CONTRACT_FILE = 'docs/asyncapi.json';
const SCHEMA_DIR = 'docs/schemas';

/**
 * The TypeScript unions of each stream category's events: a category is a topic (`crm.<category>`).
 * Spend without a campaign has streams of its own (`spend-<channel>`, campaign/decider.ts).
 * Typed by Category, so a new category does not compile until its topic is described here.
 */
const EVENTS_BY_CATEGORY: Record<Category, string[]> = {
  customer: ['CustomerEvent'],
  lead: ['LeadEvent'],
  deal: ['DealEvent'],
  campaign: ['CampaignEvent'],
  spend: ['SpendRecorded'],
  task: ['TaskEvent'],
  goal: ['GoalEvent'],
};

/** Where the types are: ts-json-schema-generator reads these files (and what they import). */
const SOURCES = 'libs/{domain/src/events,messaging/src/envelope,personal-data/src/personal-data-event-store}.ts';

/** Kafka bindings of AsyncAPI (bindings/kafka, 0.5.0). */
const KAFKA_BINDING_VERSION = '0.5.0';

type JsonSchema = Schema & Record<string, unknown>;

const schemaName = (type: string, version: number) => `${type}.v${version}`;
const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });

/** A generated schema without the generator's root-only keys (`$schema`, empty `definitions`). */
function plain(schema: Schema): JsonSchema {
  const { $schema: _, definitions, ...rest } = schema as JsonSchema;
  if (definitions && Object.keys(definitions).length > 0) throw new Error('contract: a recursive type needs definitions, not supported');
  return rest;
}

/**
 * An event's `data` as it travels on Kafka and the HTTP feed (libs/personal-data
 * personal-data-event-store.ts): its personal fields leave `data` and go, encrypted, into
 * `data.sealed`. An event of a type without a person to seal them for (a task about nobody) keeps
 * them in clear. Erasure destroys the key, not the message: an erased event reads the same.
 */
function sealedForm(type: string, data: JsonSchema, sealedFields: JsonSchema): JsonSchema {
  const personal = personalFieldsOf(type);
  if (personal.length === 0) return data;
  const properties = { ...(data.properties as Record<string, JsonSchema>) };
  const required = data.required ?? [];
  const present: string[] = personal.filter((field) => field in properties);
  // The subject is whoever the event names; with nobody named (only possible for tasks), nothing is sealed.
  const mayStayClear = personalDataSubject(type, Object.fromEntries(present.map((field) => [field, 'x']))) === undefined;
  const sealed: JsonSchema = {
    ...sealedFields,
    properties: {
      ...(sealedFields.properties as Record<string, JsonSchema>),
      fields: {
        ...(sealedFields.properties as Record<string, JsonSchema>).fields,
        items: { type: 'string', enum: present },
      },
    },
  };
  const out: Record<string, JsonSchema> = {};
  for (const [name, schema] of Object.entries(properties)) if (mayStayClear || !present.includes(name)) out[name] = schema;
  out.sealed = sealed;
  const stillRequired = required.filter((name) => !present.includes(name));
  // Sealing happens whenever one of the fields is there: a required one makes `sealed` required.
  const sealedRequired = !mayStayClear && present.some((name) => required.includes(name));
  return {
    ...data,
    properties: out,
    required: [...stillRequired, ...(sealedRequired ? ['sealed'] : [])],
    description:
      `Personal fields (${present.join(', ')}) travel encrypted in \`sealed\` under the data subject's key` +
      (mayStayClear ? ', or in clear when the event names no customer or lead' : '') +
      '; docs/personal-data.md.',
  };
}

interface Contract {
  /** Path (from the repository root) → content, formatted as the repository's Prettier config says. */
  files: Map<string, string>;
  /** The AsyncAPI document as an object. */
  document: Record<string, unknown>;
}

/** Generates the contract from the code (a few seconds: one TypeScript program). */
export async function buildContract(): Promise<Contract> {
  const generator = createGenerator({
    path: join(ROOT, SOURCES),
    tsconfig: join(ROOT, 'tsconfig.json'),
    expose: 'none',
    topRef: false,
    jsDoc: 'extended',
    // Types are checked by `npm run typecheck`; here they are only read.
    skipTypeCheck: true,
    additionalProperties: false,
  });
  const sealedFields = plain(generator.createSchema('SealedFields'));
  const envelope = plain(generator.createSchema('EventEnvelopeV1'));
  const headers = plain(generator.createSchema('EnvelopeHeaders'));

  // Event type → its data schema (sealed form), and category → its event types.
  const dataSchemas = new Map<string, JsonSchema>();
  const typesByCategory = new Map<string, string[]>();
  for (const [category, unions] of Object.entries(EVENTS_BY_CATEGORY)) {
    const types: string[] = [];
    for (const union of unions) {
      const schema = plain(generator.createSchema(union));
      for (const member of (schema.anyOf as JsonSchema[] | undefined) ?? [schema]) {
        const properties = member.properties as Record<string, JsonSchema>;
        const type = properties.type.const as string;
        if (!(type in schemaVersions)) throw new Error(`contract: ${type} (in ${union}) has no schemaVersion (libs/domain/src/events.ts)`);
        types.push(type);
        dataSchemas.set(type, sealedForm(type, properties.data, sealedFields));
      }
    }
    typesByCategory.set(category, types);
  }
  const missing = Object.keys(schemaVersions).filter((type) => !dataSchemas.has(type));
  if (missing.length > 0) throw new Error(`contract: no category's events include ${missing.join(', ')} (EVENTS_BY_CATEGORY)`);

  const types = Object.keys(schemaVersions);
  const versionOf = (type: string) => schemaVersions[type as keyof typeof schemaVersions];
  const schemas: Record<string, unknown> = {
    EventEnvelope: {
      ...envelope,
      description: `${envelope.description as string} Version ${ENVELOPE_VERSION}; \`data\` is described per event type (AnyEventEnvelope, or each message).`,
    },
    EnvelopeHeaders: headers,
    // Any event, its data checked against its type's schema: the HTTP feed's and webhooks' payload.
    AnyEventEnvelope: {
      description: 'An event in the envelope, `data` as its `type` and `schemaVersion` say: what the HTTP feed (and webhooks) carry.',
      allOf: [
        ref('EventEnvelope'),
        { type: 'object', properties: { type: { type: 'string', enum: types } } },
        ...types.map((type) => ({
          if: { type: 'object', properties: { type: { const: type } }, required: ['type'] },
          then: { type: 'object', properties: { schemaVersion: { const: versionOf(type) }, data: ref(schemaName(type, versionOf(type))) } },
        })),
      ],
    },
    EventFeedPage: {
      description: 'GET /events (JSON): one page of the global feed, personal fields sealed as on Kafka (docs/http-api.md).',
      type: 'object',
      properties: {
        events: { type: 'array', items: ref('AnyEventEnvelope') },
        checkpoint: { type: 'integer', description: 'The position to continue after (`?after=`).' },
        isEnd: { type: 'boolean', description: 'True when the page reached the head of the feed.' },
      },
      required: ['events', 'checkpoint', 'isEnd'],
      additionalProperties: false,
    },
    WebhookDelivery: {
      description:
        'The body of a webhook delivery (POST to the subscription URL), signed in the Chronicle-Signature header (docs/webhooks.md).',
      type: 'object',
      properties: {
        subscriptionId: { type: 'string', description: 'The subscription delivered to.' },
        deliveryId: { type: 'string', description: 'The same on every attempt at this batch.' },
        events: { type: 'array', minItems: 1, items: ref('AnyEventEnvelope'), description: 'In global order.' },
      },
      required: ['subscriptionId', 'deliveryId', 'events'],
      additionalProperties: false,
    },
  };
  const files = new Map<string, unknown>();
  for (const type of types) {
    const name = schemaName(type, versionOf(type));
    const schema = { title: name, ...dataSchemas.get(type) };
    schemas[name] = schema;
    files.set(`${SCHEMA_DIR}/${name}.json`, {
      $schema: 'http://json-schema.org/draft-07/schema#',
      $comment:
        'Generated by `npm run contract` from the TypeScript types (libs/domain); do not edit. A changed shape is a new schemaVersion.',
      ...schema,
    });
  }

  const messages: Record<string, unknown> = {};
  for (const type of types) {
    const version = versionOf(type);
    messages[type] = {
      name: type,
      title: `${type} v${version}`,
      contentType: 'application/json',
      headers: {
        allOf: [
          ref('EnvelopeHeaders'),
          { type: 'object', properties: { type: { const: type }, schemaVersion: { const: String(version) } } },
        ],
      },
      payload: {
        allOf: [
          ref('EventEnvelope'),
          {
            type: 'object',
            properties: { type: { const: type }, schemaVersion: { const: version }, data: ref(schemaName(type, version)) },
          },
        ],
      },
      bindings: {
        kafka: {
          key: { type: 'string', description: "The stream id (`<category>-<id>`): one aggregate's events share a partition, in order." },
          bindingVersion: KAFKA_BINDING_VERSION,
        },
      },
    };
  }

  const channels: Record<string, unknown> = {};
  const operations: Record<string, unknown> = {};
  for (const [category, categoryTypes] of typesByCategory) {
    const address = `${DEFAULT_TOPIC_PREFIX}.${category}`;
    channels[category] = {
      address,
      title: address,
      description: `Every event of the \`${category}-<id>\` streams, in order per stream (key = stream id). KAFKA_TOPIC_PREFIX replaces \`${DEFAULT_TOPIC_PREFIX}\`.`,
      messages: Object.fromEntries(categoryTypes.map((type) => [type, { $ref: `#/components/messages/${type}` }])),
      bindings: { kafka: { topic: address, bindingVersion: KAFKA_BINDING_VERSION } },
    };
    operations[`publish${category[0].toUpperCase()}${category.slice(1)}`] = {
      action: 'send',
      title: `The relay publishes the ${category} events`,
      channel: { $ref: `#/channels/${category}` },
      messages: categoryTypes.map((type) => ({ $ref: `#/channels/${category}/messages/${type}` })),
    };
  }

  const document = {
    asyncapi: '3.0.0',
    info: {
      title: 'Chronicle events',
      version: String(ENVELOPE_VERSION),
      description:
        'Every event Chronicle stores, published to Kafka at least once and in order per stream, as a JSON envelope ' +
        `(version ${ENVELOPE_VERSION}, the info.version here). The same envelopes are served by GET /events. ` +
        'Generated from the code by `npm run contract`; see docs/kafka.md, "The contract".',
    },
    defaultContentType: 'application/json',
    channels,
    operations,
    components: { schemas, messages },
  };
  files.set(CONTRACT_FILE, document);

  const prettier = await resolveConfig(join(ROOT, CONTRACT_FILE));
  const formatted = new Map<string, string>();
  for (const [path, value] of files) formatted.set(path, await format(JSON.stringify(value), { ...prettier, parser: 'json' }));
  return { files: formatted, document };
}
