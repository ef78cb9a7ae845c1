import { Inject, Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import type { TagserveConfigService } from '@tagserve/config';
import { jobTimingHistograms } from '@tagserve/queue';
import { createServer, Server } from 'node:http';
import { collectDefaultMetrics, Counter, Histogram, Registry } from 'prom-client';

/**
 * Per-worker Prometheus metrics: batch sizes, inference time, jobs. Each replica serves its own
 * /metrics on WORKER_METRICS_PORT (the usual one-target-per-replica scrape), inside the backend network.
 */
@Injectable()
export class WorkerMetricsService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(WorkerMetricsService.name);
  readonly registry = new Registry();
  private server?: Server;

  readonly batchSize = new Histogram({
    name: 'tagserve_batch_size',
    help: 'Texts per model inference (micro-batch size)',
    buckets: [1, 2, 4, 8, 16, 32, 64, 128],
    registers: [this.registry],
  });

  readonly batchDuration = new Histogram({
    name: 'tagserve_batch_inference_duration_seconds',
    help: 'Time of one padded model inference',
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
    registers: [this.registry],
  });

  /** Per job (JobTimings): the three parts of its time on the worker, apart. */
  readonly jobTimes = jobTimingHistograms(this.registry, 'tagserve_worker_job');

  readonly cacheLookups = new Counter({
    name: 'tagserve_prediction_cache_lookups_total',
    help: 'Prediction cache lookups by result (hit: answered without the model); none when PREDICTION_CACHE_SIZE=0',
    labelNames: ['result'] as const,
    registers: [this.registry],
  });

  readonly jobs = new Counter({
    name: 'tagserve_worker_jobs_total',
    help: 'Jobs finished by this worker, by outcome',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });

  readonly expiredJobs = new Counter({
    name: 'tagserve_worker_jobs_expired_total',
    help: 'Prediction jobs dropped without inference because their caller had already timed out (504)',
    registers: [this.registry],
  });

  readonly bulkTexts = new Counter({
    name: 'tagserve_worker_bulk_texts_total',
    help: 'Texts of bulk job chunks (POST /jobs, /evaluate) predicted by this worker',
    registers: [this.registry],
  });

  readonly requests = new Counter({
    name: 'tagserve_worker_requests_total',
    help: 'HTTP requests answered by the jobs this worker completed (a job carries one or more requests)',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });

  constructor(@Inject(ConfigService) private readonly config: TagserveConfigService) {
    collectDefaultMetrics({ register: this.registry, prefix: 'tagserve_worker_' });
  }

  onApplicationBootstrap(): void {
    const port = this.config.get('WORKER_METRICS_PORT');
    if (!port) return;
    this.server = createServer((req, res) => {
      if (req.url !== '/metrics') {
        res.writeHead(404).end();
        return;
      }
      this.registry.metrics().then(
        (body) => res.writeHead(200, { 'Content-Type': this.registry.contentType }).end(body),
        (err: Error) => res.writeHead(500).end(err.message),
      );
    });
    this.server.listen(port, () => this.logger.log({ msg: 'worker metrics listening', port }));
  }

  onApplicationShutdown(): void {
    this.server?.close();
  }
}
