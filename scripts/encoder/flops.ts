/** The encoder's arithmetic from its graph, and the time one core needs for it at best. */
import * as fs from 'fs';
import * as path from 'path';
import * as transformers from '@huggingface/transformers';
import { Graph } from './graph-rewrite';

/**
 * Multiply-accumulates per token of every matrix product with a constant [K, N] weight (the
 * per-token projections), in any of the files: fp32 MatMul, weight-only int8 (DequantizeLinear ->
 * MatMul) or DynamicQuantizeMatMul.
 */
export function macsPerToken(onnxFile: string): { macs: number; matmuls: number } {
  const g = Graph.decode(fs.readFileSync(onnxFile));
  const weightDims = (name: string): number[] => {
    if (g.inits.has(name)) return g.dims(name);
    const dq = g.producer(name);
    return dq?.opType === 'DequantizeLinear' ? g.dims(dq.input![0]) : [];
  };
  let macs = 0;
  let matmuls = 0;
  for (const n of g.nodes) {
    if (n.opType !== 'MatMul' && n.opType !== 'DynamicQuantizeMatMul') continue;
    const dims = weightDims(n.input![1]);
    // head_w multiplies one pooled row per text (the output of the mean's Div), not one per token.
    if (dims.length !== 2 || g.producer(n.input![0])?.opType === 'Div') continue;
    macs += dims[0] * dims[1];
    matmuls++;
  }
  return { macs, matmuls };
}

/** The one ONNX file of an artifact's encoder directory. */
export function encoderOnnxFile(encoderDir: string): string {
  const files = fs.readdirSync(path.join(encoderDir, 'onnx')).filter((f) => f.endsWith('.onnx'));
  if (files.length !== 1) throw new Error(`${encoderDir}/onnx: expected one .onnx file, found ${files.join(', ') || 'none'}`);
  return path.join(encoderDir, 'onnx', files[0]);
}

/** fp32 FLOPs per second of one core: clock × 2 FMA pipes × lanes (AVX-512: 16, AVX2: 8) × 2. */
export function fp32PeakGflops(): { gflops: number; ghz: number; isa: string } {
  const info = fs.readFileSync('/proc/cpuinfo', 'utf8');
  const flags = /^flags\s*:(.*)$/m.exec(info)?.[1].split(' ') ?? [];
  const ghz = Number(/^cpu MHz\s*:\s*([\d.]+)/m.exec(info)?.[1] ?? NaN) / 1000;
  const isa = flags.includes('avx512f') ? 'avx512' : flags.includes('fma') ? 'avx2+fma' : 'sse';
  const lanes = isa === 'avx512' ? 16 : isa === 'avx2+fma' ? 8 : 4;
  const vnni = flags.includes('avx512_vnni') || flags.includes('avx_vnni') ? ' +vnni' : ' (no vnni)';
  return { gflops: ghz * 2 * lanes * 2, ghz, isa: isa + vnni };
}

export type Encoded = Record<'input_ids' | 'attention_mask', { data: BigInt64Array; dims: number[] }>;
export type Tokenize = (texts: string[]) => Encoded;

/** The encoder directory's own tokenizer (Transformers.js, local files only), padding to the longest text. */
export async function loadTokenizer(encoderDir: string): Promise<Tokenize> {
  const dir = path.resolve(encoderDir);
  const { env, AutoTokenizer } = transformers;
  env.allowRemoteModels = false;
  env.localModelPath = path.dirname(dir) + path.sep;
  const tokenizer = (await AutoTokenizer.from_pretrained(path.basename(dir))) as unknown as (t: string[], o: object) => Encoded;
  return (texts) => tokenizer(texts, { padding: true, truncation: true });
}

/** Mean tokens per text (each text alone: no padding). */
export function meanTokens(tokenize: Tokenize, texts: string[]): number {
  return texts.reduce((a, t) => a + tokenize([t]).input_ids.dims[1], 0) / texts.length;
}
