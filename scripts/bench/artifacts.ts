/** The models the bench serves, each as a DVC store + pointer a worker can be started on (MODEL_DVC_FILE, DVC_STORE_DIR). */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { materialize, pushDirectory, writeDvcFile } from '@tagserve/dvc-store';

const ROOT = join(__dirname, '..', '..');

export interface ServedModel {
  label: string;
  /** The artifact, materialized (for the in-process phases). */
  dir: string;
  dvcFile: string;
  storeDir: string;
}

const made: string[] = [];

export function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), `tagserve-bench-${prefix}-`));
  made.push(dir);
  return dir;
}

/** Removes every directory tempDir made. */
export function removeTempDirs(): void {
  for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true });
}

export async function materializeStore(label: string, dvcFile: string, storeDir: string): Promise<ServedModel> {
  const dir = join(tempDir('model'), 'model');
  await materialize({ dvcFile, storeDir, targetDir: dir });
  return { label, dir, dvcFile, storeDir };
}

/** Pushes an artifact directory into a new temporary DVC store. */
export async function pushToTempStore(label: string, dir: string): Promise<ServedModel> {
  const root = tempDir('store');
  const out = await pushDirectory(dir, join(root, 'blob'), 'model');
  await writeDvcFile(join(root, 'model.dvc'), out);
  return { label, dir, dvcFile: join(root, 'model.dvc'), storeDir: join(root, 'blob') };
}

/** `npm run train -- --features tfidf --no-push`: the char TF-IDF-only head, trained by the project's own trainer. */
export async function trainTfidfHead(encoderDir: string, dataset: string, holdout: string, outDir: string): Promise<void> {
  const args = ['-r', 'ts-node/register/transpile-only', '-r', 'tsconfig-paths/register', 'scripts/train.ts'];
  args.push('--features', 'tfidf', '--no-push', '--encoder', encoderDir, '--dataset', dataset, '--holdout', holdout, '--out', outDir);
  const child = spawn(process.execPath, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (c: Buffer) => (output += c.toString()));
  let stderr = '';
  child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  // A head that fails the behavioural gate is still written to --out (train refuses only the
  // push): as the bench's cost peer it may serve, with the failure said.
  const gate = /refusing to push: [^\n]*\n((?: {2}[^\n]*\n?)*)/.exec(stderr);
  if (code !== 0 && !(gate && existsSync(join(outDir, 'head.json')))) throw new Error(`training the tf-idf head failed (${code}):\n${output}${stderr}`);
  const f1 = /holdout \(\d+\): weighted-F1 (\S+),/.exec(output)?.[1];
  const failing = gate ? `; fails the behavioural gate (not shippable, served here as the cost peer only): ${gate[1].trim()}` : '';
  process.stderr.write(`[bench] tf-idf-only head trained: holdout weighted-F1 ${f1}${failing}\n`);
}
