export * from './event-store';
export * from './polling-subscription';
export * from './sqlite/sqlite-event-store';
export * from './eventstoredb/eventstoredb-event-store';
export * from './catch-up-consumer';
export * from './known-at-event-store';
