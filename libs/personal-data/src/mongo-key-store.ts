import { Binary, Collection, MongoBulkWriteError, MongoClient, MongoServerError } from 'mongodb';
import { newDataKey } from './cipher';
import { KeyLookup, KeyStore, PersonalDataErasedError } from './key-store';

type KeyDocument = { _id: string; key: Binary | null; createdAt: string; erasedAt?: string };

const DUPLICATE_KEY = 11000;
const asBuffer = (key: Binary): Buffer => Buffer.from(key.buffer);

/**
 * Production key store: one document per subject in `personal_data_keys`. In production put
 * this collection on a deployment with encryption at rest and backups of limited retention: a
 * destroyed key must not come back from a restore (docs/personal-data.md).
 */
export class MongoKeyStore implements KeyStore {
  private readonly client: MongoClient;
  private readonly keys: Collection<KeyDocument>;

  constructor(url: string, options: { database?: string; collection?: string } = {}) {
    this.client = new MongoClient(url);
    this.keys = this.client.db(options.database).collection<KeyDocument>(options.collection ?? 'personal_data_keys');
  }

  async obtain(subject: string): Promise<Buffer> {
    let doc = await this.keys.findOne({ _id: subject });
    if (!doc) {
      try {
        await this.keys.insertOne({ _id: subject, key: new Binary(newDataKey()), createdAt: new Date().toISOString() });
      } catch (error) {
        // Another process made the first key meanwhile: use that one.
        if (!(error instanceof MongoServerError && error.code === DUPLICATE_KEY)) throw error;
      }
      doc = (await this.keys.findOne({ _id: subject }))!;
    }
    if (doc.key === null) throw new PersonalDataErasedError(subject);
    return asBuffer(doc.key);
  }

  async obtainMany(subjects: string[]): Promise<Map<string, Buffer | 'erased'>> {
    const found = new Map<string, Buffer | 'erased'>();
    if (subjects.length === 0) return found;
    const known = await this.findMany(subjects);
    const missing = subjects.filter((s) => known.get(s) === undefined);
    if (missing.length > 0) {
      const at = new Date().toISOString();
      try {
        await this.keys.insertMany(
          missing.map((subject) => ({ _id: subject, key: new Binary(newDataKey()), createdAt: at })),
          { ordered: false },
        );
      } catch (error) {
        // Another process made some first keys meanwhile: those are used (read back below).
        if (!(error instanceof MongoBulkWriteError)) throw error;
        const codes = ([] as Array<{ code: number }>).concat(error.writeErrors).map((e) => e.code);
        if (codes.length === 0 || codes.some((code) => code !== DUPLICATE_KEY)) throw error;
      }
    }
    for (const [subject, key] of missing.length > 0 ? await this.findMany(subjects) : known) found.set(subject, key!);
    return found;
  }

  async findMany(subjects: string[]): Promise<Map<string, KeyLookup>> {
    const found = new Map<string, KeyLookup>(subjects.map((s) => [s, undefined]));
    if (subjects.length === 0) return found;
    for await (const doc of this.keys.find({ _id: { $in: subjects } })) found.set(doc._id, doc.key === null ? 'erased' : asBuffer(doc.key));
    return found;
  }

  async destroy(subject: string): Promise<void> {
    const at = new Date().toISOString();
    await this.keys.updateOne({ _id: subject }, { $set: { key: null, erasedAt: at }, $setOnInsert: { createdAt: at } }, { upsert: true });
  }

  async close(): Promise<void> {
    await this.client.close();
  }
}
