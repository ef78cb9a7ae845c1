import { InjectFlowProducer, InjectQueue } from '@nestjs/bullmq';
import { ConflictException, Inject, Injectable, Logger, NotFoundException } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import type { TagserveConfigService } from '@tagserve/config';
import {
  BULK_JOB,
  BULK_QUEUE,
  BulkJobData,
  BulkJobResult,
  BulkKind,
  CHUNK_JOB,
  CHUNK_QUEUE,
  chunkJobId,
  ChunkResult,
  orderChunks,
  splitIntoChunks,
  textsDone,
} from '@tagserve/queue';
import { FlowProducer, Job, Queue } from 'bullmq';
import { randomUUID } from 'node:crypto';
import { ApiKeys } from '../auth/api-keys';
import { clip } from '../http/json-body';
import { QueueConnection } from '../queue/queue-connection.service';
import type { BulkInput } from './bulk-input';
import { jobVisibleTo } from './job-owner';

export const BULK_FLOW = 'bulk';

export type BulkState = 'queued' | 'active' | 'completed' | 'failed' | 'canceled';

/** What GET /jobs/{id} says about a bulk job (without its predictions). */
export interface BulkJobView {
  id: string;
  kind: BulkKind;
  state: BulkState;
  progress: { texts_done: number; texts_total: number; chunks_done: number; chunks_total: number };
  created_at: string;
  finished_at: string | null;
  canceled_at: string | null;
  /** When the results go (JOB_RESULT_TTL after finishing); null while running. */
  expires_at: string | null;
  model_versions: string[];
  error?: string;
  performance?: BulkJobResult['performance'];
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/**
 * Bulk jobs as BullMQ flows (see libs/queue bulk-job.ts): submitted in one FlowProducer call,
 * read back through BullMQ's own view of the flow (state, dependency counts, children's values),
 * canceled with removeUnprocessedChildren. Nothing is scheduled by the gateway itself.
 */
@Injectable()
export class JobsService {
  private readonly logger = new Logger(JobsService.name);
  private readonly chunkSize: number;
  private readonly ttlMs: number;
  private readonly attempts: number;

  constructor(
    @InjectFlowProducer(BULK_FLOW) private readonly flows: FlowProducer,
    @InjectQueue(BULK_QUEUE) private readonly bulkQueue: Queue<BulkJobData, BulkJobResult>,
    private readonly connection: QueueConnection,
    private readonly keys: ApiKeys,
    @Inject(ConfigService) config: TagserveConfigService,
  ) {
    this.chunkSize = config.get('JOBS_CHUNK_SIZE');
    this.ttlMs = config.get('JOB_RESULT_TTL') * 1000;
    this.attempts = config.get('JOB_ATTEMPTS');
  }

  /**
   * Queues a bulk job: a parent in BULK_QUEUE, one chunk job per JOBS_CHUNK_SIZE texts in CHUNK_QUEUE.
   * `caller` (here and below) is the id of the request's API key (ApiKeys.identify), null with keys off.
   */
  async submit(kind: BulkKind, input: BulkInput, requestId: string, caller: string | null): Promise<BulkJobView> {
    const id = randomUUID();
    const chunks = splitIntoChunks(input.texts, this.chunkSize, input.tags);
    const data: BulkJobData = { kind, total: input.texts.length, chunkSize: this.chunkSize, chunks: chunks.length };
    if (this.keys.enabled && caller !== null) data.owner = caller;
    const ttlSeconds = this.ttlMs / 1000;
    await this.connection.run(() =>
      this.flows.add({
        name: BULK_JOB,
        queueName: BULK_QUEUE,
        data,
        // Cleaned up by BullMQ once older than the TTL; reads treat it as gone from the TTL on (see view).
        opts: { jobId: id, removeOnComplete: { age: ttlSeconds }, removeOnFail: { age: ttlSeconds } },
        children: chunks.map((chunk, index) => ({
          name: CHUNK_JOB,
          queueName: CHUNK_QUEUE,
          data: chunk,
          opts: {
            jobId: chunkJobId(id, index),
            attempts: this.attempts,
            backoff: { type: 'exponential', delay: 200 },
            // A chunk that fails for good fails the whole job (its failedReason names the chunk).
            failParentOnFailure: true,
            // Its result lives on in the parent (BullMQ copies it there on completion).
            removeOnComplete: true,
            removeOnFail: { age: ttlSeconds },
          },
        })),
      }),
    );
    this.logger.log({ msg: 'bulk job queued', requestId, jobId: id, kind, texts: data.total, chunks: data.chunks, owner: data.owner });
    return this.view(id, caller);
  }

