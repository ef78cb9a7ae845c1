import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { materialize } from '@tagserve/dvc-store';
import { EmbeddingPooling, TextEncoder } from './text-encoder';

const ROOT = path.resolve(__dirname, '..', '..', '..');

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

describe('TextEncoder (real use-lite model, as shipped in the DVC store)', () => {
  jest.setTimeout(120_000);
  const runtime = { intraOpThreads: 1, interOpThreads: 1 };
  let tmp: string;
  let ENCODER_DIR: string;

  beforeAll(async () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tagserve-encoder-'));
    await materialize({
      dvcFile: path.join(ROOT, 'stores', 'model.dvc'),
      storeDir: path.join(ROOT, 'stores', 'blob'),
      targetDir: path.join(tmp, 'model'),
    });
    ENCODER_DIR = path.join(tmp, 'model', 'encoder');
  });

  afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it('ships the int8 weights (npm run optimize:encoder)', () => {
    expect(fs.existsSync(path.join(ENCODER_DIR, 'onnx', 'model_int8.onnx'))).toBe(true);
  });

  for (const pooling of ['mean', 'sentence'] as EmbeddingPooling[]) {
    it(`embeds texts into 512-d unit vectors; similar texts are closer (int8, ${pooling})`, async () => {
      const enc = await TextEncoder.load(ENCODER_DIR, runtime, 'int8', pooling);
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
        // A text's embedding does not depend on its batch-mates: exactly the same alone (the int8
        // encoder quantizes each call's input with one scale, so it runs one text per call).
        const [alone] = await enc.embed([texts[2]]);
        expect(Array.from(alone)).toEqual(Array.from(c));
        expect(await enc.embed([])).toEqual([]);
      } finally {
        await enc.dispose();
      }
    });
  }

  it('fails clearly when the weights for a dtype are missing', async () => {
    // The artifact ships only the int8 file.
    await expect(TextEncoder.load(ENCODER_DIR, runtime, 'fp32')).rejects.toThrow(/not found/);
    await expect(TextEncoder.load(ENCODER_DIR, runtime, 'q8')).rejects.toThrow(/not found/);
    await expect(TextEncoder.load(path.join(ENCODER_DIR, 'nope'), runtime, 'int8')).rejects.toThrow(/not found/);
  });
});
