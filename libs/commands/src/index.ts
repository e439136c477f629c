export * from './command-context';
export * from './command-executor';
export * from './commands.module';
export * from './messages';
export * from './ownership';
export * from './process-managers/acquisition.process-manager';
export * from './process-managers/reaction-context';