  /** The job's state and progress; 404 for an unknown id, another kind of job, one past its TTL, or another key's. */
  async view(id: string, caller: string | null): Promise<BulkJobView> {
    const job = await this.find(id, caller);
    return this.describe(job);
  }

  /** Predictions offset..offset+limit-1 of a completed job, in input order; [] before it completed. */
  async predictions(id: string, caller: string | null): Promise<ChunkResult[]> {
    const job = await this.find(id, caller);
    return orderChunks(Object.values(await this.connection.run(() => job.getChildrenValues<ChunkResult>())));
  }

  /** Cancels the chunks that have not run; 409 once the job is finished or nothing is left to cancel. */
  async cancel(id: string, caller: string | null): Promise<BulkJobView> {
    const job = await this.find(id, caller);
    const state = await this.connection.run(() => job.getState());
    if (state !== 'waiting-children' || job.data.canceledAt !== undefined) {
      const view = await this.describe(job);
      throw new ConflictException({ message: `Job ${id} is ${view.state}: nothing left to cancel`, details: { state: view.state } });
    }
    // The flag first: the parent, moved on once its last chunk is gone, must see it when summed up.
    await this.connection.run(async () => {
      await job.updateData({ ...job.data, canceledAt: Date.now() });
      await job.removeUnprocessedChildren();
    });
    this.logger.log({ msg: 'bulk job canceled', jobId: id });
    return this.view(id, caller);
  }

  private async find(id: string, caller: string | null): Promise<Job<BulkJobData, BulkJobResult>> {
    // A job id is a UUID (36 characters): anything longer is echoed clipped, not whole.
    const notFound = new NotFoundException(`No job ${clip(id, 40)} (unknown, or its results expired)`);
    if (!UUID.test(id)) throw notFound;
    const job = await this.connection.run(() => Job.fromId<BulkJobData, BulkJobResult>(this.bulkQueue, id));
    if (!job || job.name !== BULK_JOB) throw notFound;
    if (job.finishedOn && Date.now() - job.finishedOn > this.ttlMs) {
      // BullMQ removes old finished jobs only when later ones finish: the TTL holds from here.
      await job.remove().catch(() => undefined);
      throw notFound;
    }
    // Another key's job is refused exactly like an unknown one (same status, same message, and
    // before its state is read): its id cannot be told from one that never existed (see jobVisibleTo).
    if (!jobVisibleTo(job.data.owner, caller, this.keys.enabled)) throw notFound;
    return job;
  }

  private async describe(job: Job<BulkJobData, BulkJobResult>): Promise<BulkJobView> {
    const [state, counts] = await this.connection.run(() => Promise.all([job.getState(), job.getDependenciesCount({ processed: true, failed: true })]));
    const data = job.data;
    const result = job.returnvalue && typeof job.returnvalue === 'object' ? job.returnvalue : undefined;
    const processed = counts.processed ?? 0;
    const view: BulkJobView = {
      id: String(job.id),
      kind: data.kind,
      state: bulkState(state, data, result, processed),
      progress: {
        texts_done: result ? result.done : textsDone(data, processed),
        texts_total: data.total,
        chunks_done: processed,
        chunks_total: data.chunks,
      },
      created_at: new Date(job.timestamp).toISOString(),
      finished_at: job.finishedOn ? new Date(job.finishedOn).toISOString() : null,
      canceled_at: data.canceledAt ? new Date(data.canceledAt).toISOString() : null,
      expires_at: job.finishedOn ? new Date(job.finishedOn + this.ttlMs).toISOString() : null,
      model_versions: result?.modelVersions ?? [],
    };
    if (view.state === 'failed') view.error = job.failedReason || 'failed';
    if (result?.performance) view.performance = result.performance;
    return view;
  }
}

/** BullMQ's state of the parent, in the API's words. */
export function bulkState(state: string, data: Pick<BulkJobData, 'canceledAt'>, result: BulkJobResult | undefined, chunksDone: number): BulkState {
  if (state === 'failed') return 'failed';
  if (data.canceledAt !== undefined || result?.canceled) return 'canceled';
  // The job's hash is read before its state: a parent that completes in between reads 'completed'
  // without its result (no metrics, no finished_at). It counts as completed once its result is read.
  if (state === 'completed' && result) return 'completed';
  // waiting-children: chunks still to run; wait/prioritized/active (or completed, its result not
  // read yet): every chunk done, being summed up.
  if (state === 'waiting-children' && chunksDone === 0) return 'queued';
  return 'active';
}
