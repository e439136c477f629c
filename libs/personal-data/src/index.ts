export * from './cipher';
export * from './key-store';
export * from './sqlite-key-store';
export * from './mongo-key-store';
export * from './personal-data-event-store';
export * from './masking';
