export * from './types';
export * from './csv';
export * from './char-tfidf';
export * from './logistic-regression';
export * from './metrics';
export * from './text-encoder';
export * from './tag-classifier';
