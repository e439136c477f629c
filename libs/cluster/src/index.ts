export * from './coordinator';
export * from './failure';
export * from './fence';
export * from './lease';
export * from './state-store';
export * from './sqlite/sqlite-state-store';
export * from './mongodb/mongo-state-store';
