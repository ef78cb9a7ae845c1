/**
 * Batch selection by a padded-token budget (TEI's max-batch-tokens): a padded inference costs
 * (texts × longest text) tokens, so texts of similar length go together. FIFO batches of 16 holdout
 * texts carry 1.52 padded tokens per real token; grouping by length brings that near 1.
 */

/** USE-lite's SentencePiece cuts the course's texts at 2.1–5.1 characters per token (median 3.5). */
export const CHARS_PER_TOKEN = 3.5;

export function estimateTokens(text: string): number {
  return Math.ceil(text.length / CHARS_PER_TOKEN) + 1;
}

/**
 * Removes and returns the next batch from `pending` (oldest first): the oldest text always goes
 * (so every text is served once it is the oldest), then the waiting texts closest to it in
 * length, while (texts × longest) stays within `maxTokens` and texts within `maxSize`. The batch
 * keeps queue order.
 */
export function takeByTokenBudget<T extends { text: string }>(pending: T[], maxSize: number, maxTokens: number, tokensOf = estimateTokens): T[] {
  if (pending.length === 0) return [];
  const lengths = pending.map((p) => tokensOf(p.text));
  const first = lengths[0];
  const order = lengths
    .map((_, i) => i)
    .slice(1)
    .sort((a, b) => Math.abs(lengths[a] - first) - Math.abs(lengths[b] - first) || a - b);
  const chosen = [0];
  let longest = first;
  for (const i of order) {
    if (chosen.length >= maxSize) break;
    const padded = Math.max(longest, lengths[i]) * (chosen.length + 1);
    if (padded > maxTokens) continue; // a shorter one further on may still fit
    chosen.push(i);
    longest = Math.max(longest, lengths[i]);
  }
  chosen.sort((a, b) => a - b);
  const batch = chosen.map((i) => pending[i]);
  for (let k = chosen.length - 1; k >= 0; k--) pending.splice(chosen[k], 1);
  return batch;
}
