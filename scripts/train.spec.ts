import { execFile } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { promisify } from 'util';
import { readDvcFile } from '@tagserve/dvc-store';
import { pushArtifact, writeArtifact } from './train-artifact';
import { parseTrainOptions } from './train-options';
import { argsJson, loadTrainingData, trainAndEvaluate } from './train-run';

/**
 * Training is reproducible (same inputs -> same DVC hash, so a changed hash always means a changed
 * model) and gated (a model failing the behavioural tests is never pushed). Both train a
 * tf-idf-only head (no encoder needed) on the committed data files: data/extra.csv (100 rows) as
 * the training set and data/fresh.csv as the holdout.
 */
const ROOT = path.resolve(__dirname, '..');

describe('npm run train', () => {
  jest.setTimeout(300_000);
  let tmp: string;
  let flags: string[];

  beforeAll(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tagserve-train-'));
    flags = [
      '--dataset',
      'data/extra.csv',
      '--holdout',
      'data/fresh.csv',
      '--fresh',
      'none',
      '--relabels',
      'none',
      '--extra',
      'none',
      '--features',
      'tfidf',
      '--folds',
      '3',
      '--max-iter',
      '100',
    ];
  });

  afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

  /** Where a run under `dir` writes its artifact, its store and its DVC pointer. */
  const outputFlags = (dir: string) => ['--out', path.join(dir, 'model'), '--store', path.join(dir, 'blob'), '--dvc-file', path.join(dir, 'model.dvc')];

  async function trainAndPush(name: string, extra: string[] = []): Promise<string> {
    const o = parseTrainOptions([...flags, ...extra, ...outputFlags(path.join(tmp, name))]);
    const data = await loadTrainingData(o);
    const ev = trainAndEvaluate(o.head, data, () => null, o.folds);
    writeArtifact(o.out, null, { head: ev.head.toJSON(), args: argsJson(o, data, null, ev), performance: ev.performance });
    await pushArtifact(o.out, o.store, o.dvcFile);
    return (await readDvcFile(o.dvcFile)).md5;
  }

  it('gives the same DVC hash for the same inputs, and another one when the model changes', async () => {
    const first = await trainAndPush('a');
    const second = await trainAndPush('b');
    expect(second).toBe(first);
    const otherC = await trainAndPush('c', ['--C', '3']);
    expect(otherC).not.toBe(first);
  });

  it('refuses to push a model that fails the behavioural tests, listing the failures', async () => {
    const dir = path.join(tmp, 'gate');
    const run = promisify(execFile)(
      process.execPath,
      [require.resolve('ts-node/dist/bin'), '-r', 'tsconfig-paths/register', 'scripts/train.ts', ...flags, ...outputFlags(dir)],
      { cwd: ROOT, env: { ...process.env, TS_NODE_TRANSPILE_ONLY: '1' } },
    );
    // 100 rows of tf-idf cannot tell "This should not produce any relevant topics." from NLP.
    const failure = (await run.then(
      () => null,
      (err: { code: number; stderr: string }) => err,
    )) as { code: number; stderr: string } | null;
    expect(failure).not.toBeNull();
    expect(failure?.code).toBe(1);
    expect(failure?.stderr).toMatch(/refusing to push: \d+ check\(s\) failed/);
    expect(failure?.stderr).toMatch(/expected (other|natural-language-processing|computer-vision|mlops)/);
    expect(fs.existsSync(path.join(dir, 'blob'))).toBe(false);
    expect(fs.existsSync(path.join(dir, 'model.dvc'))).toBe(false);
  });
});
