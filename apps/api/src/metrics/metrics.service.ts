import { InjectQueue } from '@nestjs/bullmq';
import { Injectable } from '@nestjs/common';
import { PREDICTION_QUEUE } from '@tagserve/queue';
import { Queue } from 'bullmq';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { withTimeout } from '../queue/queue-connection.service';

/** A scrape waits this long on Redis at most (Prometheus times out at 10 s): the rest of the metrics must not wait for it. */
const SCRAPE_REDIS_WAIT_MS = 500;

const JOB_STATES = ['waiting', 'active', 'delayed', 'completed', 'failed', 'prioritized'] as const;

/** The gateway's Prometheus registry; queue depth and worker count are read from Redis at scrape time. */
@Injectable()
export class MetricsService {
  readonly registry = new Registry();

  readonly httpDuration = new Histogram({
    name: 'tagserve_http_request_duration_seconds',
    help: 'HTTP request latency by method, route and status',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });

  readonly predictedTexts = new Counter({
    name: 'tagserve_predicted_texts_total',
    help: 'Texts answered by /predict',
    registers: [this.registry],
  });

  readonly inferenceDuration = new Histogram({
    name: 'tagserve_job_inference_duration_seconds',
    help: 'Time a job spent in the model on the worker (as reported in the job result)',
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [this.registry],
  });

  constructor(@InjectQueue(PREDICTION_QUEUE) queue: Queue) {
    collectDefaultMetrics({ register: this.registry, prefix: 'tagserve_api_' });
    // One Redis read per scrape, shared by the three gauges below (prom-client collects them concurrently).
    let reading: Promise<QueueSnapshot | undefined> | undefined;
    const snapshot = () => (reading ??= readQueue(queue).finally(() => (reading = undefined)));
    new Gauge({
      name: 'tagserve_queue_metrics_up',
      help: 'Whether this scrape read the queue and worker gauges from Redis (0: Redis unreachable, those gauges omitted)',
      registers: [this.registry],
      async collect() {
        this.set((await snapshot()) ? 1 : 0);
      },
    });
    new Gauge({
      name: 'tagserve_queue_jobs',
      help: 'Jobs in the prediction queue by state (omitted while Redis is unreachable)',
      labelNames: ['state'] as const,
      registers: [this.registry],
      async collect() {
        const counts = (await snapshot())?.counts;
        this.reset();
        if (counts) for (const state of JOB_STATES) this.set({ state }, counts[state] ?? 0);
      },
    });
    new Gauge({
      name: 'tagserve_workers',
      help: 'Workers registered with Redis, each with its model loaded (NaN while Redis is unreachable)',
      registers: [this.registry],
      async collect() {
        // A gauge without labels cannot be left out: NaN says "unknown" where 0 would claim no worker.
        this.set((await snapshot())?.workers ?? NaN);
      },
    });
  }
}

interface QueueSnapshot {
  counts: Record<string, number>;
  workers: number;
}

/** The queue's gauges from Redis, or undefined when it is away: the api's own metrics are served regardless. */
async function readQueue(queue: Queue): Promise<QueueSnapshot | undefined> {
  try {
    const client = await withTimeout(queue.client, SCRAPE_REDIS_WAIT_MS);
    if (client.status !== 'ready') return undefined;
    const [counts, workers] = await withTimeout(Promise.all([queue.getJobCounts(...JOB_STATES), queue.getWorkersCount()]), SCRAPE_REDIS_WAIT_MS);
    return { counts, workers };
  } catch {
    return undefined;
  }
}
