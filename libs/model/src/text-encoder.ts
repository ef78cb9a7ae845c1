/**
 * Offline Transformers.js sentence encoder (e.g. USE-lite converted to the Transformers.js layout).
 * Loads strictly from local files: env.allowRemoteModels=false, env.localModelPath = parent of the
 * encoder directory, model id = its basename.
 */
import * as path from 'path';
import * as fs from 'fs';
import * as transformers from '@huggingface/transformers';
import type { EncoderRuntimeOptions } from './types';

/**
 * 'int8' = `npm run optimize:encoder`'s file: int8 weights per column behind DynamicQuantizeMatMul
 * (MLAS integer GEMM), 3.1x less CPU per holdout text than 'q8' and 2.1x less than 'fp32' on one
 * AVX2 core (scripts/encoder-profile.ts). 'q8' is the weight-only DequantizeLinear file that ORT
 * turns into MatMulNBits, which is slower than fp32 here.
 */
export type EncoderDtype = 'fp32' | 'q8' | 'int8';
/** 'sentence' = the model's sentence_embedding output; 'mean' = masked mean of last_hidden_state (L2-normalised). */
export type EmbeddingPooling = 'sentence' | 'mean';

export const ONNX_FILE_BY_DTYPE: Record<EncoderDtype, string> = {
  fp32: 'model.onnx',
  q8: 'model_quantized.onnx',
  int8: 'model_int8.onnx', // the file name Transformers.js reads for dtype 'int8'
};

export function isEncoderDtype(value: unknown): value is EncoderDtype {
  return typeof value === 'string' && Object.prototype.hasOwnProperty.call(ONNX_FILE_BY_DTYPE, value);
}

interface TensorLike {
  dims: number[];
  data: ArrayLike<number> | ArrayLike<bigint>;
}

type Tokenizer = (texts: string[], opts: { padding: boolean; truncation: boolean }) => Record<string, TensorLike>;
type Model = ((inputs: Record<string, TensorLike>) => Promise<Record<string, TensorLike>>) & {
  dispose?: () => Promise<unknown>;
};

/** Serialises loads: transformers' env is global, so two concurrent loads from different dirs must not interleave. */
let loadChain: Promise<unknown> = Promise.resolve();

export class TextEncoder {
  private constructor(
    private readonly tokenizer: Tokenizer,
    private readonly model: Model,
    readonly dim: number,
    readonly dtype: EncoderDtype,
    readonly pooling: EmbeddingPooling,
    readonly encoderDir: string,
  ) {}

  static async load(
    encoderDir: string,
    runtime: EncoderRuntimeOptions,
    dtype: EncoderDtype = 'q8',
    pooling: EmbeddingPooling = 'sentence',
  ): Promise<TextEncoder> {
    const dir = path.resolve(encoderDir);
    const onnx = path.join(dir, 'onnx', ONNX_FILE_BY_DTYPE[dtype]);
    if (!fs.existsSync(onnx)) throw new Error(`encoder weights not found for dtype ${dtype}: ${onnx}`);
    const run = async (): Promise<TextEncoder> => {
      const { env, AutoTokenizer, AutoModel } = transformers;
      env.allowRemoteModels = false;
      env.allowLocalModels = true;
      env.localModelPath = path.dirname(dir) + path.sep;
      const id = path.basename(dir);
      const tokenizer = (await AutoTokenizer.from_pretrained(id)) as unknown as Tokenizer;
      const model = (await AutoModel.from_pretrained(id, {
        dtype,
        device: 'cpu',
        session_options: {
          intraOpNumThreads: runtime.intraOpThreads,
          interOpNumThreads: runtime.interOpThreads,
        },
      })) as unknown as Model;
      const cfg = JSON.parse(fs.readFileSync(path.join(dir, 'config.json'), 'utf8')) as { hidden_size?: number };
      return new TextEncoder(tokenizer, model, cfg.hidden_size ?? 512, dtype, pooling, dir);
    };
    const p = loadChain.then(run, run);
    loadChain = p.catch(() => undefined);
    return p;
  }

  /** One L2-normalised vector per text: one padded inference over all texts (int8: one call per text). */
  async embed(texts: string[]): Promise<Float32Array[]> {
    if (texts.length === 0) return [];
    // DynamicQuantizeMatMul quantizes its input with one scale for the whole tensor, so in a padded
    // batch a text's embedding would depend on its batch-mates (holdout probabilities moved by up to
    // 0.046). The int8 encoder therefore runs one text per call: the same answer alone or batched,
    // and no padding, which made batch 1 cheaper per text than FIFO batches of 16 anyway (5.01 vs
    // 5.45 CPU ms per holdout text).
    if (this.dtype === 'int8' && texts.length > 1) {
      const out: Float32Array[] = [];
      for (const text of texts) out.push(...(await this.embedPadded([text])));
      return out;
    }
    return this.embedPadded(texts);
  }

  /** One padded inference over all texts; one L2-normalised vector per text. */
  private async embedPadded(texts: string[]): Promise<Float32Array[]> {
    const inputs = this.tokenizer(texts, { padding: true, truncation: true });
    const out = await this.model(inputs);
    const B = texts.length;
    if (this.pooling === 'sentence') {
      const se = out.sentence_embedding;
      if (!se) throw new Error('encoder has no sentence_embedding output');
      const H = se.dims[1];
      const data = se.data as ArrayLike<number>;
      const res: Float32Array[] = [];
      for (let b = 0; b < B; b++) res.push(l2(Float32Array.from({ length: H }, (_, j) => data[b * H + j])));
      return res;
    }
    const hs = out.last_hidden_state;
    if (!hs) throw new Error('encoder has no last_hidden_state output');
    const [, T, H] = hs.dims;
    const data = hs.data as ArrayLike<number>;
    const mask = inputs.attention_mask.data;
    const res: Float32Array[] = [];
    for (let b = 0; b < B; b++) {
      const v = new Float32Array(H);
      let cnt = 0;
      for (let t = 0; t < T; t++) {
        if (Number(mask[b * T + t]) === 0) continue;
        cnt++;
        const base = (b * T + t) * H;
        for (let j = 0; j < H; j++) v[j] += data[base + j];
      }
      if (cnt > 0) for (let j = 0; j < H; j++) v[j] /= cnt;
      res.push(l2(v));
    }
    return res;
  }

  async dispose(): Promise<void> {
    await this.model.dispose?.();
  }
}

function l2(v: Float32Array): Float32Array {
  let s = 0;
  for (let i = 0; i < v.length; i++) s += v[i] * v[i];
  const n = Math.sqrt(s);
  if (n > 0) for (let i = 0; i < v.length; i++) v[i] /= n;
  return v;
}
