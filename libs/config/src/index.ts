export * from './config.schema';
export * from './tagserve-config.module';
export * from './redis-connection';
export * from './logger';
