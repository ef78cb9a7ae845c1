/**
 * The bulk-job part of `npm run bench` on its own (see scripts/bench/jobs.ts):
 *
 *   npm run build && npm run bench:jobs -- --holdout ../shared/datasets/made-with-ml/holdout.csv \
 *     [--texts 100000] [--clients 8] [--seconds 10] [--json out.json]
 */
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { removeTempDirs } from './bench/artifacts';
import { benchJobs, jobsReport } from './bench/jobs';
import { loadHoldout } from './bench/texts';

const { values: opts } = parseArgs({
  options: {
    holdout: { type: 'string' },
    texts: { type: 'string', default: '100000' },
    clients: { type: 'string', default: '8' },
    seconds: { type: 'string', default: '10' },
    json: { type: 'string' },
  },
});

async function main(): Promise<void> {
  const texts = (await loadHoldout(opts.holdout)).texts;
  const clients = Number(opts.clients);
  const result = await benchJobs({ texts, jobTexts: Number(opts.texts), clients, seconds: Number(opts.seconds) });
  process.stdout.write(`\n${jobsReport(result, clients)}\n`);
  if (opts.json) writeFileSync(opts.json, JSON.stringify(result, null, 2) + '\n');
}

main().then(
  () => (removeTempDirs(), process.exit(0)),
  (err: Error) => {
    console.error(err.stack ?? err.message);
    removeTempDirs();
    process.exit(1);
  },
);
