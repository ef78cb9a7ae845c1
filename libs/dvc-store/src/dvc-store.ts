/*
 * Directory trees in DVC 3's content-addressed layout, so `dvc pull` from a remote whose url is the
 * store directory yields the same tree, and we can materialize what `dvc push` wrote.
 *
 * Layout, verified against iterative/dvc: dvc/data_cloud.py `Remote.odb` puts objects under
 * `<remote>/files/md5` (CacheManager.FILES_DIR + DEFAULT_ALGORITHM), and dvc-data's
 * LocalHashFileDB.oid_to_path splits an oid as `<oid[0:2]>/<oid[2:]>`, so a tree's manifest
 * (oid "<md5>.dir") lives at files/md5/xx/<30 hex>.dir. File md5 is plain md5 of the bytes
 * (DVC 3 "md5"; the 2.x "md5-dos2unix" layout is not supported). Pointer files: dvc-file.ts.
 */
import { createHash } from 'node:crypto';
import { createReadStream, type Dirent } from 'node:fs';
import { chmod, copyFile, lstat, mkdir, readdir, readFile, rm, stat, unlink, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { writeAtomic } from './atomic-write';
import { DIR_SUFFIX, readDvcFile, type DvcOut } from './dvc-file';
import { DvcChecksumError, DvcStoreError, errMessage } from './errors';
import { ancestorDirs, manifestBytes, parseManifest, type ManifestEntry } from './manifest';

export interface MaterializeResult {
  out: DvcOut;
  /** Files in the manifest. */
  files: number;
  /** Files written from the store. */
  copied: number;
  /** Files already present with the right md5 and kept (copied + verified === files). */
  verified: number;
  /** Stray entries (files, symlinks or whole directories) removed from targetDir. */
  removed: number;
}

/** Streaming md5 (hex) of a file's bytes. */
export function md5File(file: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const hash = createHash('md5');
    createReadStream(file)
      .on('error', reject)
      .on('data', (chunk) => hash.update(chunk))
      .on('end', () => resolve(hash.digest('hex')));
  });
}

/** Where DVC 3 keeps an object (file md5, or "<md5>.dir" for a manifest) inside a remote/store. */
export function objectPath(storeDir: string, oid: string): string {
  return path.join(storeDir, 'files', 'md5', oid.slice(0, 2), oid.slice(2));
}

export async function pushDirectory(dir: string, storeDir: string, outPath?: string): Promise<DvcOut> {
  const info = await stat(dir).catch((err: unknown) => {
    throw new DvcStoreError(`cannot push '${dir}': ${errMessage(err)}`, { cause: err });
  });
  if (!info.isDirectory()) throw new DvcStoreError(`cannot push '${dir}': not a directory`);

  const entries: ManifestEntry[] = [];
  let size = 0;
  for (const file of await listFiles(dir)) {
    const md5 = await md5File(file.abs);
    const { size: bytes } = await stat(file.abs);
    await putObject(objectPath(storeDir, md5), md5, bytes, (tmp) => copyFile(file.abs, tmp));
    entries.push({ md5, relpath: file.relpath });
    size += bytes;
  }

  const bytes = manifestBytes(entries);
  const treeMd5 = md5Bytes(bytes);
  await putObject(objectPath(storeDir, treeMd5 + DIR_SUFFIX), treeMd5, bytes.length, (tmp) => writeFile(tmp, bytes));

  return { md5: treeMd5 + DIR_SUFFIX, size, nfiles: entries.length, hash: 'md5', path: outPath ?? path.basename(path.resolve(dir)) };
}

export async function materialize(opts: { dvcFile: string; storeDir: string; targetDir: string }): Promise<MaterializeResult> {
  const { storeDir, targetDir } = opts;
  const out = await readDvcFile(opts.dvcFile);
  const entries = await loadManifest(storeDir, out);

  // Fail on missing objects before touching targetDir.
  const missing: string[] = [];
  for (const e of entries) {
    const s = await stat(objectPath(storeDir, e.md5)).catch(() => null);
    if (!s?.isFile()) missing.push(`'${e.relpath}' (${objectPath(storeDir, e.md5)})`);
  }
  if (missing.length) {
    throw new DvcStoreError(`store '${storeDir}' is missing ${missing.length} object(s) of ${out.md5}: ${missing.join(', ')}`);
  }

  await mkdir(targetDir, { recursive: true });
  const removed = await removeStrays(targetDir, entries);

  let copied = 0;
  let verified = 0;
  let size = 0;
  for (const e of entries) {
    const dest = targetPath(targetDir, e.relpath);
    const existing = await lstat(dest).catch(() => null);
    if (existing?.isFile() && (await md5File(dest)) === e.md5) {
      verified++;
      size += existing.size;
      continue;
    }
    const src = objectPath(storeDir, e.md5);
    await mkdir(path.dirname(dest), { recursive: true });
    await writeAtomic(dest, async (tmp) => {
      await copyFile(src, tmp);
      // copyFile keeps the object's mode, and store objects are often read-only (DVC's cache is):
      // workspace files get ordinary permissions, as `dvc checkout` gives them.
      await chmod(tmp, 0o644);
      const actual = await md5File(tmp);
      if (actual !== e.md5) throw new DvcChecksumError(e.relpath, e.md5, actual, `store object ${src} is corrupted`);
    });
    size += (await stat(dest)).size;
    copied++;
  }

  // Content is verified at this point, so a mismatch means the .dvc file's metadata is wrong.
  if (size !== out.size) {
    throw new DvcStoreError(`.dvc file '${opts.dvcFile}' says size ${out.size} but tree ${out.md5} holds ${size} bytes`);
  }
  return { out, files: entries.length, copied, verified, removed };
}

