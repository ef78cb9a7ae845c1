/*
 * onnxruntime-node hands back typed arrays from Node's main realm, but jest runs test code in a vm
 * context with its own Float32Array & co., so onnxruntime-common's `instanceof` checks fail
 * ("A float32 tensor's data must be type of Float32Array"). Use the main realm's constructors in
 * this sandbox; this must run before onnxruntime is loaded, hence the require()s below.
 */
import * as vm from 'vm';
for (const name of [
  'ArrayBuffer', 'Float32Array', 'Float64Array', 'Int8Array', 'Uint8Array', 'Uint8ClampedArray', 'Int16Array',
  'Uint16Array', 'Int32Array', 'Uint32Array', 'BigInt64Array', 'BigUint64Array',
]) {
  (globalThis as Record<string, unknown>)[name] = vm.runInThisContext(name);
}
import * as fs from 'fs';
import * as path from 'path';
import type * as EncoderModule from './text-encoder';

const { TextEncoder } = require('./text-encoder') as typeof EncoderModule;
type EmbeddingPooling = EncoderModule.EmbeddingPooling;

/** The shared pretrained encoder, at ../shared/models/use-lite from the repo root. */
const ENCODER_DIR = path.resolve(__dirname, '..', '..', '..', '..', 'shared', 'models', 'use-lite');

function cosine(a: Float32Array, b: Float32Array): number {
  let d = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    d += a[i] * b[i];
    na += a[i] * a[i];
    nb += b[i] * b[i];
  }
  return d / Math.sqrt(na * nb);
}

describe('TextEncoder (real use-lite model)', () => {
  jest.setTimeout(120_000);
  const runtime = { intraOpThreads: 1, interOpThreads: 1 };

  it('finds the shared model', () => {
    expect(fs.existsSync(path.join(ENCODER_DIR, 'onnx', 'model_quantized.onnx'))).toBe(true);
  });

  for (const pooling of ['mean', 'sentence'] as EmbeddingPooling[]) {
    it(`embeds texts into 512-d unit vectors; similar texts are closer (q8, ${pooling})`, async () => {
      const enc = await TextEncoder.load(ENCODER_DIR, runtime, 'q8', pooling);
      try {
        const texts = [
          'Transfer learning with transformers for text classification.',
          'Fine-tuning BERT for sentiment analysis of movie reviews.',
          'A recipe for baking sourdough bread at home.',
        ];
        const [a, b, c] = await enc.embed(texts);
        for (const v of [a, b, c]) {
          expect(v).toBeInstanceOf(Float32Array);
          expect(v.length).toBe(512);
          expect(Math.hypot(...v)).toBeCloseTo(1, 4);
        }
        expect(cosine(a, b)).toBeGreaterThan(cosine(a, c));
        expect(cosine(a, b)).toBeGreaterThan(cosine(b, c));
        // Padding does not change a text's embedding.
        const [alone] = await enc.embed([texts[2]]);
        expect(cosine(alone, c)).toBeGreaterThan(0.9999);
        expect(await enc.embed([])).toEqual([]);
      } finally {
        await enc.dispose();
      }
    });
  }

  it('loads the fp32 weights too', async () => {
    const enc = await TextEncoder.load(ENCODER_DIR, runtime, 'fp32', 'mean');
    try {
      const [v] = await enc.embed(['object detection with YOLO']);
      expect(v.length).toBe(512);
    } finally {
      await enc.dispose();
    }
  });

  it('fails clearly when the weights for a dtype are missing', async () => {
    await expect(TextEncoder.load(path.join(ENCODER_DIR, 'nope'), runtime, 'q8')).rejects.toThrow(/not found/);
  });
});
