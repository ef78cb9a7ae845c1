import type { Prediction } from '@tagserve/model/types';

/** The one BullMQ queue between the gateway and the workers. */
export const PREDICTION_QUEUE = 'predictions';
export const PREDICT_JOB = 'predict';

/** One HTTP request's share of a job: its id (for logs) and how many of the job's texts are its. */
export interface JobRequest {
  requestId: string;
  texts: number;
}

/**
 * A job carries the texts of one or more requests that reached the gateway together, in order
 * (requests are never split). Fewer, fuller jobs mean fewer Redis round trips per text.
 */
export interface PredictionJobData {
  texts: string[];
  requests: JobRequest[];
  /** The channel of the gateway waiting for this job (see replyChannel); none = nobody waits. */
  replyTo?: string;
  /**
   * When the caller stops waiting (epoch ms, the gateway's clock: add time + PREDICT_TIMEOUT_MS).
   * A worker that takes the job later drops it without inference: its caller already got a 504,
   * and an overloaded service needs that CPU most. None = no deadline (bulk chunks).
   */
  deadline?: number;
}

/** True when the job carries a deadline that has passed: nobody waits for its answer any more. */
export function deadlinePassed(data: Pick<PredictionJobData, 'deadline'> | undefined, now = Date.now()): boolean {
  const deadline = data?.deadline;
  return typeof deadline === 'number' && Number.isFinite(deadline) && now > deadline;
}

/**
 * Where a job's time went on the worker, apart as TEI and Triton report it: queue time is not
 * inference time, and neither is the micro-batcher's wait.
 */
export interface JobTimings {
  /** Added until a worker took it (BullMQ's `timestamp` to `processedOn`). */
  queueMs: number;
  /** Taken until the last inference holding its texts started: the wait in the micro-batcher. */
  batchWaitMs: number;
  /** Time of the inferences that held its texts (a batch shared with other jobs counts whole). */
  modelMs: number;
}

export interface PredictionJobResult {
  /** One per text of the job, in order. */
  predictions: Prediction[];
  /** Which worker process answered (hostname:pid), for scaling checks and logs. */
  worker: string;
  modelVersion: string;
  timings: JobTimings;
}

/**
 * Groups requests into jobs of at most `maxTexts` texts, keeping their order; a request larger
 * than `maxTexts` gets a job of its own.
 */
export function groupRequests<R extends { texts: string[] }>(requests: R[], maxTexts: number): R[][] {
  const groups: R[][] = [];
  let current: R[] = [];
  let size = 0;
  for (const request of requests) {
    if (current.length > 0 && size + request.texts.length > maxTexts) {
      groups.push(current);
      current = [];
      size = 0;
    }
    current.push(request);
    size += request.texts.length;
  }
  if (current.length > 0) groups.push(current);
  return groups;
}
