/*
 * .dvc pointer files as DVC 3 writes them: dvc/output.py `Output.dumpd` gives hash_info (md5),
 * meta (size, nfiles), then `hash: md5`, then `path`.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { writeAtomic } from './atomic-write';
import { DvcStoreError, errMessage } from './errors';
import { MD5_RE } from './manifest';

export const DIR_SUFFIX = '.dir';

export interface DvcOut {
  /** "<md5 of the .dir manifest>.dir" */
  md5: string;
  /** Total bytes of all files in the tree. */
  size: number;
  nfiles: number;
  hash: 'md5';
  /** Path of the tracked directory, relative to the .dvc file. */
  path: string;
}

export async function writeDvcFile(dvcFile: string, out: DvcOut): Promise<void> {
  const valid = validateOut(out, 'out');
  // Key order and unindented sequence match what `dvc add` writes.
  const { md5, size, nfiles, hash, path: outPath } = valid;
  const text = stringifyYaml({ outs: [{ md5, size, nfiles, hash, path: outPath }] }, { indentSeq: false });
  await mkdir(path.dirname(dvcFile), { recursive: true });
  await writeAtomic(dvcFile, (tmp) => writeFile(tmp, text, 'utf8'));
}

export async function readDvcFile(dvcFile: string): Promise<DvcOut> {
  let text: string;
  try {
    text = await readFile(dvcFile, 'utf8');
  } catch (err) {
    throw new DvcStoreError(`cannot read .dvc file '${dvcFile}': ${errMessage(err)}`, { cause: err });
  }
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (err) {
    throw new DvcStoreError(`.dvc file '${dvcFile}' is not valid YAML: ${errMessage(err)}`, { cause: err });
  }
  const outs = (doc as { outs?: unknown } | null)?.outs;
  if (!Array.isArray(outs) || outs.length !== 1) {
    throw new DvcStoreError(`.dvc file '${dvcFile}' must have exactly one entry under 'outs'`);
  }
  return validateOut(outs[0], `.dvc file '${dvcFile}'`);
}

export function validateOut(value: unknown, where: string): DvcOut {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new DvcStoreError(`${where}: out entry must be a mapping`);
  }
  const o = value as Record<string, unknown>;
  const fail = (msg: string): never => {
    throw new DvcStoreError(`${where}: ${msg}`);
  };
  if (o.hash !== 'md5') {
    fail(
      o.hash === undefined
        ? "missing 'hash: md5' (a DVC 2.x .dvc file; its objects use the legacy layout; re-add it with DVC 3)"
        : `unsupported hash ${JSON.stringify(o.hash)} (only 'md5' is supported)`,
    );
  }
  if (typeof o.md5 !== 'string' || !o.md5.endsWith(DIR_SUFFIX) || !MD5_RE.test(o.md5.slice(0, -DIR_SUFFIX.length))) {
    fail(`md5 must be '<32 hex>.dir' (a directory out), got ${JSON.stringify(o.md5)}`);
  }
  for (const key of ['size', 'nfiles'] as const) {
    if (typeof o[key] !== 'number' || !Number.isSafeInteger(o[key]) || (o[key] as number) < 0) {
      fail(`${key} must be a non-negative integer, got ${JSON.stringify(o[key])}`);
    }
  }
  if (typeof o.path !== 'string' || o.path.length === 0) fail(`path must be a non-empty string, got ${JSON.stringify(o.path)}`);
  return { md5: o.md5 as string, size: o.size as number, nfiles: o.nfiles as number, hash: 'md5', path: o.path as string };
}
