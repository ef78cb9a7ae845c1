import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type Redis from 'ioredis';
import { send } from './support/http';
import { LABELS } from './support/predictions';
import { Stack } from './support/stack';

const ROOT = join(__dirname, '..');

/** Runs `npm run tag -- ...` as a user would (ts-node, no build), returning its exit code and stderr. */
function runCli(args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['-r', 'ts-node/register/transpile-only', 'scripts/tag.ts', ...args], {
      cwd: ROOT,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('exit', (code) => resolve({ code, stderr }));
  });
}

describe('npm run tag (the CLI for a CSV file)', () => {
  let stack: Stack;
  let redis: Redis;
  let dir: string;
  const rows = Array.from(
    { length: 40 },
    (_, i) => `${i},"Project ${i}, part ${i}","${i % 2 ? 'Object detection with CNNs' : 'Text classification with transformers'}"`,
  );
  const csvText = `id,title,description\n${rows.join('\n')}\n`;

  beforeAll(async () => {
    stack = await Stack.create();
    await stack.startApi();
    await stack.startWorker();
    redis = stack.redis.client();
    dir = mkdtempSync(join(tmpdir(), 'tagserve-cli-'));
    writeFileSync(join(dir, 'projects.csv'), csvText);
  });

  afterAll(async () => {
    redis?.disconnect();
    await stack?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const bulkJobs = async () => (await redis.keys(`${stack.prefix}:bulk-jobs:*`)).filter((key) => /:bulk-jobs:[0-9a-f-]{36}$/.test(key)).length;

  it('submits the file, shows progress and writes the tags and probabilities of every row', async () => {
    const out = join(dir, 'tagged.csv');
    const { code, stderr } = await runCli([join(dir, 'projects.csv'), '--out', out, '--url', stack.url, '--poll-ms', '100']);
    expect(stderr).toContain('submitted job');
    expect(code).toBe(0);
    expect(stderr).toMatch(/\[#+\] 100% 40\/40 texts {2}completed/);
    const lines = readFileSync(out, 'utf8').trimEnd().split('\r\n');
    expect(lines[0]).toBe(['index', 'input_text', 'predicted_tag', ...LABELS].join(','));
    expect(lines).toHaveLength(41);
    expect(lines[1]).toMatch(/^0,"Project 0, part 0 Text classification with transformers",natural-language-processing,/);
    expect(lines[2]).toMatch(/^1,"Project 1, part 1 Object detection with CNNs",computer-vision,/);
    expect(existsSync(`${out}.job`)).toBe(false);
  });

  it('resumes the saved job instead of submitting the file again', async () => {
    const out = join(dir, 'resumed.csv');
    // As if an earlier run was interrupted right after the job was accepted.
    const submitted = await send(`${stack.url}/jobs`, { body: csvText, headers: { 'content-type': 'text/csv' } });
    expect(submitted.status).toBe(202);
    writeFileSync(`${out}.job`, JSON.stringify({ id: submitted.body.data.id, url: stack.url, input: join(dir, 'projects.csv') }));
    const before = await bulkJobs();

    const { code, stderr } = await runCli([join(dir, 'projects.csv'), '--out', out, '--url', stack.url, '--poll-ms', '100']);
    expect(code).toBe(0);
    expect(stderr).toContain(`resuming job ${submitted.body.data.id}`);
    expect(await bulkJobs()).toBe(before);
    expect(readFileSync(out, 'utf8').trimEnd().split('\r\n')).toHaveLength(41);
  });

  it('says what is wrong with a refused file and exits non-zero', async () => {
    writeFileSync(join(dir, 'bad.csv'), 'name,text\na,b\n');
    const { code, stderr } = await runCli([join(dir, 'bad.csv'), '--out', join(dir, 'bad-out.csv'), '--url', stack.url]);
    expect(code).toBe(1);
    expect(stderr).toContain('422');
    expect(stderr).toContain('missing title, description');
  });

  it('sends the key in $TAGSERVE_API_KEY when the server has API keys on, and says 401 without it', async () => {
    const key = 'tag-cli-test-key-0123456789abcdef';
    await stack.api!.stop();
    await stack.startApi({ API_KEYS: key });
    const out = join(dir, 'with-key.csv');
    const refused = await runCli([join(dir, 'projects.csv'), '--out', out, '--url', stack.url], { TAGSERVE_API_KEY: '' });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('401');
    const { code, stderr } = await runCli([join(dir, 'projects.csv'), '--out', out, '--url', stack.url, '--poll-ms', '100'], { TAGSERVE_API_KEY: key });
    expect(stderr).toContain('submitted job');
    expect(code).toBe(0);
    expect(readFileSync(out, 'utf8').trimEnd().split('\r\n')).toHaveLength(41);
  });
});
