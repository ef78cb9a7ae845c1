/*
 * DVC 3 `.dir` manifest, byte-compatible with dvc-data.
 *
 * Verified against iterative/dvc-data (src/dvc_data/hashfile/tree.py):
 *   Tree.as_list(with_meta=False) -> sorted([{**hash_info.to_dict(), "relpath": "/".join(parts)}],
 *                                          key=itemgetter("relpath"))
 *   Tree.as_bytes()              -> json.dumps(as_list(), sort_keys=True).encode("utf-8")
 *   Tree.digest()                -> md5(as_bytes()) + ".dir"
 * hashfile/build.py calls tree.digest() without with_meta, so the stored object carries only
 * {"md5", "relpath"} per entry: no size/isexec. Python's json.dumps defaults apply: separators
 * ", " / ": " and ensure_ascii=True (non-ASCII escaped as lowercase \uXXXX).
 * Known-good hashes from dvc-data's own tests reproduce with this code (see dvc-store.spec.ts):
 *   {foo: "foo", bar: "bar"}       -> 5ea40360f5b4ec688df672a4db9c17d1.dir (tests/hashfile/test_build.py)
 *   {bar: "bar\n", baz: "baz\n"}   -> 1f69c66028c35037e8bf67e5bc4ceb6a.dir (tests/index/test_index.py)
 *   empty directory, b"[]"          -> d751713988987e9331980363e24189ce.dir
 */
import { DvcStoreError } from './errors';

export interface ManifestEntry {
  md5: string;
  /** Posix-style path relative to the tree root. */
  relpath: string;
}

export const MD5_RE = /^[0-9a-f]{32}$/;

/** Python sorts str by code point; JS `<` compares UTF-16 units, which differs above U+FFFF. */
export function compareCodePoints(a: string, b: string): number {
  const x = Array.from(a);
  const y = Array.from(b);
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    const d = x[i].codePointAt(0)! - y[i].codePointAt(0)!;
    if (d !== 0) return d;
  }
  return x.length - y.length;
}

/** json.dumps(str) with ensure_ascii=True: JSON.stringify, then escape everything outside printable ASCII. */
function pyJsonString(s: string): string {
  return JSON.stringify(s).replace(/[^\x20-\x7e]/g, (ch) => `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** Exact bytes DVC stores for a tree (and hashes to get its id). Sorts a copy; keys are already in sort_keys order. */
export function manifestBytes(entries: readonly ManifestEntry[]): Buffer {
  const sorted = [...entries].sort((a, b) => compareCodePoints(a.relpath, b.relpath));
  const body = sorted.map((e) => `{"md5": ${pyJsonString(e.md5)}, "relpath": ${pyJsonString(e.relpath)}}`).join(', ');
  return Buffer.from(`[${body}]`, 'utf8');
}

/** A manifest relpath must stay inside the target directory once joined onto it. */
export function assertSafeRelpath(relpath: string): void {
  const parts = relpath.split('/');
  const bad =
    relpath.length === 0 ||
    relpath.includes('\\') ||
    relpath.includes('\0') ||
    /^[A-Za-z]:/.test(relpath) ||
    parts.some((p) => p === '' || p === '.' || p === '..');
  if (bad) throw new DvcStoreError(`unsafe relpath in .dir manifest: ${JSON.stringify(relpath)}`);
}

/** Parse and validate manifest bytes (already checksum-verified by the caller). */
export function parseManifest(bytes: Buffer, where: string): ManifestEntry[] {
  let raw: unknown;
  try {
    raw = JSON.parse(bytes.toString('utf8'));
  } catch (err) {
    throw new DvcStoreError(`.dir manifest ${where} is not valid JSON`, { cause: err });
  }
  if (!Array.isArray(raw)) throw new DvcStoreError(`.dir manifest ${where} is not a JSON list`);

  const entries: ManifestEntry[] = [];
  const files = new Set<string>();
  for (const item of raw as unknown[]) {
    // Extra keys (e.g. meta written by other tools) are tolerated; md5 + relpath are required.
    const e = item as Partial<Record<string, unknown>> | null;
    if (typeof e !== 'object' || e === null || typeof e.md5 !== 'string' || typeof e.relpath !== 'string') {
      throw new DvcStoreError(`.dir manifest ${where} has an entry without string md5/relpath: ${JSON.stringify(item)}`);
    }
    if (!MD5_RE.test(e.md5)) throw new DvcStoreError(`.dir manifest ${where}: bad md5 ${JSON.stringify(e.md5)} for '${e.relpath}'`);
    assertSafeRelpath(e.relpath);
    if (files.has(e.relpath)) throw new DvcStoreError(`.dir manifest ${where}: duplicate relpath '${e.relpath}'`);
    files.add(e.relpath);
    entries.push({ md5: e.md5, relpath: e.relpath });
  }
  // "a" and "a/b" cannot both be files.
  for (const rel of files) {
    for (const dir of ancestorDirs(rel)) {
      if (files.has(dir)) throw new DvcStoreError(`.dir manifest ${where}: '${dir}' is both a file and a directory`);
    }
  }
  return entries;
}

/** "a/b/c" -> ["a", "a/b"] */
export function ancestorDirs(relpath: string): string[] {
  const parts = relpath.split('/');
  return parts.slice(0, -1).map((_, i) => parts.slice(0, i + 1).join('/'));
}
