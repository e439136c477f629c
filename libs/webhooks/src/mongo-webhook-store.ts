import type { Collection, Db, UpdateFilter } from 'mongodb';
import type { DeadLetter, WebhookChanges, WebhookStore, WebhookSubscription } from './webhook-store';

/** A subscription with its id as `_id` (a `type`, not an interface: the driver's Document wants an index signature). */
type SubscriptionDocument = Omit<WebhookSubscription, 'id'> & { _id: string };
/** `events` as JSON text: FerretDB refuses keys with dots or a leading $, which event data may have, and BSON would turn undefined into null. */
type DeadLetterDocument = Omit<DeadLetter, 'events'> & { _id: string; events: string };

/** The fields `update` may change: any other key of the changes (a caller passing on a request body as it came) is ignored. */
const changeable = ['url', 'eventTypes', 'categories', 'status', 'replay'] as const;

/** One unambiguous `_id` per (subscription, dead letter), whatever characters the ids hold. */
const deadLetterId = (subscriptionId: string, id: string) => JSON.stringify([subscriptionId, id]);

/** A document as a record without keys for absent fields (null included: callers and the contract compare whole records). */
function subscriptionOf(doc: SubscriptionDocument): WebhookSubscription {
  const { _id, eventTypes, categories, replay, ...rest } = doc;
  return {
    id: _id,
    ...rest,
    ...(eventTypes != null && { eventTypes }),
    ...(categories != null && { categories }),
    ...(replay != null && { replay: { fromPosition: replay.fromPosition, requestedAt: replay.requestedAt } }),
  };
}

function deadLetterOf(doc: DeadLetterDocument): DeadLetter {
  const { _id, events, lastStatus, ...rest } = doc;
  return { ...rest, events: JSON.parse(events) as unknown[], ...(lastStatus != null && { lastStatus }) };
}

/** Drops undefined values: the driver would store them as null. */
const defined = <T extends object>(value: T): T => Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;

/**
 * Webhook subscriptions (`webhooks`, `_id` = the subscription's id) and dead letters
 * (`webhookDeadLetters`) in the read store's MongoDB database. It does not own the client: close()
 * leaves it to whoever made it. No transactions (FerretDB has none): every change is one
 * single-document operation, and remove() deletes the subscription, then its dead letters.
 *
 * On MongoDB each single-document update is atomic. FerretDB (1.24) runs an update as a query and
 * then writes the document back by `_id` (see libs/cluster's MongoStateStore), so there two
 * concurrent updates of one subscription (e.g. a new replay request while the holder clears the
 * previous one) can lose one of them.
 */
export class MongoWebhookStore implements WebhookStore {
  readonly kind = 'mongodb' as const;
  private readonly subscriptions: Collection<SubscriptionDocument>;
  private readonly letters: Collection<DeadLetterDocument>;
  private indexed?: Promise<void>;

  constructor(db: Db) {
    // Reads from a secondary could miss a subscription just created or changed, whatever the client's URL prefers.
    this.subscriptions = db.collection<SubscriptionDocument>('webhooks', { readPreference: 'primary' });
    this.letters = db.collection<DeadLetterDocument>('webhookDeadLetters', { readPreference: 'primary' });
  }

  /** Creates the indexes once per instance, on first use (createIndex of an existing index is a no-op, so every process may do it). */
  private ready(): Promise<void> {
    this.indexed ??= Promise.all([
      this.subscriptions.createIndex({ createdAt: 1, _id: 1 }),
      this.letters.createIndex({ subscriptionId: 1, fromPosition: 1, id: 1 }),
    ]).then(
      () => undefined,
      (error) => {
        this.indexed = undefined; // try again on the next call
        throw error;
      },
    );
    return this.indexed;
  }

  async create(subscription: WebhookSubscription): Promise<void> {
    await this.ready();
    const { id, ...rest } = subscription;
    // A duplicate id fails with a duplicate key error (the `_id`).
    await this.subscriptions.insertOne(defined({ _id: id, ...rest }));
  }

