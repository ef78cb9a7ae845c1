import { createHash, randomBytes } from 'node:crypto';
import { chmod, lstat, mkdir, mkdtemp, readdir, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  DvcChecksumError,
  DvcStoreError,
  manifestBytes,
  materialize,
  md5File,
  objectPath,
  pushDirectory,
  readDvcFile,
  writeDvcFile,
  type DvcOut,
} from './index';

const md5 = (data: string | Buffer): string => createHash('md5').update(data).digest('hex');

let root: string;
beforeEach(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'dvc-store-'));
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

/** Create files under root/<name> from a { relpath: content } map. */
async function makeTree(name: string, files: Record<string, string | Buffer>): Promise<string> {
  const dir = path.join(root, name);
  await mkdir(dir, { recursive: true });
  for (const [rel, content] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(dir, rel)), { recursive: true });
    await writeFile(path.join(dir, rel), content);
  }
  return dir;
}

/** All files under dir as { relpath: bytes }. */
async function readTree(dir: string): Promise<Record<string, Buffer>> {
  const out: Record<string, Buffer> = {};
  for (const e of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (!e.isFile()) continue;
    const abs = path.join(e.parentPath, e.name);
    out[path.relative(dir, abs).split(path.sep).join('/')] = await readFile(abs);
  }
  return out;
}

/** Same relpaths with byte-identical content (Buffer.equals: jest's deep equality is too slow on MBs). */
async function expectSameTree(actualDir: string, expectedDir: string): Promise<void> {
  const [actual, expected] = await Promise.all([readTree(actualDir), readTree(expectedDir)]);
  expect(Object.keys(actual).sort()).toEqual(Object.keys(expected).sort());
  for (const rel of Object.keys(expected)) {
    if (!actual[rel].equals(expected[rel])) throw new Error(`content differs for ${rel}`);
  }
}

/** Push a tree, write its .dvc file, return the paths involved. */
async function pushed(files: Record<string, string | Buffer>) {
  const src = await makeTree('model', files);
  const store = path.join(root, 'store');
  const out = await pushDirectory(src, store);
  const dvcFile = path.join(root, 'model.dvc');
  await writeDvcFile(dvcFile, out);
  return { src, store, out, dvcFile, target: path.join(root, 'target') };
}

describe('md5File', () => {
  it('hashes known content', async () => {
    const dir = await makeTree('f', { foo: 'foo', empty: '' });
    await expect(md5File(path.join(dir, 'foo'))).resolves.toBe('acbd18db4cc2f85cedef654fccc4a4d8');
    await expect(md5File(path.join(dir, 'empty'))).resolves.toBe('d41d8cd98f00b204e9800998ecf8427e');
  });

  it('streams multi-chunk files to the same digest as a one-shot hash', async () => {
    const big = randomBytes(5 * 1024 * 1024 + 17);
    const dir = await makeTree('f', { big });
    await expect(md5File(path.join(dir, 'big'))).resolves.toBe(md5(big));
  });
});

