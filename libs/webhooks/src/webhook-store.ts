/**
 * Webhook subscriptions and their dead letters, shared by every process of a deployment: the API
 * processes create and change subscriptions, the holder of the `webhooks` role delivers. Two
 * adapters, held to one contract suite (contract/webhook-store.contract.ts): SQLite
 * (`DATA_DIR/webhooks.db`, shared by the processes of one host) and MongoDB (the read store's
 * database). Delivery positions are not kept here: each subscription's checkpoint is a fenced
 * checkpoint of the state store (`webhook:<id>`), like the relay's.
 */

export type WebhookStatus = 'active' | 'paused';

export interface WebhookSubscription {
  id: string;
  url: string;
  /** Only these event types (absent: every type). */
  eventTypes?: string[];
  /** Only streams of these categories (absent: every category). */
  categories?: string[];
  /** The HMAC-SHA256 key deliveries are signed with. Never shown after creation. */
  secret: string;
  status: WebhookStatus;
  createdAt: string;
  /** The actor that created it. */
  createdBy: string;
  updatedAt: string;
  /**
   * A replay asked for (`POST /webhooks/:id/replay`): the holder moves the subscription's
   * checkpoint to `fromPosition` and clears this. `requestedAt` tells two requests apart.
   */
  replay?: { fromPosition: number; requestedAt: string };
}

/** What may change on a subscription (PATCH, replay requests, the holder clearing a replay). */
export type WebhookChanges = Partial<Pick<WebhookSubscription, 'url' | 'eventTypes' | 'categories' | 'status' | 'replay'>> & {
  /** Removes `eventTypes` / `categories` / `replay` (a filter dropped, a replay done). */
  unset?: Array<'eventTypes' | 'categories' | 'replay'>;
};

/** A batch that failed every attempt: kept with its events (as they would have been delivered) to be retried by hand. */
export interface DeadLetter {
  id: string;
  subscriptionId: string;
  /** The envelopes of the batch, in order. */
  events: unknown[];
  /** Global positions of the first and last event of the batch. */
  fromPosition: number;
  toPosition: number;
  attempts: number;
  /** HTTP status of the last attempt (absent: no response — refused, timed out, unreachable). */
  lastStatus?: number;
  lastError: string;
  failedAt: string;
}

export interface WebhookStore {
  /** Adds a subscription; its id must be new. */
  create(subscription: WebhookSubscription): Promise<void>;
  /** Every subscription, oldest first (by createdAt, then id). */
  list(): Promise<WebhookSubscription[]>;
  get(id: string): Promise<WebhookSubscription | undefined>;
  /** Applies the changes and sets `updatedAt`; the subscription after them, or undefined when there is none. */
  update(id: string, changes: WebhookChanges, updatedAt: string): Promise<WebhookSubscription | undefined>;
  /**
   * Clears the replay request if it is still the one given (by `requestedAt`): a newer request
   * made meanwhile stays. True when cleared.
   */
  clearReplay(id: string, requestedAt: string): Promise<boolean>;
  /** Removes the subscription and its dead letters; false when there was none. */
  remove(id: string): Promise<boolean>;
  addDeadLetter(letter: DeadLetter): Promise<void>;
  /** A subscription's dead letters, oldest first (by fromPosition, then id). */
  deadLetters(subscriptionId: string): Promise<DeadLetter[]>;
  deadLetter(subscriptionId: string, id: string): Promise<DeadLetter | undefined>;
  /** Records another failed attempt of a dead letter retried by hand. */
  updateDeadLetter(
    subscriptionId: string,
    id: string,
    failure: Pick<DeadLetter, 'attempts' | 'lastStatus' | 'lastError' | 'failedAt'>,
  ): Promise<void>;
  /** Removes a dead letter (delivered on a retry); false when there was none. */
  removeDeadLetter(subscriptionId: string, id: string): Promise<boolean>;
  close(): Promise<void>;
}
