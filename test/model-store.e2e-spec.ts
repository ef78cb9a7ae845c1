import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { AppProcess } from './support/app-process';
import { uniqueQueuePrefix } from './support/queue-keys';
import { RedisServer } from './support/redis-server';

const ROOT = join(__dirname, '..');

/** Where DVC keeps an object: files/md5/<2 hex>/<30 hex>. */
function objectPath(store: string, md5: string): string {
  return join(store, 'files', 'md5', md5.slice(0, 2), md5.slice(2));
}

describe('worker start-up from the DVC store', () => {
  let redis: RedisServer;
  let dir: string;

  beforeAll(async () => {
    redis = await RedisServer.start();
  });

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'tagserve-store-'));
    cpSync(join(ROOT, 'stores', 'blob'), join(dir, 'blob'), { recursive: true });
  });

  afterEach(() => rmSync(dir, { recursive: true, force: true }));
  afterAll(() => redis.dispose());

  function startWorker(): AppProcess {
    return AppProcess.start('worker', {
      REDIS_HOST: '127.0.0.1',
      REDIS_PORT: String(redis.port),
      QUEUE_PREFIX: uniqueQueuePrefix(),
      MODEL_DVC_FILE: join(ROOT, 'stores', 'model.dvc'),
      DVC_STORE_DIR: join(dir, 'blob'),
      MODEL_DIR: join(dir, 'model'),
    });
  }

  /** The md5 of one file of the shipped tree, read from its .dir manifest. */
  function manifestEntry(relpath: string): string {
    const out = parse(readFileSync(join(ROOT, 'stores', 'model.dvc'), 'utf8')).outs[0];
    const manifest = JSON.parse(readFileSync(objectPath(join(dir, 'blob'), out.md5), 'utf8')) as Array<{ md5: string; relpath: string }>;
    return manifest.find((e) => e.relpath === relpath)!.md5;
  }

  it('refuses to start, naming the file, when a store object does not match its checksum', async () => {
    const md5 = manifestEntry('head.json');
    writeFileSync(objectPath(join(dir, 'blob'), md5), '{"tampered": true}');
    const worker = startWorker();
    expect(await worker.waitForExit()).toBe(1);
    const log = worker.output.join('\n');
    expect(log).toMatch(/failed to start/);
    expect(log).toMatch(new RegExp(`checksum mismatch for 'head.json': expected md5 ${md5}`));
    expect(log).not.toMatch(/worker ready/);
  });

  it('refuses to start when a store object is missing', async () => {
    rmSync(objectPath(join(dir, 'blob'), manifestEntry('performance.json')));
    const worker = startWorker();
    expect(await worker.waitForExit()).toBe(1);
    expect(worker.output.join('\n')).toMatch(/performance\.json/);
  });

  it('starts from an intact copy of the store', async () => {
    const worker = startWorker();
    await worker.waitForLog(/worker ready/, 90_000);
    expect(await worker.stop('SIGTERM')).toBe(0);
  });

  it('a SIGTERM right at "worker ready", while the bulk workers start, stops it cleanly every time (6 starts)', async () => {
    // The signal lands around the hand-over from the start-up hold-back to Nest's shutdown hooks;
    // when the hold-back listener came off first, 1 start in 6 never stopped (the signal was dropped).
    for (let i = 0; i < 6; i++) {
      const worker = startWorker();
      await worker.waitForLog(/worker ready/, 90_000);
      expect(await worker.stop('SIGTERM')).toBe(0);
    }
  });

  it('a SIGTERM while the model loads is held until start-up ends, then the worker stops cleanly (exit 0)', async () => {
    const worker = startWorker();
    await worker.waitForLog(/model materialized/, 90_000);
    const code = await worker.stop('SIGTERM', 60_000);
    if (code !== 0) console.log(worker.output.join('\n'));
    expect(code).toBe(0);
  });
});
