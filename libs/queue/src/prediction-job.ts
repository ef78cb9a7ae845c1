import type { Prediction } from '@tagserve/model/types';

/** The one BullMQ queue between the gateway and the workers. */
export const PREDICTION_QUEUE = 'predictions';
export const PREDICT_JOB = 'predict';

export interface PredictionJobData {
  texts: string[];
  /** Follows the request from the gateway's logs into the worker's. */
  requestId: string;
}

export interface PredictionJobResult {
  predictions: Prediction[];
  /** Which worker process answered (hostname:pid), for scaling checks and logs. */
  worker: string;
  modelVersion: string;
  /** Milliseconds spent in the model for this job's texts. */
  inferenceMs: number;
}
