import { InjectQueue } from '@nestjs/bullmq';
import { Injectable } from '@nestjs/common';
import type { Prediction } from '@tagserve/model/types';
import { jobTimingHistograms, PREDICTION_QUEUE } from '@tagserve/queue';
import { Queue } from 'bullmq';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { QueueConnection } from '../queue/queue-connection.service';

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

  /** QUEUE_ADD_REPLICA_ACKS: how long the WAIT for the replicas' acks took, by whether they confirmed the jobs. */
  readonly replicaAckWait = new Histogram({
    name: 'tagserve_replica_ack_wait_seconds',
    help: 'Time the gateway waited for replicas to confirm added jobs (Redis WAIT), by outcome',
    labelNames: ['confirmed'] as const,
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
    registers: [this.registry],
  });

  /** Worker-side timings of answered jobs (JobTimings), as reported in the job result. */
  readonly jobTimes = jobTimingHistograms(this.registry, 'tagserve_job');

  /**
   * Drift signals, per model version (a handful of values at once, two during a rollout): what the
   * answers look like, so a shift in the inputs shows even without labels. Counted at the gateway,
   * which sees every answer a client got, so the series outlive worker replicas (config/alerts.yml).
   */
  readonly predictionsByTag = new Counter({
    name: 'tagserve_predictions_total',
    help: 'Texts answered, by predicted tag and model version',
    labelNames: ['model_version', 'tag'] as const,
    registers: [this.registry],
  });

  readonly topProbability = new Histogram({
    name: 'tagserve_prediction_top_probability',
    help: "Highest class probability of each answered text, by model version (the model's confidence)",
    labelNames: ['model_version'] as const,
    // 4 classes: the top probability is at least 0.25; the finer buckets near 1 separate confident answers.
    buckets: [0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.99],
    registers: [this.registry],
  });

  readonly otherFallbacks = new Counter({
    name: 'tagserve_prediction_other_fallbacks_total',
    help: "Texts answered 'other' although another tag had the highest probability (a low-confidence fallback), by model version",
    labelNames: ['model_version'] as const,
    registers: [this.registry],
  });

  /** Counts one job's answered texts into the drift signals. */
  observePredictions(modelVersion: string, predictions: Prediction[]): void {
    let fallbacks = 0;
    for (const { predicted_tag: tag, predicted_probabilities: probabilities } of predictions) {
      let argmax = tag;
      let top = -1;
      for (const [label, p] of Object.entries(probabilities)) {
        if (p > top) [argmax, top] = [label, p];
      }
      this.predictionsByTag.inc({ model_version: modelVersion, tag });
      this.topProbability.observe({ model_version: modelVersion }, top);
      if (tag === 'other' && argmax !== 'other') fallbacks++;
    }
    if (fallbacks > 0) this.otherFallbacks.inc({ model_version: modelVersion }, fallbacks);
  }

  constructor(@InjectQueue(PREDICTION_QUEUE) queue: Queue, connection: QueueConnection) {
    collectDefaultMetrics({ register: this.registry, prefix: 'tagserve_api_' });
    // One Redis read per scrape, shared by the three gauges below (prom-client collects them concurrently).
    let reading: Promise<QueueSnapshot | undefined> | undefined;
    const snapshot = () => (reading ??= readQueue(queue, connection).finally(() => (reading = undefined)));
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
async function readQueue(queue: Queue, connection: QueueConnection): Promise<QueueSnapshot | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), SCRAPE_REDIS_WAIT_MS)));
  // client() also waits (bounded) for the first connection of a gateway that just started.
  const read = connection
    .client()
    .then(() => Promise.all([queue.getJobCounts(...JOB_STATES), queue.getWorkersCount()]))
    .then(
      ([counts, workers]) => ({ counts, workers }),
      () => undefined,
    );
  return Promise.race([read, timeout]).finally(() => clearTimeout(timer));
}
