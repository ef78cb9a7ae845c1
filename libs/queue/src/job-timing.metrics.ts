import { Histogram, Registry } from 'prom-client';
import type { JobTimings } from './prediction-job';

/** 1 ms to 10 s: a lone job's model time at the bottom, a 504-bound queue wait at the top. */
const JOB_TIME_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/**
 * The three parts of a job's time on a worker (JobTimings) as Prometheus histograms, apart as TEI
 * and Triton report them. The gateway registers them as `tagserve_job_*` (every answered job, from
 * the results), each worker as `tagserve_worker_job_*` (its own jobs).
 */
export function jobTimingHistograms(registry: Registry, prefix: 'tagserve_job' | 'tagserve_worker_job') {
  const histogram = (suffix: string, help: string) => new Histogram({ name: `${prefix}_${suffix}`, help, buckets: JOB_TIME_BUCKETS, registers: [registry] });
  const queueWait = histogram('queue_wait_seconds', 'Time a job waited in Redis until a worker took it');
  const batchWait = histogram('batch_wait_seconds', "Time a job's texts waited in the worker's micro-batcher before their inference started");
  const modelTime = histogram('model_seconds', "Model time of the inferences that held a job's texts");
  return {
    /** Records one job's timings (milliseconds, as in the job result). */
    observe({ queueMs, batchWaitMs, modelMs }: JobTimings): void {
      queueWait.observe(queueMs / 1000);
      batchWait.observe(batchWaitMs / 1000);
      modelTime.observe(modelMs / 1000);
    },
  };
}
