/** Injection tokens for the ports, so Nest modules wire adapters without knowing which. */
export const CONFIG = Symbol('ChronicleConfig');
export const EVENT_STORE = Symbol('EventStore');
/** The same events as stored, personal fields sealed (the relay publishes these). */
export const SEALED_EVENT_STORE = Symbol('SealedEventStore');
/** Checkpoints, Idempotency-Key results, leases (SQLite in DATA_DIR, or MongoDB with READ_STORE=mongodb). */
export const STATE_STORE = Symbol('StateStore');
/** This process's RoleCoordinator: leases on the background roles it can work. */
export const COORDINATOR = Symbol('RoleCoordinator');
export const PIPELINE = Symbol('Pipeline');
export const READ_STORE = Symbol('ReadStore');
