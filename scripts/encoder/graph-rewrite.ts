/**
 * ONNX graph rewrites for the USE-lite encoder, done on the protobuf (no Python onnx here):
 *  - quantizeMatMuls: MatMul(x, W) [+ Add(bias)] with a constant 2-D W becomes one
 *    com.microsoft DynamicQuantizeMatMul (x quantized to u8 per call, W int8 per output column,
 *    bias added in the kernel), which ORT runs on MLAS's integer GEMM;
 *  - fuseLayerNorms: the hand-built layer norm (9 nodes: ReduceMean, Sub, Mul, ReduceMean, Add eps,
 *    Sqrt, Div, Mul scale, Add bias) becomes one LayerNormalization (opset 17), which ORT's own
 *    optimizer does not recognise in this form (its saved optimized model keeps all 8 ReduceMeans).
 */
import { onnx } from 'onnx-proto';

type Node = onnx.INodeProto;
type Tensor = onnx.ITensorProto;

const FLOAT = onnx.TensorProto.DataType.FLOAT;
const INT8 = onnx.TensorProto.DataType.INT8;
const UINT8 = onnx.TensorProto.DataType.UINT8;

export class Graph {
  readonly inits = new Map<string, Tensor>();

  constructor(readonly model: onnx.ModelProto) {
    for (const t of this.graph.initializer) this.inits.set(t.name!, t);
  }

  static decode(bytes: Uint8Array): Graph {
    return new Graph(onnx.ModelProto.decode(bytes));
  }

  get graph(): onnx.GraphProto {
    return this.model.graph as onnx.GraphProto;
  }

  get nodes(): Node[] {
    return this.graph.node;
  }

  consumers(name: string): Node[] {
    return this.nodes.filter((n) => n.input!.includes(name));
  }

  producer(name: string): Node | undefined {
    return this.nodes.find((n) => n.output!.includes(name));
  }

  /** A constant fp32 initializer as numbers, or null when `name` is not one. */
  floats(name: string): Float32Array | null {
    const t = this.inits.get(name);
    if (!t || t.dataType !== FLOAT) return null;
    if (t.rawData && t.rawData.length > 0) {
      const copy = new Uint8Array(t.rawData); // aligned copy
      return new Float32Array(copy.buffer, 0, copy.length / 4);
    }
    return Float32Array.from(t.floatData ?? []);
  }

  dims(name: string): number[] {
    return (this.inits.get(name)?.dims ?? []).map(Number);
  }

  addInit(name: string, dataType: number, dims: number[], data: Float32Array | Int8Array | Uint8Array): void {
    const raw = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    const t = onnx.TensorProto.create({ name, dataType, dims, rawData: Uint8Array.from(raw) });
    this.graph.initializer.push(t);
    this.inits.set(name, t);
  }

  /** Replaces `remove` (all of them) by `add`, placed where the first removed node was (inputs are all available there). */
  replace(remove: Node[], add: Node): void {
    const at = Math.min(...remove.map((n) => this.nodes.indexOf(n)));
    const keep = this.nodes.filter((n) => !remove.includes(n));
    keep.splice(at, 0, onnx.NodeProto.create(add));
    this.graph.node = keep;
  }

  /** Drops initializers no node reads any more. */
  prune(): void {
    const used = new Set(this.nodes.flatMap((n) => n.input!));
    this.graph.initializer = this.graph.initializer.filter((t) => used.has(t.name!));
    for (const name of [...this.inits.keys()]) if (!used.has(name)) this.inits.delete(name);
  }

  setOpset(domain: string, version: number): void {
    const entry = this.model.opsetImport.find((o) => (o.domain ?? '') === domain);
    if (entry) entry.version = Math.max(Number(entry.version), version);
    else this.model.opsetImport.push(onnx.OperatorSetIdProto.create({ domain, version }));
  }

  encode(): Uint8Array {
    return onnx.ModelProto.encode(this.model).finish();
  }
}

const attrF = (name: string, f: number) => onnx.AttributeProto.create({ name, f, type: onnx.AttributeProto.AttributeType.FLOAT });
const attrI = (name: string, i: number) => onnx.AttributeProto.create({ name, i, type: onnx.AttributeProto.AttributeType.INT });

export interface QuantizeOptions {
  /**
   * Largest weight magnitude after quantization. 63 (7 bits), because without VNNI MLAS's AVX2
   * u8×s8 kernel sums pairs of products in int16 (vpmaddubsw): 255·127·2 = 64770 can saturate,
   * 255·63·2 = 32130 cannot.
   */
  weightMax: number;
  /** MatMuls whose weight initializer is named here stay fp32. */
  skip: string[];
  /**
   * 'uint8' stores each weight as q + 128 with zero point 128 and uses all 8 bits (|q| <= 127,
   * weightMax is not used). ORT then runs MLAS's u8×u8 kernel, which widens to int16 before
   * multiplying (vpmaddwd) and cannot saturate: half the rounding error of 7-bit int8 weights, for
   * 19 % more encoder CPU on this CPU (4.76 against 3.99 ms per holdout text, `npm run
   * encoder:profile`, 5 interleaved rounds).
   */
  weightType?: 'int8' | 'uint8';
}

