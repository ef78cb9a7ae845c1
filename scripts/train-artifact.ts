/**
 * Where the encoder comes from, and the artifact directory: written deterministically (no
 * timestamps, sorted keys where order is ours), so the same inputs give the same DVC hash and a
 * changed hash always means a changed model.
 */
import * as fs from 'fs';
import * as path from 'path';
import * as transformers from '@huggingface/transformers';
import { materialize, pushDirectory, writeDvcFile, type DvcOut } from '@tagserve/dvc-store';
import { ONNX_FILE_BY_DTYPE, type EncoderDtype, type HeadJSON } from '@tagserve/model';

/** The encoder's files beside the onnx one (those present are copied). */
const ENCODER_FILES = ['config.json', 'tokenizer.json', 'tokenizer_config.json', 'special_tokens_map.json', 'LICENSE'];

export interface EncoderSource {
  dir: string;
  dtype: EncoderDtype;
  /** Where it came from, for args.json: the directory's name, or the artifact it was taken from. */
  name: string;
}

function dtypesIn(dir: string): EncoderDtype[] {
  return (Object.keys(ONNX_FILE_BY_DTYPE) as EncoderDtype[]).filter((d) => fs.existsSync(path.join(dir, 'onnx', ONNX_FILE_BY_DTYPE[d])));
}

function pickDtype(dir: string, wanted: EncoderDtype | null, what: string): EncoderDtype {
  const present = dtypesIn(dir);
  if (wanted) {
    if (!present.includes(wanted)) throw new Error(`${what} has no onnx/${ONNX_FILE_BY_DTYPE[wanted]} (present: ${present.join(', ') || 'none'})`);
    return wanted;
  }
  // Without --dtype: q8 when present (the shipped encoder's precision), else the only one there.
  if (present.includes('q8')) return 'q8';
  if (present.length === 0) throw new Error(`${what} has no onnx file (${Object.values(ONNX_FILE_BY_DTYPE).join(', ')})`);
  return present[0];
}

/**
 * --encoder <dir> when given; otherwise the encoder of the artifact the .dvc file points at,
 * materialized (and md5-verified) from the DVC store into the cache, so a fresh clone can train.
 */
export async function resolveEncoder(
  encoder: string | null,
  dtype: EncoderDtype | null,
  dvcFile: string,
  store: string,
  cacheDir: string,
): Promise<EncoderSource> {
  if (encoder) {
    const dir = path.resolve(encoder);
    return { dir, dtype: pickDtype(dir, dtype, `encoder ${encoder}`), name: path.basename(dir) };
  }
  const target = path.resolve(cacheDir, 'current-artifact');
  const { out } = await materialize({ dvcFile: path.resolve(dvcFile), storeDir: path.resolve(store), targetDir: target });
  const args = JSON.parse(fs.readFileSync(path.join(target, 'args.json'), 'utf8')) as { encoder?: { name?: string } | null };
  const dir = path.join(target, 'encoder');
  return { dir, dtype: pickDtype(dir, dtype, `the encoder of ${dvcFile} (${out.md5})`), name: args.encoder?.name ?? 'encoder' };
}

function transformersVersion(): string {
  const v = (transformers.env as { version?: string }).version;
  if (v) return v;
  const main = require.resolve('@huggingface/transformers');
  return (JSON.parse(fs.readFileSync(path.join(path.dirname(main), '..', 'package.json'), 'utf8')) as { version: string }).version;
}

/** Package versions the artifact was built with; no timestamp, so the same inputs give the same bytes. */
export function versions(): Record<string, string> {
  const rootPkg = JSON.parse(fs.readFileSync(path.resolve(__dirname, '..', 'package.json'), 'utf8')) as { name: string; version: string };
  return { node: process.version, '@huggingface/transformers': transformersVersion(), [rootPkg.name]: rootPkg.version };
}

export interface ArtifactFiles {
  head: HeadJSON;
  args: Record<string, unknown>;
  performance: Record<string, unknown>;
}

const json = (x: unknown) => JSON.stringify(x, null, 2) + '\n';

export function writeArtifact(outDir: string, encoder: EncoderSource | null, files: ArtifactFiles): void {
  const out = path.resolve(outDir);
  fs.rmSync(out, { recursive: true, force: true });
  fs.mkdirSync(out, { recursive: true });
  if (encoder) {
    fs.mkdirSync(path.join(out, 'encoder', 'onnx'), { recursive: true });
    for (const f of ENCODER_FILES) {
      if (fs.existsSync(path.join(encoder.dir, f))) fs.copyFileSync(path.join(encoder.dir, f), path.join(out, 'encoder', f));
    }
    const onnx = ONNX_FILE_BY_DTYPE[encoder.dtype];
    fs.copyFileSync(path.join(encoder.dir, 'onnx', onnx), path.join(out, 'encoder', 'onnx', onnx));
  }
  fs.writeFileSync(path.join(out, 'head.json'), JSON.stringify(files.head));
  fs.writeFileSync(path.join(out, 'args.json'), json(files.args));
  fs.writeFileSync(path.join(out, 'performance.json'), json(files.performance));
  fs.writeFileSync(path.join(out, 'versions.json'), json(versions()));
}

export async function pushArtifact(outDir: string, store: string, dvcFile: string): Promise<DvcOut> {
  const dvcOut = await pushDirectory(path.resolve(outDir), path.resolve(store), 'model');
  await writeDvcFile(path.resolve(dvcFile), dvcOut);
  return dvcOut;
}
