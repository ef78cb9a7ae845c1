import * as fs from 'fs';
import * as path from 'path';
import { ONNX_FILE_BY_DTYPE, type EncoderDtype } from '@tagserve/model';

/** The dtype whose file name `onnxFile` has (model_int8.onnx -> int8), or undefined. */
export function dtypeOfFile(onnxFile: string): EncoderDtype | undefined {
  const name = path.basename(onnxFile);
  return (Object.keys(ONNX_FILE_BY_DTYPE) as EncoderDtype[]).find((d) => ONNX_FILE_BY_DTYPE[d] === name);
}

/** Copies the artifact `from` to `to` with its encoder's ONNX file replaced by `onnxFile` (args.json says which dtype to load); the head is unchanged. */
export function swapEncoder(from: string, to: string, onnxFile: string, dtype: EncoderDtype): void {
  fs.cpSync(from, to, { recursive: true });
  fs.rmSync(path.join(to, 'encoder', 'onnx'), { recursive: true });
  fs.mkdirSync(path.join(to, 'encoder', 'onnx'));
  const file = ONNX_FILE_BY_DTYPE[dtype];
  fs.copyFileSync(onnxFile, path.join(to, 'encoder', 'onnx', file));
  const args = JSON.parse(fs.readFileSync(path.join(to, 'args.json'), 'utf8')) as Record<string, unknown> & { encoder?: Record<string, unknown> };
  args.dtype = dtype;
  if (args.encoder) args.encoder.onnx = `onnx/${file}`;
  fs.writeFileSync(path.join(to, 'args.json'), JSON.stringify(args, null, 2) + '\n');
}