  async list(): Promise<WebhookSubscription[]> {
    await this.ready();
    const docs = await this.subscriptions.find({}).sort({ createdAt: 1, _id: 1 }).toArray();
    return docs.map(subscriptionOf);
  }

  async get(id: string): Promise<WebhookSubscription | undefined> {
    const doc = await this.subscriptions.findOne({ _id: id });
    return doc ? subscriptionOf(doc) : undefined;
  }

  async update(id: string, changes: WebhookChanges, updatedAt: string): Promise<WebhookSubscription | undefined> {
    const unset = new Set<string>(changes.unset ?? []);
    const $set: Partial<SubscriptionDocument> = { updatedAt };
    // A key given as undefined changes nothing; `unset` wins over a value given for the same field (one update may not do both).
    for (const key of changeable) if (changes[key] !== undefined && !unset.has(key)) Object.assign($set, { [key]: changes[key] });
    // An empty $unset is refused by some servers: only when there is something to remove.
    const update: UpdateFilter<SubscriptionDocument> = { $set };
    if (unset.size) update.$unset = Object.fromEntries([...unset].map((key) => [key, ''] as const));
    const doc = await this.subscriptions.findOneAndUpdate({ _id: id }, update, { returnDocument: 'after' });
    return doc ? subscriptionOf(doc) : undefined;
  }

  async clearReplay(id: string, requestedAt: string): Promise<boolean> {
    // One conditional update: a newer request (another requestedAt) made meanwhile matches nothing and stays.
    const { matchedCount } = await this.subscriptions.updateOne({ _id: id, 'replay.requestedAt': requestedAt }, { $unset: { replay: '' } });
    return matchedCount === 1;
  }

  async remove(id: string): Promise<boolean> {
    const { deletedCount } = await this.subscriptions.deleteOne({ _id: id });
    // Then its dead letters, also when the subscription was gone already: a remove retried after a
    // failure in between removes what the first one left.
    await this.letters.deleteMany({ subscriptionId: id });
    return deletedCount === 1;
  }

  async addDeadLetter(letter: DeadLetter): Promise<void> {
    await this.ready();
    const { events, ...rest } = letter;
    // A duplicate (subscription, id) fails with a duplicate key error, as in SQLite.
    await this.letters.insertOne(defined({ _id: deadLetterId(letter.subscriptionId, letter.id), ...rest, events: JSON.stringify(events) }));
  }

  async deadLetters(subscriptionId: string): Promise<DeadLetter[]> {
    await this.ready();
    const docs = await this.letters.find({ subscriptionId }).sort({ fromPosition: 1, id: 1 }).toArray();
    return docs.map(deadLetterOf);
  }

  async deadLetter(subscriptionId: string, id: string): Promise<DeadLetter | undefined> {
    const doc = await this.letters.findOne({ _id: deadLetterId(subscriptionId, id) });
    return doc ? deadLetterOf(doc) : undefined;
  }

  async updateDeadLetter(
    subscriptionId: string,
    id: string,
    failure: Pick<DeadLetter, 'attempts' | 'lastStatus' | 'lastError' | 'failedAt'>,
  ): Promise<void> {
    const { attempts, lastStatus, lastError, failedAt } = failure;
    // No lastStatus (no response this time) removes the previous attempt's.
    await this.letters.updateOne(
      { _id: deadLetterId(subscriptionId, id) },
      lastStatus === undefined
        ? { $set: { attempts, lastError, failedAt }, $unset: { lastStatus: '' } }
        : { $set: { attempts, lastStatus, lastError, failedAt } },
    );
  }

  async removeDeadLetter(subscriptionId: string, id: string): Promise<boolean> {
    const { deletedCount } = await this.letters.deleteOne({ _id: deadLetterId(subscriptionId, id) });
    return deletedCount === 1;
  }

  /** The client belongs to whoever made it (it closes it). */
  async close(): Promise<void> {}
}