/** Symmetric per-output-column int8 quantization of a [K, N] weight. */
export function quantizePerColumn(w: Float32Array, K: number, N: number, weightMax: number): { q: Int8Array; scale: Float32Array } {
  const scale = new Float32Array(N);
  for (let k = 0; k < K; k++) for (let n = 0; n < N; n++) scale[n] = Math.max(scale[n], Math.abs(w[k * N + n]));
  for (let n = 0; n < N; n++) scale[n] = scale[n] > 0 ? scale[n] / weightMax : 1;
  const q = new Int8Array(K * N);
  for (let k = 0; k < K; k++) {
    for (let n = 0; n < N; n++) q[k * N + n] = Math.max(-weightMax, Math.min(weightMax, Math.round(w[k * N + n] / scale[n])));
  }
  return { q, scale };
}

/** Returns the number of MatMuls rewritten. */
export function quantizeMatMuls(g: Graph, opts: QuantizeOptions): number {
  let count = 0;
  for (const mm of [...g.nodes]) {
    if (mm.opType !== 'MatMul' || mm.domain) continue;
    const [a, wName] = mm.input!;
    const w = g.floats(wName);
    const dims = g.dims(wName);
    if (!w || dims.length !== 2 || opts.skip.includes(wName)) continue;
    const [K, N] = dims;
    const users = g.consumers(mm.output![0]);
    const add = users.length === 1 && users[0].opType === 'Add' ? users[0] : undefined;
    const biasName = add?.input!.find((i) => i !== mm.output![0]);
    const bias = biasName !== undefined && g.dims(biasName).length === 1 && g.dims(biasName)[0] === N ? g.floats(biasName) : null;
    const unsigned = opts.weightType === 'uint8';
    const { q, scale } = quantizePerColumn(w, K, N, unsigned ? 127 : opts.weightMax);
    g.addInit(`${wName}_int8`, unsigned ? UINT8 : INT8, [K, N], unsigned ? Uint8Array.from(q, (v) => v + 128) : q);
    g.addInit(`${wName}_scale`, FLOAT, [N], scale);
    g.addInit(`${wName}_zero`, unsigned ? UINT8 : INT8, [N], unsigned ? new Uint8Array(N).fill(128) : new Int8Array(N));
    const inputs = [a, `${wName}_int8`, `${wName}_scale`, `${wName}_zero`, ...(bias ? [biasName!] : [])];
    const output = bias ? add!.output![0] : mm.output![0];
    g.replace(bias ? [mm, add!] : [mm], {
      name: `${mm.name || wName}_dqmm`,
      opType: 'DynamicQuantizeMatMul',
      domain: 'com.microsoft',
      input: inputs,
      output: [output],
    });
    count++;
  }
  g.setOpset('com.microsoft', 1);
  g.prune();
  return count;
}

/** Returns the number of layer norms fused. */
export function fuseLayerNorms(g: Graph): number {
  let count = 0;
  for (const mean of [...g.nodes]) {
    if (mean.opType !== 'ReduceMean') continue;
    const x = mean.input![0];
    const only = (name: string, op: string): Node | undefined => {
      const users = g.consumers(name);
      return users.length >= 1 && users.every((u) => u.opType === op) ? users[0] : undefined;
    };
    const sub = g.consumers(mean.output![0]).find((n) => n.opType === 'Sub' && n.input![0] === x);
    if (!sub) continue;
    const d = sub.output![0];
    const dUsers = g.consumers(d);
    const sq = dUsers.find((n) => n.opType === 'Mul' && n.input![0] === d && n.input![1] === d);
    const div = dUsers.find((n) => n.opType === 'Div' && n.input![0] === d);
    if (!sq || !div || dUsers.length !== 2) continue;
    const varMean = only(sq.output![0], 'ReduceMean');
    const addEps = varMean && only(varMean.output![0], 'Add');
    const sqrt = addEps && only(addEps.output![0], 'Sqrt');
    if (!sqrt || div.input![1] !== sqrt.output![0]) continue;
    const eps = g.floats(addEps.input!.find((i) => i !== varMean.output![0])!);
    const scaleMul = only(div.output![0], 'Mul');
    const scale = scaleMul?.input!.find((i) => i !== div.output![0]);
    const biasAdd = scaleMul && only(scaleMul.output![0], 'Add');
    const bias = biasAdd?.input!.find((i) => i !== scaleMul!.output![0]);
    if (!eps || eps.length !== 1 || !scale || !bias || !g.floats(scale) || !g.floats(bias)) continue;
    const axes = mean.attribute!.find((a) => a.name === 'axes')?.ints?.map(Number) ?? [];
    if (axes.length !== 1 || axes[0] !== -1) continue;
    g.replace([mean, sub, sq, varMean!, addEps!, sqrt, div, scaleMul!, biasAdd!], {
      name: `${biasAdd!.output![0]}_layernorm`,
      opType: 'LayerNormalization',
      input: [x, scale, bias],
      output: [biasAdd!.output![0]],
      attribute: [attrI('axis', -1), attrF('epsilon', eps[0])],
    });
    count++;
  }
  // LayerNormalization entered the default domain in opset 17; nothing else in this graph changed meaning between 13 and 17.
  if (count > 0) g.setOpset('', 17);
  g.prune();
  return count;
}
