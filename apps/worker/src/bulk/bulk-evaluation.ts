import { classificationReport } from '@tagserve/model/metrics';
import type { BulkJobResult, ChunkResult } from '@tagserve/queue';

/**
 * Metrics of an evaluate job in /performance's shape (weighted overall, macro, per class), over
 * the texts whose expected tag is one of the model's labels; the others are counted apart, since
 * no prediction of this model can be right for them.
 */
export function evaluateChunks(chunks: ChunkResult[]): NonNullable<BulkJobResult['performance']> {
  const labels = chunks[0]?.labels ?? [];
  const index = new Map(labels.map((label, i) => [label, i]));
  const yTrue: number[] = [];
  const yPred: number[] = [];
  let unknown = 0;
  for (const chunk of chunks) {
    chunk.tags.forEach((predicted, i) => {
      const expected = index.get(chunk.expected?.[i] ?? '');
      if (expected === undefined) unknown++;
      else {
        yTrue.push(expected);
        yPred.push(index.get(predicted) ?? -1);
      }
    });
  }
  return { ...classificationReport(yTrue, yPred, labels), model_versions: modelVersions(chunks), num_unknown_tags: unknown };
}

/** The model versions that answered, in the order they first appear (more than one during a rollout). */
export function modelVersions(chunks: ChunkResult[]): string[] {
  return [...new Set(chunks.map((chunk) => chunk.modelVersion))];
}