describe('DVC 3 format compatibility', () => {
  it('reproduces dvc-data test_build_directory: {foo, bar} -> 5ea40360f5b4ec688df672a4db9c17d1.dir', async () => {
    const dir = await makeTree('dir', { foo: 'foo', bar: 'bar' });
    const store = path.join(root, 'store');
    const out = await pushDirectory(dir, store);
    expect(out).toEqual({ md5: '5ea40360f5b4ec688df672a4db9c17d1.dir', size: 6, nfiles: 2, hash: 'md5', path: 'dir' });

    // The manifest object: exact bytes, at files/md5/<2>/<30>.dir.
    const manifest = await readFile(path.join(store, 'files', 'md5', '5e', 'a40360f5b4ec688df672a4db9c17d1.dir'), 'utf8');
    expect(manifest).toBe('[{"md5": "37b51d194a7513e45b56f6524f2d51f2", "relpath": "bar"}, {"md5": "acbd18db4cc2f85cedef654fccc4a4d8", "relpath": "foo"}]');
    // File objects at files/md5/<2>/<30>, holding the raw bytes.
    await expect(readFile(path.join(store, 'files', 'md5', 'ac', 'bd18db4cc2f85cedef654fccc4a4d8'), 'utf8')).resolves.toBe('foo');
    await expect(readFile(path.join(store, 'files', 'md5', '37', 'b51d194a7513e45b56f6524f2d51f2'), 'utf8')).resolves.toBe('bar');
    // Nothing else (no temp files) in the store.
    const all = (await readdir(store, { recursive: true, withFileTypes: true })).filter((e) => e.isFile());
    expect(all).toHaveLength(3);
  });

  it('reproduces dvc-data test_index: {bar\\n, baz\\n} -> 1f69c66028c35037e8bf67e5bc4ceb6a.dir', async () => {
    const dir = await makeTree('data', { bar: 'bar\n', baz: 'baz\n' });
    const out = await pushDirectory(dir, path.join(root, 'store'));
    expect(out.md5).toBe('1f69c66028c35037e8bf67e5bc4ceb6a.dir');
  });

  it('hashes an empty directory as md5("[]")', async () => {
    const dir = await makeTree('empty', {});
    const out = await pushDirectory(dir, path.join(root, 'store'));
    expect(out).toEqual({ md5: 'd751713988987e9331980363e24189ce.dir', size: 0, nfiles: 0, hash: 'md5', path: 'empty' });
  });

  it('sorts by full relpath string and escapes non-ASCII like Python json.dumps', async () => {
    // '-' (0x2d) sorts before '/' (0x2f): "a-c.txt" precedes "a/b.txt", unlike a depth-first walk.
    const dir = await makeTree('t', { 'a/b.txt': 'abc', 'a-c.txt': '', 'é.txt': 'hello\n' });
    const store = path.join(root, 'store');
    const out = await pushDirectory(dir, store, 'models/t');
    const expected =
      '[{"md5": "d41d8cd98f00b204e9800998ecf8427e", "relpath": "a-c.txt"}, ' +
      '{"md5": "900150983cd24fb0d6963f7d28e17f72", "relpath": "a/b.txt"}, ' +
      '{"md5": "b1946ac92492d2347c6235b4d2611184", "relpath": "\\u00e9.txt"}]';
    expect(out).toEqual({ md5: `${md5(expected)}.dir`, size: 9, nfiles: 3, hash: 'md5', path: 'models/t' });
    await expect(readFile(objectPath(store, out.md5), 'utf8')).resolves.toBe(expected);
    expect(objectPath(store, out.md5)).toBe(path.join(store, 'files', 'md5', out.md5.slice(0, 2), out.md5.slice(2)));
  });

  it('escapes astral characters as surrogate pairs and sorts by code point', () => {
    // U+1F600 > U+FF5E by code point, though its UTF-16 lead unit (0xD83D) is smaller.
    const bytes = manifestBytes([
      { md5: 'd41d8cd98f00b204e9800998ecf8427e', relpath: '\u{1F600}' },
      { md5: 'd41d8cd98f00b204e9800998ecf8427e', relpath: '\uFF5E' },
    ]).toString('utf8');
    expect(bytes).toBe(
      '[{"md5": "d41d8cd98f00b204e9800998ecf8427e", "relpath": "\\uff5e"}, ' + '{"md5": "d41d8cd98f00b204e9800998ecf8427e", "relpath": "\\ud83d\\ude00"}]',
    );
  });

  it('writes the .dvc file the way DVC 3 does, and reads it back', async () => {
    const out: DvcOut = { md5: '5ea40360f5b4ec688df672a4db9c17d1.dir', size: 6, nfiles: 2, hash: 'md5', path: 'dir' };
    const file = path.join(root, 'sub', 'dir.dvc');
    await writeDvcFile(file, out);
    await expect(readFile(file, 'utf8')).resolves.toBe(
      'outs:\n- md5: 5ea40360f5b4ec688df672a4db9c17d1.dir\n  size: 6\n  nfiles: 2\n  hash: md5\n  path: dir\n',
    );
    await expect(readDvcFile(file)).resolves.toEqual(out);
  });

  it('reads a .dvc file with indented outs and extra keys', async () => {
    const file = path.join(root, 'x.dvc');
    await writeFile(file, 'outs:\n  - md5: d751713988987e9331980363e24189ce.dir\n    size: 0\n    nfiles: 0\n    hash: md5\n    path: x\n    desc: hi\n');
    await expect(readDvcFile(file)).resolves.toEqual({ md5: 'd751713988987e9331980363e24189ce.dir', size: 0, nfiles: 0, hash: 'md5', path: 'x' });
  });
});

describe('pushDirectory', () => {
  it('is idempotent and leaves existing objects untouched', async () => {
    const dir = await makeTree('m', { 'w.bin': randomBytes(1000), 'cfg.json': '{}' });
    const store = path.join(root, 'store');
    const first = await pushDirectory(dir, store);
    const obj = objectPath(store, md5('{}'));
    const before = await stat(obj);
    const second = await pushDirectory(dir, store);
    expect(second).toEqual(first);
    const after = await stat(obj);
    expect(after.ino).toBe(before.ino);
    expect(after.mtimeMs).toBe(before.mtimeMs);
  });

  it('replaces a truncated object on re-push', async () => {
    const dir = await makeTree('m', { a: 'hello world' });
    const store = path.join(root, 'store');
    await pushDirectory(dir, store);
    await writeFile(objectPath(store, md5('hello world')), 'hello');
    await pushDirectory(dir, store);
    await expect(readFile(objectPath(store, md5('hello world')), 'utf8')).resolves.toBe('hello world');
  });

  it('rejects a path that is not a directory', async () => {
    const dir = await makeTree('m', { a: 'x' });
    await expect(pushDirectory(path.join(dir, 'a'), path.join(root, 'store'))).rejects.toThrow(DvcStoreError);
    await expect(pushDirectory(path.join(dir, 'nope'), path.join(root, 'store'))).rejects.toThrow(DvcStoreError);
  });
});

