import { ChunkResult, orderChunks, predictionRows, splitIntoChunks, textsDone } from './bulk-job';

const texts = Array.from({ length: 10 }, (_, i) => `text ${i}`);

/** What a worker would return for a chunk: tag 'a' for even rows, 'b' for odd ones. */
function result(chunk: { offset: number; texts: string[]; expected?: string[] }): ChunkResult {
  const tags = chunk.texts.map((_, i) => ((chunk.offset + i) % 2 === 0 ? 'a' : 'b'));
  return { ...chunk, labels: ['a', 'b'], tags, probabilities: tags.map((t) => (t === 'a' ? [0.9, 0.1] : [0.2, 0.8])), modelVersion: 'v', worker: 'w' };
}

describe('bulk jobs: chunks and their aggregation', () => {
  it('splits texts and expected tags into ordered chunks, the last one shorter', () => {
    const chunks = splitIntoChunks(
      texts,
      4,
      texts.map((_, i) => `tag${i}`),
    );
    expect(chunks.map((c) => [c.offset, c.texts.length])).toEqual([
      [0, 4],
      [4, 4],
      [8, 2],
    ]);
    expect(chunks[2]).toEqual({ offset: 8, texts: ['text 8', 'text 9'], expected: ['tag8', 'tag9'] });
    expect(splitIntoChunks(texts, 4)[0].expected).toBeUndefined();
  });

  it('orders chunk results by offset whatever order they come in, dropping malformed values', () => {
    const results = splitIntoChunks(texts, 3).map(result);
    const ordered = orderChunks([results[2], 'junk', results[0], null, { offset: 'x' }, results[3], results[1]]);
    expect(ordered.map((c) => c.offset)).toEqual([0, 3, 6, 9]);
  });

  it('pages rows across chunk boundaries, in input order, with the row index', () => {
    const chunks = orderChunks(splitIntoChunks(texts, 3).map(result));
    const page = predictionRows(chunks, 2, 5);
    expect(page.map((r) => r.index)).toEqual([2, 3, 4, 5, 6]);
    expect(page.map((r) => r.input_text)).toEqual(['text 2', 'text 3', 'text 4', 'text 5', 'text 6']);
    expect(page[1]).toEqual({ index: 3, input_text: 'text 3', predicted_tag: 'b', predicted_probabilities: { a: 0.2, b: 0.8 } });
    expect(predictionRows(chunks, 8, 100).map((r) => r.index)).toEqual([8, 9]);
    expect(predictionRows(chunks, 10, 5)).toEqual([]);
    expect(predictionRows(chunks, 0, 10)).toHaveLength(10);
  });

  it('carries the expected tag of evaluate rows', () => {
    const chunks = orderChunks(
      splitIntoChunks(
        texts,
        4,
        texts.map(() => 'a'),
      ).map(result),
    );
    expect(predictionRows(chunks, 0, 1)[0].tag).toBe('a');
  });

  it('counts texts done from chunks done: exact at the end, never above the total', () => {
    const data = { total: 10, chunkSize: 4, chunks: 3 };
    expect(textsDone(data, 0)).toBe(0);
    expect(textsDone(data, 2)).toBe(8);
    expect(textsDone({ total: 10, chunkSize: 4, chunks: 3 }, 3)).toBe(10);
    expect(textsDone({ total: 9, chunkSize: 4, chunks: 3 }, 2)).toBe(8);
  });
});
