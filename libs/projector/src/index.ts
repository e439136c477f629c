export * from './lock';
export * from './projection';
export * from './projector';
export * from './read-models';
export * from './runner';
export * from './slot';
export * from './status';
export * from './unit-of-work';
