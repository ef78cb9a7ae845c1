export * from './prediction-job';
export * from './model-info';
export * from './queue.module';
export * from './prediction-reply';
export * from './bulk-job';
export * from './job-timing.metrics';
