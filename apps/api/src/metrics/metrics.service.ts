import { InjectQueue } from '@nestjs/bullmq';
import { Injectable } from '@nestjs/common';
import { PREDICTION_QUEUE } from '@tagserve/queue';
import { Queue } from 'bullmq';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { QueueConnection } from '../queue/queue-connection.service';

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

  /** Worker-side timings of answered jobs (JobTimings), as reported in the job result. */
  readonly jobQueueWait = jobHistogram(this.registry, 'tagserve_job_queue_wait_seconds', 'Time a job waited in Redis until a worker took it');
  readonly jobBatchWait = jobHistogram(this.registry, 'tagserve_job_batch_wait_seconds', "Time a job's texts waited in the worker's micro-batcher before their inference started");
  readonly jobModelTime = jobHistogram(this.registry, 'tagserve_job_model_seconds', "Model time of the inferences that held a job's texts");

  constructor(@InjectQueue(PREDICTION_QUEUE) queue: Queue, connection: QueueConnection) {
    collectDefaultMetrics({ register: this.registry, prefix: 'tagserve_api_' });
    new Gauge({
      name: 'tagserve_queue_jobs',
      help: 'Jobs in the prediction queue by state',
      labelNames: ['state'] as const,
      registers: [this.registry],
      async collect() {
        // While Redis is away the gateway's own metrics are still served, without these gauges
        // (commands are bounded by the connection's timeout, see producerConnection).
        this.reset();
        if (!connection.ready) return;
        const counts = await queue.getJobCounts(...JOB_STATES).catch(() => undefined);
        for (const state of JOB_STATES) if (counts) this.set({ state }, counts[state] ?? 0);
      },
    });
    new Gauge({
      name: 'tagserve_workers',
      help: 'Workers registered with Redis (each has its model loaded)',
      registers: [this.registry],
      async collect() {
        this.reset();
        if (!connection.ready) return;
        const count = await queue.getWorkersCount().catch(() => undefined);
        if (count !== undefined) this.set(count);
      },
    });
  }
}

function jobHistogram(registry: Registry, name: string, help: string): Histogram {
  return new Histogram({ name, help, buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10], registers: [registry] });
}
