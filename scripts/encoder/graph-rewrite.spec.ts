import { onnx } from 'onnx-proto';
import * as ort from 'onnxruntime-node';
import { fuseLayerNorms, Graph, quantizeMatMuls, quantizePerColumn } from './graph-rewrite';

const FLOAT = onnx.TensorProto.DataType.FLOAT;
const K = 8;
const N = 6;

function seeded(seed: number): () => number {
  let s = seed;
  return () => ((s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31) * 2 - 1;
}

/** x[B, T, K] -> the 9-node layer norm of build_onnx.py -> MatMul(W[K, N]) -> Add(b[N]) -> y. */
function tinyEncoder(): Uint8Array {
  const rand = seeded(7);
  const init = (name: string, dims: number[]) =>
    onnx.TensorProto.create({
      name,
      dataType: FLOAT,
      dims,
      rawData: new Uint8Array(Float32Array.from({ length: dims.reduce((a, b) => a * b, 1) }, rand).buffer),
    });
  const node = (opType: string, input: string[], output: string, attribute: onnx.IAttributeProto[] = []) =>
    onnx.NodeProto.create({ opType, input, output: [output], attribute });
  const axes = [onnx.AttributeProto.create({ name: 'axes', ints: [-1], type: onnx.AttributeProto.AttributeType.INTS })];
  const eps = onnx.TensorProto.create({ name: 'eps', dataType: FLOAT, dims: [], rawData: new Uint8Array(Float32Array.of(1e-6).buffer) });
  const nodes = [
    node('ReduceMean', ['x'], 'm', axes),
    node('Sub', ['x', 'm'], 'd'),
    node('Mul', ['d', 'd'], 'd2'),
    node('ReduceMean', ['d2'], 'v', axes),
    node('Add', ['v', 'eps'], 've'),
    node('Sqrt', ['ve'], 'r'),
    node('Div', ['d', 'r'], 'n'),
    node('Mul', ['n', 'ln_s'], 'ns'),
    node('Add', ['ns', 'ln_b'], 'h'),
    node('MatMul', ['h', 'w'], 'hw'),
    node('Add', ['hw', 'b'], 'y'),
  ];
  const io = (name: string, dims: (number | string)[]) =>
    onnx.ValueInfoProto.create({
      name,
      type: { tensorType: { elemType: FLOAT, shape: { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) } } },
    });
  const graph = onnx.GraphProto.create({
    name: 'tiny',
    node: nodes,
    initializer: [init('ln_s', [K]), init('ln_b', [K]), init('w', [K, N]), init('b', [N]), eps],
    input: [io('x', ['B', 'T', K])],
    output: [io('y', ['B', 'T', N])],
  });
  return onnx.ModelProto.encode(onnx.ModelProto.create({ irVersion: 7, opsetImport: [{ domain: '', version: 13 }], graph })).finish();
}

async function run(model: Uint8Array, x: Float32Array): Promise<Float32Array> {
  const session = await ort.InferenceSession.create(model, { intraOpNumThreads: 1 });
  const out = await session.run({ x: new ort.Tensor('float32', x, [2, 3, K]) });
  await session.release();
  return out.y.data as Float32Array;
}

describe('encoder graph rewrites', () => {
  it('quantizes per output column within half a step, never beyond weightMax', () => {
    const w = Float32Array.from({ length: K * N }, seeded(3));
    w[5] = 40; // one large weight must not coarsen the other columns
    const { q, scale } = quantizePerColumn(w, K, N, 63);
    for (let k = 0; k < K; k++) {
      for (let n = 0; n < N; n++) {
        expect(Math.abs(q[k * N + n])).toBeLessThanOrEqual(63);
        expect(Math.abs(q[k * N + n] * scale[n] - w[k * N + n])).toBeLessThanOrEqual(scale[n] / 2 + 1e-6);
      }
    }
    expect(scale[5]).toBeCloseTo(40 / 63, 6);
    expect(scale[4]).toBeLessThan(1 / 63 + 1e-6);
  });

  it('fuses the layer norm and quantizes MatMul+Add into one DynamicQuantizeMatMul, computing the same function', async () => {
    const original = tinyEncoder();
    const g = Graph.decode(original);
    expect(fuseLayerNorms(g)).toBe(1);
    expect(quantizeMatMuls(g, { weightMax: 63, skip: [] })).toBe(1);
    expect(g.nodes.map((n) => n.opType)).toEqual(['LayerNormalization', 'DynamicQuantizeMatMul']);
    expect(g.graph.initializer.map((t) => t.name).sort()).toEqual(['b', 'ln_b', 'ln_s', 'w_int8', 'w_scale', 'w_zero']);

    const x = Float32Array.from({ length: 2 * 3 * K }, seeded(11));
    const [want, got] = [await run(original, x), await run(g.encode(), x)];
    const scale = Math.max(...Array.from(want, Math.abs));
    for (let i = 0; i < want.length; i++) expect(Math.abs(got[i] - want[i])).toBeLessThan(0.03 * scale);
    expect(got).not.toEqual(want); // it really ran the int8 kernel
  });

  it('with uint8 weights stores q + 128 over all 8 bits (zero point 128), and ORT computes the same function closer', async () => {
    const original = tinyEncoder();
    const [g7, g8] = [Graph.decode(original), Graph.decode(original)];
    quantizeMatMuls(g7, { weightMax: 63, skip: [] });
    expect(quantizeMatMuls(g8, { weightMax: 63, weightType: 'uint8', skip: [] })).toBe(1);
    const init = (g: Graph, name: string) => g.graph.initializer.find((t) => t.name === name)!;
    expect(init(g8, 'w_int8').dataType).toBe(onnx.TensorProto.DataType.UINT8);
    expect(Array.from(init(g8, 'w_zero').rawData!)).toEqual(new Array(N).fill(128));
    const q = Array.from(init(g8, 'w_int8').rawData!, (v) => v - 128);
    // Each column's largest weight lands on ±127 (weightMax is not used); the 7-bit file stops at ±63.
    expect(Math.max(...q.map(Math.abs))).toBe(127);
    expect(Math.max(...Array.from(new Int8Array(init(g7, 'w_int8').rawData!.slice().buffer), Math.abs))).toBe(63);

    const x = Float32Array.from({ length: 2 * 3 * K }, seeded(11));
    const [want, got7, got8] = [await run(original, x), await run(g7.encode(), x), await run(g8.encode(), x)];
    const error = (got: Float32Array) => Math.max(...Array.from(got, (v, i) => Math.abs(v - want[i])));
    expect(error(got8)).toBeGreaterThan(0); // it really ran an integer kernel
    expect(error(got8)).toBeLessThan(error(got7));
  });

  it('leaves MatMuls named in skip, and graphs without the layer-norm pattern, alone', () => {
    const g = Graph.decode(tinyEncoder());
    expect(quantizeMatMuls(g, { weightMax: 63, skip: ['w'] })).toBe(0);
    g.graph.node = g.graph.node.filter((n) => n.opType !== 'Sqrt');
    expect(fuseLayerNorms(g)).toBe(0);
  });
});
