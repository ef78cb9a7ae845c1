/**
 * Writes an int8 encoder directory (Transformers.js layout, dtype 'int8' = onnx/model_int8.onnx)
 * from the fp32 USE-lite encoder, reproducibly:
 *
 *   npm run optimize:encoder -- --in ../shared/models/use-lite --out /tmp/use-lite-int8 [--weight-max 63 | --weight-type uint8] [--no-layer-norm]
 *   npm run train -- --encoder /tmp/use-lite-int8 --dtype int8 ...
 *
 * What it does and why (figures measured with scripts/encoder-profile.ts on the holdout texts):
 *  - the 9 per-token MatMuls (9.3 MFLOP per token, > 90 % of the FLOPs) become DynamicQuantizeMatMul
 *    with int8 weights per output column, so ORT runs MLAS's integer GEMM; the shipped
 *    model_quantized.onnx stores weight-only int8 behind DequantizeLinear, which ORT rewrites into
 *    MatMulNBits (blockwise, 32 per block), a kernel that is no faster than fp32 on this CPU;
 *  - the 4 hand-built layer norms become LayerNormalization (ORT does not fuse this 9-node form);
 *  - the sentence head's MatMul (one row per text, < 0.1 % of the FLOPs) stays fp32.
 */
import * as fs from 'fs';
import * as path from 'path';
import { parseArgs } from 'node:util';
import { fuseLayerNorms, Graph, quantizeMatMuls } from './encoder/graph-rewrite';

const COPIED = ['config.json', 'tokenizer.json', 'tokenizer_config.json', 'special_tokens_map.json', 'LICENSE'];
export const INT8_ONNX_FILE = 'model_int8.onnx';

function main(): void {
  const { values } = parseArgs({
    options: {
      in: { type: 'string' },
      out: { type: 'string' },
      'weight-max': { type: 'string', default: '63' },
      'weight-type': { type: 'string', default: 'int8' },
      'keep-fp32': { type: 'string', default: 'head_w' },
      'no-layer-norm': { type: 'boolean', default: false },
    },
  });
  if (!values.in || !values.out) {
    console.error(
      'usage: npm run optimize:encoder -- --in <fp32 encoder dir> --out <dir> [--weight-max 63|127 | --weight-type uint8] [--keep-fp32 a,b] [--no-layer-norm]',
    );
    process.exit(2);
  }
  const src = path.resolve(values.in);
  const out = path.resolve(values.out);
  const weightMax = Number(values['weight-max']);
  if (!(weightMax >= 1 && weightMax <= 127)) throw new Error('--weight-max must be in 1..127');
  const weightType = values['weight-type'];
  if (weightType !== 'int8' && weightType !== 'uint8') throw new Error('--weight-type must be int8 or uint8');

  const g = Graph.decode(fs.readFileSync(path.join(src, 'onnx', 'model.onnx')));
  const before = g.nodes.length;
  const layerNorms = values['no-layer-norm'] ? 0 : fuseLayerNorms(g);
  const matmuls = quantizeMatMuls(g, { weightMax, weightType, skip: values['keep-fp32'].split(',').filter(Boolean) });
  const outputs = g.graph.output.map((o) => o.name);
  if (!outputs.includes('last_hidden_state') || !outputs.includes('sentence_embedding')) throw new Error(`outputs changed: ${outputs.join(', ')}`);

  fs.mkdirSync(path.join(out, 'onnx'), { recursive: true });
  for (const f of COPIED) if (fs.existsSync(path.join(src, f))) fs.copyFileSync(path.join(src, f), path.join(out, f));
  const bytes = g.encode();
  fs.writeFileSync(path.join(out, 'onnx', INT8_ONNX_FILE), bytes);
  console.log(
    `${path.join(out, 'onnx', INT8_ONNX_FILE)}: ${matmuls} MatMuls -> DynamicQuantizeMatMul (${weightType === 'uint8' ? 'uint8 weights, zero point 128' : `|w| <= ${weightMax}`}), ` +
      `${layerNorms} layer norms fused; ${before} -> ${g.nodes.length} nodes, ${(bytes.length / 1e6).toFixed(1)} MB`,
  );
}

main();
