import type { ClassificationReport } from '@tagserve/model/metrics';

/**
 * Bulk jobs (POST /jobs, POST /evaluate) are BullMQ flows: a parent job (BULK_JOB, in BULK_QUEUE)
 * whose children (CHUNK_JOB, in CHUNK_QUEUE) each carry JOBS_CHUNK_SIZE of the texts. Every worker
 * takes chunks, so they spread over all of them and a dead worker's chunk goes to another (stalled
 * job recovery, as for /predict jobs); BullMQ stores each chunk's result in its parent and moves
 * the parent on once every chunk is done, when a worker sums them up.
 */
export const BULK_JOB = 'bulk';
export const CHUNK_JOB = 'chunk';

/**
 * The parents' queue. Not the prediction queue: /predict jobs complete with a count-bounded
 * `removeOnComplete` (JOB_KEEP_COMPLETED), which trims the oldest of ANY completed job of their
 * queue, so a finished bulk job there would vanish after the next 1,000 predictions instead of
 * after JOB_RESULT_TTL.
 */
export const BULK_QUEUE = 'bulk-jobs';

/**
 * The chunks' queue, with a BullMQ worker of its own in every worker process taking at most
 * JOBS_CHUNKS_PER_WORKER chunks at a time. Chunks on the prediction queue with a lower priority
 * than /predict jobs were not enough: a priority orders what waits in Redis, but a worker with
 * WORKER_CONCURRENCY 64 took 32 chunks at once, and their texts, first in its micro-batcher,
 * made a /predict request behind them time out (504 at 5 s, `test/jobs`). Here a worker holds
 * few chunks, so /predict texts wait behind a batch or so of chunk texts at most.
 */
export const CHUNK_QUEUE = 'bulk-chunks';

export type BulkKind = 'tag' | 'evaluate';

/** The parent job's data: what was asked, not the texts (those travel in the chunks). */
export interface BulkJobData {
  kind: BulkKind;
  total: number;
  chunkSize: number;
  chunks: number;
  /** Set by DELETE /jobs/{id}; the chunks that had not run are removed at the same time. */
  canceledAt?: number;
  /**
   * The id of the API key that created the job (a prefix of the key's SHA-256, never the key), set
   * when API keys are on: only that key sees the job. Absent when keys were off.
   */
  owner?: string;
}

/** One chunk: `texts` are the bulk job's texts from `offset` on; `expected` their tags (evaluate). */
export interface ChunkJobData {
  offset: number;
  texts: string[];
  expected?: string[];
}

/** What a chunk returns (stored by BullMQ in its parent): compact, the labels once per chunk. */
export interface ChunkResult {
  offset: number;
  texts: string[];
  /** The model's labels, the order of each row of `probabilities`. */
  labels: string[];
  tags: string[];
  probabilities: number[][];
  expected?: string[];
  modelVersion: string;
  worker: string;
}

/** What the parent returns once every chunk is done (or it was canceled). */
export interface BulkJobResult {
  canceled: boolean;
  /** Texts with a prediction. */
  done: number;
  modelVersions: string[];
  /** Evaluate jobs: metrics in /performance's shape, over the texts whose tag the model knows. */
  performance?: ClassificationReport & { model_versions: string[]; num_unknown_tags: number };
}

export function chunkJobId(bulkId: string, index: number): string {
  return `${bulkId}-${index}`;
}

/** Splits texts (and their expected tags) into chunks of `chunkSize`, in order. */
export function splitIntoChunks(texts: string[], chunkSize: number, expected?: string[]): ChunkJobData[] {
  const chunks: ChunkJobData[] = [];
  for (let offset = 0; offset < texts.length; offset += chunkSize) {
    const chunk: ChunkJobData = { offset, texts: texts.slice(offset, offset + chunkSize) };
    if (expected) chunk.expected = expected.slice(offset, offset + chunkSize);
    chunks.push(chunk);
  }
  return chunks;
}

/** Chunk results (as BullMQ returns them, in no order) sorted by offset; anything malformed is dropped. */
export function orderChunks(values: Iterable<unknown>): ChunkResult[] {
  const chunks: ChunkResult[] = [];
  for (const value of values) {
    const chunk = value as ChunkResult;
    if (chunk && typeof chunk === 'object' && Number.isInteger(chunk.offset) && Array.isArray(chunk.tags) && Array.isArray(chunk.texts)) chunks.push(chunk);
  }
  return chunks.sort((a, b) => a.offset - b.offset);
}

/** Texts done, from the chunk counts: exact once every chunk is done, within one chunk's size before. */
export function textsDone(data: Pick<BulkJobData, 'total' | 'chunkSize' | 'chunks'>, processedChunks: number): number {
  if (processedChunks >= data.chunks) return data.total;
  return Math.min(data.total, processedChunks * data.chunkSize);
}

export interface PredictionRow {
  index: number;
  input_text: string;
  predicted_tag: string;
  predicted_probabilities: Record<string, number>;
  tag?: string;
}

/** Rows offset..offset+limit-1 of the ordered chunks, in /predict's prediction shape plus the row index. */
export function predictionRows(chunks: ChunkResult[], offset: number, limit: number): PredictionRow[] {
  const rows: PredictionRow[] = [];
  const end = offset + limit;
  for (const chunk of chunks) {
    if (chunk.offset + chunk.tags.length <= offset) continue;
    if (chunk.offset >= end) break;
    for (let i = Math.max(0, offset - chunk.offset); i < chunk.tags.length && chunk.offset + i < end; i++) rows.push(chunkRow(chunk, i));
  }
  return rows;
}

function chunkRow(chunk: ChunkResult, i: number): PredictionRow {
  const row: PredictionRow = {
    index: chunk.offset + i,
    input_text: chunk.texts[i],
    predicted_tag: chunk.tags[i],
    predicted_probabilities: Object.fromEntries(chunk.labels.map((label, j) => [label, chunk.probabilities[i]?.[j]])),
  };
  if (chunk.expected) row.tag = chunk.expected[i];
  return row;
}

/** Every row of the ordered chunks, one at a time (for the CSV download). */
export function* allRows(chunks: ChunkResult[]): Generator<PredictionRow> {
  for (const chunk of chunks) for (let i = 0; i < chunk.tags.length; i++) yield chunkRow(chunk, i);
}
