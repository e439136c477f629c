/** Injection tokens for the ports, so Nest modules wire adapters without knowing which. */
export const CONFIG = Symbol('ChronicleConfig');
export const EVENT_STORE = Symbol('EventStore');
/** The same events as stored, personal fields sealed (the relay publishes these). */
export const SEALED_EVENT_STORE = Symbol('SealedEventStore');
export const STATE_STORE = Symbol('StateStore');
export const PIPELINE = Symbol('Pipeline');
export const READ_STORE = Symbol('ReadStore');
