import { streamIdOf } from './common/streams';

/**
 * Which event fields are personal data, and whose. The event store keeps these fields sealed
 * with the data subject's own key (libs/personal-data); erasing a subject destroys that key, so
 * every copy of the fields (event store, Kafka, backups) becomes unreadable at once.
 * Everything reports need (source, region, industry, amounts, dates) stays outside.
 */

/** What an erased personal text field reads as, everywhere. */
export const ERASED = '[erased]';

/** Personal fields: text fields read as ERASED once erased; `attributes` (free text) is dropped. */
export const PersonalFields = ['name', 'email', 'phone', 'attributes'] as const;
export type PersonalField = (typeof PersonalFields)[number];

/** Event types that may carry personal fields, and the stream of the subject they belong to. */
const SUBJECT_OF: Record<string, (data: Record<string, unknown>) => string> = {
  CustomerRegistered: (d) => streamIdOf('customer', String(d.customerId)),
  CustomerProfileUpdated: (d) => streamIdOf('customer', String(d.customerId)),
  LeadCaptured: (d) => streamIdOf('lead', String(d.leadId)),
};

/** The data subject (its stream id) whose key seals this event's personal fields, if it has any. */
export function personalDataSubject(type: string, data: unknown): string | undefined {
  const subjectOf = SUBJECT_OF[type];
  if (!subjectOf || typeof data !== 'object' || data === null) return undefined;
  const d = data as Record<string, unknown>;
  return PersonalFields.some((f) => d[f] !== undefined) ? subjectOf(d) : undefined;
}

/** Event types that record an erasure, and the subject erased. */
export const ERASURE_OF: Record<string, (data: Record<string, unknown>) => string> = {
  CustomerPersonalDataErased: (d) => streamIdOf('customer', String(d.customerId)),
  LeadPersonalDataErased: (d) => streamIdOf('lead', String(d.leadId)),
};

/**
 * Erased values of the personal fields present in `fields`: text becomes ERASED, free-text
 * attributes disappear. Used by deciders and projections, and when a sealed event's key is gone.
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
