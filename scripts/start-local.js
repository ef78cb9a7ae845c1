#!/usr/bin/env node
// Runs the built gateway and WORKERS (default 1) worker processes against the Redis in the
// environment (REDIS_HOST/REDIS_PORT), forwarding Ctrl-C/SIGTERM so workers drain their jobs.
const { spawn } = require('node:child_process');
const { join } = require('node:path');

const root = join(__dirname, '..');
const workers = Number(process.env.WORKERS ?? 1);
const children = [];

function run(name, script, env = {}) {
  const child = spawn(process.execPath, [join(root, 'dist', 'apps', script, 'src', 'main.js')], {
    cwd: root,
    env: { ...process.env, ...env },
    stdio: 'inherit',
  });
  child.on('exit', (code, signal) => {
    console.error(`${name} exited (${signal ?? code})`);
    if (!stopping) shutdown('SIGTERM', 1);
  });
  children.push(child);
}

let stopping = false;
function shutdown(signal, exitCode = 0) {
  stopping = true;
  for (const child of children) if (child.exitCode === null) child.kill(signal);
  Promise.all(children.map((c) => (c.exitCode === null ? new Promise((r) => c.once('exit', r)) : null))).then(() => process.exit(exitCode));
}
process.on('SIGINT', () => shutdown('SIGTERM'));
process.on('SIGTERM', () => shutdown('SIGTERM'));

run('api', 'api');
// Each worker materializes the model into its own directory so they never race on files.
for (let i = 0; i < workers; i++) run(`worker-${i + 1}`, 'worker', { MODEL_DIR: process.env.MODEL_DIR ?? join(root, '.cache', `model-${i + 1}`) });
