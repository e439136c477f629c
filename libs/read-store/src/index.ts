export * from './read-store';
export * from './embedded/embedded-read-store';