describe('materialize', () => {
  const files = {
    'config.json': '{"labels":["a","b"]}\n',
    'onnx/model.onnx': randomBytes(3 * 1024 * 1024 + 5),
    'onnx/nested/deep.txt': 'deep\n',
    'tokenizer.json': '{}',
  };

  it('round-trips push -> materialize to identical bytes', async () => {
    const { src, store, out, dvcFile, target } = await pushed(files);
    const res = await materialize({ dvcFile, storeDir: store, targetDir: target });
    expect(res).toEqual({ out, files: 4, copied: 4, verified: 0, removed: 0 });
    await expectSameTree(target, src);
  });

  it('materializes read-only store objects as ordinary writable files', async () => {
    const { store, dvcFile, target } = await pushed(files);
    // DVC caches (and files pushed from read-only sources) are 0444.
    for (const e of await readdir(store, { recursive: true, withFileTypes: true })) {
      if (e.isFile()) await chmod(path.join(e.parentPath, e.name), 0o444);
    }
    await materialize({ dvcFile, storeDir: store, targetDir: target });
    for (const rel of Object.keys(files)) {
      expect((await stat(path.join(target, rel))).mode & 0o777).toBe(0o644);
    }
  });

  it('is idempotent, removes strays and repairs modified files', async () => {
    const { src, store, dvcFile, target } = await pushed(files);
    await materialize({ dvcFile, storeDir: store, targetDir: target });

    const again = await materialize({ dvcFile, storeDir: store, targetDir: target });
    expect(again).toMatchObject({ files: 4, copied: 0, verified: 4, removed: 0 });

    await writeFile(path.join(target, 'stray.txt'), 'x');
    await mkdir(path.join(target, 'junk', 'deeper'), { recursive: true });
    await writeFile(path.join(target, 'junk', 'deeper', 'f'), 'x');
    await writeFile(path.join(target, 'onnx', '.model.onnx.dvc-store-tmp-abc'), 'half a file');
    await writeFile(path.join(target, 'tokenizer.json'), '{"tampered":true}');
    await rm(path.join(target, 'config.json'));
    await mkdir(path.join(target, 'config.json')); // a directory where a file belongs

    const repaired = await materialize({ dvcFile, storeDir: store, targetDir: target });
    expect(repaired).toMatchObject({ files: 4, copied: 2, verified: 2, removed: 4 });
    await expectSameTree(target, src);
    expect((await readdir(target)).sort()).toEqual(['config.json', 'onnx', 'tokenizer.json']);
  });

  it('replaces a symlink at a manifest path with a real file', async () => {
    const { src, store, dvcFile, target } = await pushed(files);
    await mkdir(target, { recursive: true });
    await writeFile(path.join(root, 'elsewhere'), files['tokenizer.json']);
    await symlink(path.join(root, 'elsewhere'), path.join(target, 'tokenizer.json'));
    await materialize({ dvcFile, storeDir: store, targetDir: target });
    expect((await lstat(path.join(target, 'tokenizer.json'))).isSymbolicLink()).toBe(false);
    await expectSameTree(target, src);
  });

  it('throws DvcChecksumError naming the file when a store object is corrupted, leaving no partial file', async () => {
    const { store, dvcFile, target } = await pushed(files);
    const good = md5('deep\n');
    await writeFile(objectPath(store, good), 'evil\n');

    const err = await materialize({ dvcFile, storeDir: store, targetDir: target }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DvcChecksumError);
    expect(err).toMatchObject({ path: 'onnx/nested/deep.txt', expected: good, actual: md5('evil\n') });
    expect((err as Error).message).toContain('onnx/nested/deep.txt');
    expect((err as Error).message).toContain(good);
    expect((err as Error).message).toContain(md5('evil\n'));
    const left = await readdir(target, { recursive: true });
    expect(left.some((f) => f.includes('deep.txt'))).toBe(false);
  });

  it('throws DvcStoreError naming the file when an object is missing, before touching the target', async () => {
    const { store, dvcFile, target } = await pushed(files);
    await rm(objectPath(store, md5('{}')));
    await mkdir(target);
    await writeFile(path.join(target, 'keep-me'), 'x');

    const err = await materialize({ dvcFile, storeDir: store, targetDir: target }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DvcStoreError);
    expect((err as Error).message).toContain('tokenizer.json');
    expect(await readdir(target)).toEqual(['keep-me']);
  });

  it('rejects a corrupted manifest (DvcChecksumError) and a missing one (DvcStoreError)', async () => {
    const { store, out, dvcFile, target } = await pushed(files);
    const manifest = objectPath(store, out.md5);
    const original = await readFile(manifest);
    await writeFile(manifest, original.toString().replace('config.json', 'config.jsoN'));
    const corrupt = await materialize({ dvcFile, storeDir: store, targetDir: target }).catch((e: unknown) => e);
    expect(corrupt).toBeInstanceOf(DvcChecksumError);
    expect(corrupt).toMatchObject({ expected: out.md5.replace('.dir', '') });

    await rm(manifest);
    const missing = await materialize({ dvcFile, storeDir: store, targetDir: target }).catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(DvcStoreError);
    expect((missing as Error).message).toContain(out.md5);
  });

  it('refuses manifest relpaths that escape the target directory', async () => {
    const store = path.join(root, 'store');
    const evil = Buffer.from('[{"md5": "acbd18db4cc2f85cedef654fccc4a4d8", "relpath": "../escaped"}]');
    const hash = md5(evil);
    await mkdir(path.dirname(objectPath(store, `${hash}.dir`)), { recursive: true });
    await writeFile(objectPath(store, `${hash}.dir`), evil);
    await mkdir(path.dirname(objectPath(store, md5('foo'))), { recursive: true });
    await writeFile(objectPath(store, md5('foo')), 'foo');
    const dvcFile = path.join(root, 'evil.dvc');
    await writeDvcFile(dvcFile, { md5: `${hash}.dir`, size: 3, nfiles: 1, hash: 'md5', path: 'evil' });

    await expect(materialize({ dvcFile, storeDir: store, targetDir: path.join(root, 't') })).rejects.toThrow(DvcStoreError);
    await expect(stat(path.join(root, 'escaped'))).rejects.toThrow();
  });

  it('rejects a .dvc file whose nfiles or size disagree with the tree', async () => {
    const { store, out, target } = await pushed(files);
    const badCount = path.join(root, 'bad-count.dvc');
    await writeDvcFile(badCount, { ...out, nfiles: out.nfiles + 1 });
    await expect(materialize({ dvcFile: badCount, storeDir: store, targetDir: target })).rejects.toThrow(/nfiles/);
    const badSize = path.join(root, 'bad-size.dvc');
    await writeDvcFile(badSize, { ...out, size: out.size + 1 });
    await expect(materialize({ dvcFile: badSize, storeDir: store, targetDir: target })).rejects.toThrow(/size/);
  });
});

