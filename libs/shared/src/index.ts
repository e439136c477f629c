export * from './config';
export * from './event-store.factory';
export * from './read-store.factory';
export * from './infrastructure.module';
export * from './snapshot-store';
export * from './state-store';
export * from './tokens';
export * from './uuid';
