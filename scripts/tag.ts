/**
 * Tags a CSV file of projects through a running tagserve:
 *
 *   npm run tag -- projects.csv --out tagged.csv [--url http://localhost:8000] [--poll-ms 500]
 *
 * Submits the file as a bulk job (POST /jobs, text/csv with title and description columns), shows
 * a progress bar while it runs, and writes the result (index, input_text, predicted_tag, one
 * probability column per tag) to --out. The job id is saved next to the output (`<out>.job`) the
 * moment the job is accepted: run the same command again after an interruption (Ctrl-C, a lost
 * connection) and it resumes polling that job instead of submitting the file again. When the
 * server has API keys on, the key is read from $TAGSERVE_API_KEY (an environment variable, not an
 * option: a command line shows in `ps` and in shell history); a job is visible only to its key.
 */
import { existsSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';

interface Options {
  input: string;
  out: string;
  url: string;
  pollMs: number;
}

interface SavedJob {
  id: string;
  url: string;
  input: string;
}

interface JobView {
  id: string;
  state: 'queued' | 'active' | 'completed' | 'failed' | 'canceled';
  progress: { texts_done: number; texts_total: number };
  error?: string;
}

function usage(message?: string): never {
  if (message) console.error(`error: ${message}`);
  console.error('usage: npm run tag -- <projects.csv> --out <tagged.csv> [--url http://localhost:8000] [--poll-ms 500]');
  process.exit(2);
}

export function parseArgs(argv: string[]): Options {
  const options: Partial<Options> = { url: process.env.TAGSERVE_URL ?? 'http://localhost:8000', pollMs: 500 };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = () => argv[++i] ?? usage(`${arg} needs a value`);
    if (arg === '--out') options.out = value();
    else if (arg === '--url') options.url = value().replace(/\/+$/, '');
    else if (arg === '--poll-ms') options.pollMs = Number(value());
    else if (arg.startsWith('--')) usage(`unknown option ${arg}`);
    else if (!options.input) options.input = arg;
    else usage(`unexpected argument ${arg}`);
  }
  if (!options.input) usage('the CSV file to tag is missing');
  if (!options.out) usage('--out is missing');
  if (!Number.isFinite(options.pollMs) || options.pollMs! < 50) usage('--poll-ms must be a number of at least 50');
  return options as Options;
}

/** The request with `Authorization: Bearer $TAGSERVE_API_KEY` when that is set. */
function withKey(init: RequestInit = {}): RequestInit {
  const key = process.env.TAGSERVE_API_KEY;
  return key ? { ...init, headers: { ...(init.headers as Record<string, string>), authorization: `Bearer ${key}` } } : init;
}

/** `[#########-----------]  45% 45,000/100,000 texts  active` */
export function progressBar(done: number, total: number, state: string, width = 30): string {
  const ratio = total > 0 ? Math.min(1, done / total) : 0;
  const filled = Math.round(ratio * width);
  const pct = String(Math.floor(ratio * 100)).padStart(3);
  return `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${pct}% ${done.toLocaleString('en')}/${total.toLocaleString('en')} texts  ${state}`;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
async function api(url: string, init: RequestInit = {}): Promise<{ status: number; body: any }> {
  const res = await fetch(url, withKey(init));
  const text = await res.text();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = text;
  }
  return { status: res.status, body };
}

async function submit(options: Options, jobFile: string): Promise<SavedJob> {
  const res = await api(`${options.url}/jobs`, { method: 'POST', headers: { 'content-type': 'text/csv' }, body: readFileSync(options.input) });
  if (res.status !== 202) throw new Error(`the server refused the file (${res.status}): ${res.body?.error ?? res.body}`);
  const saved: SavedJob = { id: res.body.data.id, url: options.url, input: resolve(options.input) };
  writeFileSync(jobFile, JSON.stringify(saved) + '\n');
  console.error(`submitted job ${saved.id} (${res.body.data.progress.texts_total} texts); its id is saved in ${jobFile}`);
  return saved;
}

async function main(): Promise<void> {
  const options = parseArgs(process.argv.slice(2));
  const jobFile = `${options.out}.job`;
  let job: SavedJob;
  if (existsSync(jobFile)) {
    job = JSON.parse(readFileSync(jobFile, 'utf8')) as SavedJob;
    if (job.input !== resolve(options.input)) throw new Error(`${jobFile} belongs to ${job.input}; delete it to tag ${options.input}`);
    console.error(`resuming job ${job.id} (from ${jobFile})`);
  } else {
    job = await submit(options, jobFile);
  }

  process.once('SIGINT', () => {
    console.error(`\ninterrupted; job ${job.id} keeps running on the server. Run the same command again to resume.`);
    process.exit(130);
  });

  const tty = process.stderr.isTTY;
  let lastPrinted = -1;
  let lastState = '';
  let view: JobView;
  for (;;) {
    const res = await api(`${job.url}/jobs/${job.id}?limit=1`);
    if (res.status === 404) {
      rmSync(jobFile, { force: true });
      throw new Error(`job ${job.id} is gone (unknown, or its results expired); run the command again to submit the file anew`);
    }
    if (res.status !== 200) throw new Error(`GET /jobs/${job.id} answered ${res.status}: ${res.body?.error ?? res.body}`);
    view = res.body.data as JobView;
    const line = progressBar(view.progress.texts_done, view.progress.texts_total, view.state);
    if (tty) process.stderr.write(`\r${line}`);
    else {
      // Without a terminal: a line per tenth of the progress and per change of state, so the last
      // line always says how the job ended (the texts can all be done while the job is still active).
      const tenth = Math.floor((view.progress.texts_done / Math.max(1, view.progress.texts_total)) * 10);
      if (tenth !== lastPrinted || view.state !== lastState) console.error(line);
      lastPrinted = tenth;
      lastState = view.state;
    }
    if (view.state === 'completed' || view.state === 'failed' || view.state === 'canceled') break;
    await new Promise((r) => setTimeout(r, options.pollMs));
  }
  if (tty) process.stderr.write('\n');
  if (view.state !== 'completed') {
    rmSync(jobFile, { force: true });
    throw new Error(`job ${job.id} ${view.state}${view.error ? `: ${view.error}` : ''}`);
  }

  const res = await fetch(`${job.url}/jobs/${job.id}/result.csv`, withKey());
  if (res.status !== 200) throw new Error(`GET /jobs/${job.id}/result.csv answered ${res.status}`);
  // Written whole, then renamed: an interrupted download never leaves a truncated --out behind.
  const partial = `${options.out}.partial`;
  writeFileSync(partial, Buffer.from(await res.arrayBuffer()));
  renameSync(partial, options.out);
  rmSync(jobFile, { force: true });
  console.error(`wrote ${view.progress.texts_total} tagged rows to ${options.out}`);
}

if (require.main === module) {
  main().catch((err: Error) => {
    console.error(`error: ${err.message}`);
    process.exit(1);
  });
}
