import { Injectable, Logger } from '@nestjs/common';
import { deadlinePassed, PredictionJobData, PredictionJobResult } from '@tagserve/queue';
import { Job, UnrecoverableError } from 'bullmq';
import { hostname } from 'node:os';
import { WorkerMetricsService } from '../metrics/worker-metrics.service';
import { ModelService } from '../model/model.service';

/** hostname:pid — the container id under compose — names the worker in Redis and in job results. */
export const WORKER_ID = `${hostname()}:${process.pid}`;

/**
 * A /predict job taken after its caller's deadline. It fails (unrecoverable, so never retried)
 * rather than completing: a completed job would read as answered to anyone who looks it up by the
 * id the 504 named, while the failed set records why it was not inferred.
 */
export class ExpiredJobError extends UnrecoverableError {}

/** What one prediction job does: its texts through the micro-batcher, with where the time went. */
@Injectable()
export class PredictionProcessor {
  private readonly logger = new Logger(PredictionProcessor.name);
  /** Jobs inside process() right now (for pacing, see PredictionWorker). */
  held = 0;

  constructor(
    private readonly model: ModelService,
    private readonly metrics: WorkerMetricsService,
  ) {}

  async process(job: Job<PredictionJobData, PredictionJobResult>): Promise<PredictionJobResult> {
    const { texts, requests } = jobData(job.data);
    const queueMs = Math.max(0, (job.processedOn ?? Date.now()) - job.timestamp);
    // Dropped before it reaches the micro-batcher: its caller got a 504 and waits no more.
    if (deadlinePassed(job.data)) {
      this.metrics.expiredJobs.inc();
      throw new ExpiredJobError(
        `deadline passed ${Date.now() - (job.data.deadline ?? 0)} ms before a worker took the job (queued ${queueMs} ms); not inferred`,
      );
    }
    this.held++;
    let done: Awaited<ReturnType<ModelService['batcher']['predictTimed']>>;
    try {
      done = await this.model.batcher.predictTimed(texts);
    } finally {
      this.held--;
    }
    const timings = { queueMs, ...done.timings };
    this.metrics.jobs.inc({ outcome: 'completed' });
    this.metrics.requests.inc({ outcome: 'completed' }, requests.length);
    this.metrics.jobTimes.observe(timings);
    // One line per request the job carries, so each request id can be followed into this log.
    for (const { requestId, texts: count } of requests) {
      this.logger.debug?.({ msg: 'job done', jobId: job.id, requestId, texts: count, jobTexts: texts.length, ...roundTimings(timings) });
    }
    return { predictions: done.results, worker: WORKER_ID, modelVersion: this.model.model.version, timings };
  }
}

/** The job's texts and requests, or an UnrecoverableError: retrying cannot fix malformed data. */
export function jobData(data: unknown): Required<Pick<PredictionJobData, 'texts' | 'requests'>> {
  const { texts, requests } = (typeof data === 'object' && data !== null ? data : {}) as Partial<PredictionJobData>;
  if (!Array.isArray(texts) || texts.length === 0 || !texts.every((t) => typeof t === 'string')) {
    throw new UnrecoverableError('job data must have a non-empty texts array of strings');
  }
  const valid = Array.isArray(requests) && requests.every((r) => typeof r?.requestId === 'string' && Number.isInteger(r?.texts));
  return { texts, requests: valid ? requests : [] };
}

function roundTimings(timings: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(timings).map(([k, v]) => [k, Math.round(v * 10) / 10]));
}