describe('readDvcFile validation', () => {
  const good = 'md5: 5ea40360f5b4ec688df672a4db9c17d1.dir\n  size: 6\n  nfiles: 2\n  hash: md5\n  path: dir\n';
  const cases: [string, string, RegExp][] = [
    ['invalid YAML', 'outs: [\n', /not valid YAML/],
    ['no outs', 'foo: 1\n', /exactly one/],
    ['two outs', `outs:\n- ${good}- ${good}`, /exactly one/],
    ['a file out, not a directory', `outs:\n- ${good.replace('.dir', '')}`, /\.dir/],
    ['a DVC 2.x file (no hash)', `outs:\n- ${good.replace('  hash: md5\n', '')}`, /2\.x/],
    ['another hash name', `outs:\n- ${good.replace('hash: md5', 'hash: md5-dos2unix')}`, /unsupported hash/],
    ['negative size', `outs:\n- ${good.replace('size: 6', 'size: -1')}`, /size/],
    ['fractional nfiles', `outs:\n- ${good.replace('nfiles: 2', 'nfiles: 1.5')}`, /nfiles/],
    ['empty path', `outs:\n- ${good.replace('path: dir', "path: ''")}`, /path/],
    ['an empty document', '', /exactly one/],
  ];

  it.each(cases)('rejects %s', async (_name, text, message) => {
    const file = path.join(root, 'bad.dvc');
    await writeFile(file, text);
    const err = await readDvcFile(file).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DvcStoreError);
    expect((err as Error).message).toMatch(message);
  });

  it('accepts the well-formed baseline used above', async () => {
    const file = path.join(root, 'ok.dvc');
    await writeFile(file, `outs:\n- ${good}`);
    await expect(readDvcFile(file)).resolves.toMatchObject({ nfiles: 2 });
  });

  it('rejects a missing file with DvcStoreError', async () => {
    await expect(readDvcFile(path.join(root, 'nope.dvc'))).rejects.toThrow(DvcStoreError);
  });
});