/** Read the tree's manifest from the store, verifying it hashes to the out's md5. */
async function loadManifest(storeDir: string, out: DvcOut): Promise<ManifestEntry[]> {
  const file = objectPath(storeDir, out.md5);
  let bytes: Buffer;
  try {
    bytes = await readFile(file);
  } catch (err) {
    throw new DvcStoreError(`.dir manifest for ${out.md5} not found in store '${storeDir}' (${file}): ${errMessage(err)}`, {
      cause: err,
    });
  }
  const expected = out.md5.slice(0, -DIR_SUFFIX.length);
  const actual = md5Bytes(bytes);
  const rel = path.relative(storeDir, file).split(path.sep).join('/');
  if (actual !== expected) throw new DvcChecksumError(rel, expected, actual, '.dir manifest in store is corrupted');
  const entries = parseManifest(bytes, rel);
  if (entries.length !== out.nfiles) {
    throw new DvcStoreError(`out '${out.path}' says nfiles ${out.nfiles} but manifest ${out.md5} lists ${entries.length}`);
  }
  return entries;
}

/** Store an object unless an intact-looking copy (same size) is already there; verify before publishing. */
async function putObject(dest: string, expectedMd5: string, expectedSize: number, fill: (tmp: string) => Promise<void>): Promise<void> {
  const existing = await stat(dest).catch(() => null);
  if (existing?.isFile() && existing.size === expectedSize) return;
  await mkdir(path.dirname(dest), { recursive: true });
  await writeAtomic(dest, async (tmp) => {
    await fill(tmp);
    // The source may have changed since it was hashed; never publish an object under the wrong name.
    const actual = await md5File(tmp);
    if (actual !== expectedMd5) throw new DvcChecksumError(dest, expectedMd5, actual, 'source changed while pushing');
  });
}

/**
 * Every regular file under dir, relpaths with '/'. Symlinks to files are followed (their content is
 * stored, as DVC does); symlinked directories are not descended into.
 */
async function listFiles(dir: string): Promise<{ relpath: string; abs: string }[]> {
  const result: { relpath: string; abs: string }[] = [];
  const walk = async (abs: string, rel: string): Promise<void> => {
    for (const d of await readdir(abs, { withFileTypes: true })) {
      const childAbs = path.join(abs, d.name);
      const childRel = rel ? `${rel}/${d.name}` : d.name;
      if (d.isDirectory()) await walk(childAbs, childRel);
      else if (d.isFile() || (d.isSymbolicLink() && (await isFileFollowingLinks(childAbs)))) {
        result.push({ relpath: childRel, abs: childAbs });
      }
    }
  };
  await walk(dir, '');
  return result;
}

async function isFileFollowingLinks(p: string): Promise<boolean> {
  return (await stat(p).catch(() => null))?.isFile() ?? false;
}

/** Delete whatever in targetDir is not part of the tree (including a crashed run's temp files). */
async function removeStrays(targetDir: string, entries: readonly ManifestEntry[]): Promise<number> {
  const files = new Set(entries.map((e) => e.relpath));
  const dirs = new Set(entries.flatMap((e) => ancestorDirs(e.relpath)));
  let removed = 0;
  const walk = async (abs: string, rel: string): Promise<void> => {
    const children: Dirent[] = await readdir(abs, { withFileTypes: true });
    for (const d of children) {
      const childAbs = path.join(abs, d.name);
      const childRel = rel ? `${rel}/${d.name}` : d.name;
      if (d.isDirectory() && dirs.has(childRel)) {
        await walk(childAbs, childRel);
      } else if (!(d.isFile() && files.has(childRel))) {
        // Stray file, symlink (never followed), or a directory squatting where a file belongs.
        await (d.isDirectory() ? rm(childAbs, { recursive: true, force: true }) : unlink(childAbs));
        removed++;
      }
    }
  };
  await walk(targetDir, '');
  return removed;
}

function targetPath(targetDir: string, relpath: string): string {
  return path.join(targetDir, ...relpath.split('/'));
}

function md5Bytes(bytes: Buffer): string {
  return createHash('md5').update(bytes).digest('hex');
}
