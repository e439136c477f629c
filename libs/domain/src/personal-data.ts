import { streamIdOf } from './common/streams';

/**
 * Which event fields are personal data, and whose. The event store keeps these fields sealed
 * with the data subject's own key (libs/personal-data); erasing a subject destroys that key, so
 * every copy of the fields (event store, Kafka, backups) becomes unreadable at once. The API masks
 * exactly these fields for analysts. Everything reports need (source, region, industry, amounts,
 * dates, counts, reasons) stays outside.
 */

/** What an erased personal text field reads as, everywhere. */
export const ERASED = '[erased]';

/**
 * Every personal field, by name: who the person is (name, email, phone), free-form profile
 * attributes, and free text written about them (an interaction's or task's subject and outcome,
 * a purchase's description). Erased, text reads as ERASED and `attributes` is dropped.
 */
export const PersonalFields = ['name', 'email', 'phone', 'attributes', 'subject', 'outcome', 'description'] as const;
export type PersonalField = (typeof PersonalFields)[number];

type Data = Record<string, unknown>;
const customer = (d: Data) => streamIdOf('customer', String(d.customerId));
const lead = (d: Data) => streamIdOf('lead', String(d.leadId));

/**
 * The person a task is about: its customer, else its lead. A task about neither (a deal's, or
 * nobody's) holds no personal data, so its text stays in clear.
 */
export function personOfTask(task: { customerId?: unknown; leadId?: unknown }): string | undefined {
  if (typeof task.customerId === 'string' && task.customerId) return streamIdOf('customer', task.customerId);
  if (typeof task.leadId === 'string' && task.leadId) return streamIdOf('lead', task.leadId);
  return undefined;
}

/** Event types that carry personal fields: which ones, and the stream of the person they belong to. */
const PERSONAL_DATA: Record<string, { fields: readonly PersonalField[]; subjectOf: (data: Data) => string | undefined }> = {
  CustomerRegistered: { fields: ['name', 'email', 'phone', 'attributes'], subjectOf: customer },
  CustomerProfileUpdated: { fields: ['name', 'email', 'phone', 'attributes'], subjectOf: customer },
  LeadCaptured: { fields: ['name', 'email', 'attributes'], subjectOf: lead },
  InteractionLogged: { fields: ['subject', 'outcome'], subjectOf: customer },
  PurchaseRecorded: { fields: ['description'], subjectOf: customer },
  LeadInteractionLogged: { fields: ['subject'], subjectOf: lead },
  TaskCreated: { fields: ['subject'], subjectOf: personOfTask },
  TaskCompleted: { fields: ['outcome'], subjectOf: personOfTask },
  TaskUpdated: { fields: ['subject'], subjectOf: personOfTask },
};

/** The personal fields an event type may carry (none for most types). */
export function personalFieldsOf(type: string): readonly PersonalField[] {
  return PERSONAL_DATA[type]?.fields ?? [];
}

/** The data subject (its stream id) whose key seals this event's personal fields, if it has any. */
export function personalDataSubject(type: string, data: unknown): string | undefined {
  const personal = PERSONAL_DATA[type];
  if (!personal || typeof data !== 'object' || data === null) return undefined;
  const d = data as Data;
  return personal.fields.some((f) => d[f] !== undefined) ? personal.subjectOf(d) : undefined;
}

/** Event types that record an erasure, and the subject erased. */
export const ERASURE_OF: Record<string, (data: Record<string, unknown>) => string> = {
  CustomerPersonalDataErased: customer,
  LeadPersonalDataErased: lead,
};

/**
 * Erased values of the personal fields present in `fields`: text becomes ERASED, free-form
 * attributes disappear; other fields are kept. Used by deciders and projections, and when a
 * sealed event's key is gone.
 */
export function erasedFields<T extends Partial<Record<PersonalField, unknown>>>(fields: T): T {
  const out = { ...fields };
  for (const f of PersonalFields) {
    if (out[f] === undefined || out[f] === null) continue;
    if (f === 'attributes') delete out[f];
    else (out as Record<string, unknown>)[f] = ERASED;
  }
  return out;
}
