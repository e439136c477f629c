import type { RecordedEvent } from '@chronicle/event-store';
import type { Document } from '@chronicle/read-store';

/**
 * What a projection sees while applying an event: the documents of its own collections, with
 * this batch's changes already visible. Everything put or deleted is committed by the projector
 * together with the projection's checkpoint.
 */
export interface ProjectionContext {
  get<T extends Document>(collection: string, id: string): Promise<T | undefined>;
  put<T extends Document>(collection: string, doc: T): void;
  delete(collection: string, id: string): void;
}

export interface Projection {
  /** Unique, slug-like; also the name in `GET /projections` and `chronicle projections rebuild <name>`. */
  readonly name: string;
  /** Bump when the logic changes: the projector rebuilds it from the whole history, the old version serving meanwhile. */
  readonly version: number;
  /** Logical names of the collections it writes; physical names carry the generation. */
  readonly collections: readonly string[];
  /** Top-level scalar fields to index, per collection. */
  readonly indexes?: Readonly<Record<string, readonly string[]>>;
  /** Event types it reacts to (all when absent). */
  readonly eventTypes?: readonly string[];
  apply(event: RecordedEvent, context: ProjectionContext): void | Promise<void>;
  /** Event types that overwrite personal data: once they are committed, the read store scrubs its files. */
  readonly scrubAfter?: readonly string[];
}

/** `<projection>.<collection>.g<generation>`: generations let a rebuild run beside the live version. */
export const physicalName = (projection: string, collection: string, generation: number): string =>
  `${projection}.${collection}.g${generation}`;
