import { InjectQueue } from '@nestjs/bullmq';
import { Injectable } from '@nestjs/common';
import { PREDICTION_QUEUE } from '@tagserve/queue';
import { Queue } from 'bullmq';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { REDIS_WAIT_MS, withTimeout } from '../queue/queue-connection.service';

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
    new Gauge({
      name: 'tagserve_queue_jobs',
      help: 'Jobs in the prediction queue by state',
      labelNames: ['state'] as const,
      registers: [this.registry],
      async collect() {
        // Bounded: a scrape while Redis is away answers 503 instead of hanging.
        const counts = await withTimeout(queue.getJobCounts(...JOB_STATES), REDIS_WAIT_MS);
        for (const state of JOB_STATES) this.set({ state }, counts[state] ?? 0);
      },
    });
    new Gauge({
      name: 'tagserve_workers',
      help: 'Workers registered with Redis (each has its model loaded)',
      registers: [this.registry],
      async collect() {
        this.set(await withTimeout(queue.getWorkersCount(), REDIS_WAIT_MS));
      },
    });
  }
}
