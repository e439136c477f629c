export * from './envelope';
export * from './kafka-relay';
export * from './metrics';
export * from './nest/relay.module';
