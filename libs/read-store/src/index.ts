export * from './read-store';
export * from './embedded/embedded-read-store';
export * from './mongodb/mongodb-read-store';
