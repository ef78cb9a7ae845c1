import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';

const SCRIPT = join(__dirname, 'worker-entrypoint.sh');

/** Every file under `root`, as paths relative to it. */
function filesUnder(root: string): string[] {
  return readdirSync(root, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => relative(root, join(entry.parentPath ?? entry.path, entry.name)))
    .sort();
}

function write(root: string, path: string, content: string): void {
  mkdirSync(dirname(join(root, path)), { recursive: true });
  writeFileSync(join(root, path), content);
}

/**
 * The worker image's entrypoint, run for real with `sh` against temp dirs laid out like the image
 * (APP_DIR/stores/.image-blob seeds APP_DIR/stores/blob, the volume): a volume first seeded by an
 * older image must end up holding this image's objects, without rewriting the ones it already has.
 */
describe('worker-entrypoint.sh: merging the image objects into an older store volume', () => {
  // Content-addressed objects as DVC lays them out: files/md5/<2 hex>/<30 hex>.
  const SHARED = 'files/md5/aa/0000000000000000000000000000aa'; // in both images
  const CORRUPTED = 'files/md5/bb/0000000000000000000000000000bb'; // on the volume, but with other bytes
  const NEW_OBJECT = 'files/md5/cc/0000000000000000000000000000cc'; // only in the newer image
  const NEW_MANIFEST = 'files/md5/dd/0000000000000000000000000000dd.dir'; // new prefix dir too
  const OLD_ONLY = 'files/md5/ee/0000000000000000000000000000ee'; // the older model's, kept
  const seedFiles: Record<string, string> = {
    [SHARED]: 'shared object bytes',
    [CORRUPTED]: 'the right bytes of bb',
    [NEW_OBJECT]: 'an object only the new image has',
    [NEW_MANIFEST]: '[{"md5": "cc", "relpath": "model.onnx"}]',
  };
  // Well in the past, so a rewrite within the same second as the setup would still show.
  const OLD_TIME = new Date('2020-01-01T00:00:00Z');
  let root: string;
  let app: string;
  let store: string;

  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'tagserve-entrypoint-'));
    app = join(root, 'app');
    store = join(app, 'stores', 'blob');
    for (const [path, content] of Object.entries(seedFiles)) write(join(app, 'stores', '.image-blob'), path, content);
    write(store, SHARED, seedFiles[SHARED]);
    write(store, CORRUPTED, 'truncated');
    write(store, OLD_ONLY, 'an object of the older model');
    for (const path of [SHARED, CORRUPTED, OLD_ONLY]) utimesSync(join(store, path), OLD_TIME, OLD_TIME);
  });

  afterEach(() => rmSync(root, { recursive: true, force: true }));

  /** Runs the script as the image does (the CMD as its arguments) and returns the CMD's stdout. */
  function entrypoint(cmd: string[], env: Record<string, string> = {}): string {
    return execFileSync('sh', [SCRIPT, ...cmd], {
      env: { PATH: process.env.PATH ?? '', APP_DIR: app, HOSTNAME: 'replica-1', ...env },
      encoding: 'utf8',
      timeout: 10_000,
    });
  }

  it('copies missing objects, replaces differing ones, leaves identical ones untouched and no temp files behind', () => {
    const before = Object.fromEntries([SHARED, CORRUPTED, OLD_ONLY].map((path) => [path, statSync(join(store, path))]));

    entrypoint(['true']);

    for (const [path, content] of Object.entries(seedFiles)) expect([path, readFileSync(join(store, path), 'utf8')]).toEqual([path, content]);
    // Identical: not rewritten (same inode, same old mtime).
    const shared = statSync(join(store, SHARED));
    expect(shared.ino).toBe(before[SHARED].ino);
    expect(shared.mtimeMs).toBe(OLD_TIME.getTime());
    // Differing: replaced by rename (a new inode), never rewritten in place where a reader could see half of it.
    expect(statSync(join(store, CORRUPTED)).ino).not.toBe(before[CORRUPTED].ino);
    // The older model's object stays: a replica of the older image may still be serving it.
    const oldOnly = statSync(join(store, OLD_ONLY));
    expect([oldOnly.ino, oldOnly.mtimeMs]).toEqual([before[OLD_ONLY].ino, OLD_TIME.getTime()]);
    // Exactly the seed plus the older object: no `.tmp-*` file left.
    expect(filesUnder(store)).toEqual([...Object.keys(seedFiles), OLD_ONLY].sort());
  });

  it('a second start (volume already up to date) changes nothing', () => {
    entrypoint(['true']);
    const stats = Object.fromEntries(filesUnder(store).map((path) => [path, statSync(join(store, path))]));
    entrypoint(['true']);
    expect(filesUnder(store)).toEqual(Object.keys(stats).sort());
    for (const [path, stat] of Object.entries(stats)) {
      const now = statSync(join(store, path));
      expect([path, now.ino, now.mtimeMs]).toEqual([path, stat.ino, stat.mtimeMs]);
    }
  });

  it('fills an absolute DVC_STORE_DIR from TAGSERVE_IMAGE_BLOB, creating it, and execs the CMD in APP_DIR with its arguments', () => {
    const elsewhere = join(root, 'volume', 'blob');
    const seed = join(root, 'other-seed');
    write(seed, NEW_OBJECT, 'from the other seed');
    const out = entrypoint(['sh', '-c', 'echo "$PWD|$1"', 'cmd', 'arg one'], { DVC_STORE_DIR: elsewhere, TAGSERVE_IMAGE_BLOB: seed });
    expect(out.trim()).toBe(`${app}|arg one`);
    expect(filesUnder(elsewhere)).toEqual([NEW_OBJECT]);
    expect(readFileSync(join(elsewhere, NEW_OBJECT), 'utf8')).toBe('from the other seed');
  });

  it('without a seed dir (an image built without one) it only execs the CMD', () => {
    rmSync(join(app, 'stores', '.image-blob'), { recursive: true });
    const before = filesUnder(store);
    expect(entrypoint(['sh', '-c', 'echo started']).trim()).toBe('started');
    expect(filesUnder(store)).toEqual(before);
  });
});
