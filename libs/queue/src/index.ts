export * from './prediction-job';
