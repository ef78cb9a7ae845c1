#!/usr/bin/env node
'use strict';
/*
 * Container healthcheck (the slim Node images have no curl). Exit 0 = healthy, 1 = unhealthy;
 * the one line printed ends up in `docker inspect --format '{{json .State.Health}}'`.
 *
 *   node scripts/healthcheck.js api [live|ready]
 *       GET http://127.0.0.1:$PORT/health/<live|ready> (default live; HEALTHCHECK_PROBE overrides
 *       the default) must answer 200 within HEALTHCHECK_TIMEOUT_MS (default 3000).
 *   node scripts/healthcheck.js worker
 *       $WORKER_HEARTBEAT_FILE must exist and be fresher than 3 x WORKER_HEARTBEAT_MS. The worker
 *       writes it once its model is loaded, refreshes it every WORKER_HEARTBEAT_MS while it does its
 *       job (consuming, no job stuck past WORKER_MAX_JOB_MS, no fetch loop stalled past
 *       WORKER_STALL_MS while jobs wait; the worker logs why it withholds a beat) and removes it
 *       on shutdown. Defaults match libs/config/src/config.schema.ts.
 */
const fs = require('node:fs');
const http = require('node:http');
const os = require('node:os');
const path = require('node:path');

function done(healthy, message) {
  (healthy ? process.stdout : process.stderr).write(`${healthy ? 'healthy' : 'unhealthy'}: ${message}\n`);
  process.exit(healthy ? 0 : 1);
}

function positive(name, fallback) {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  return Number.isFinite(value) && value > 0 ? value : fallback;
}

function checkApi(probe) {
  if (probe !== 'live' && probe !== 'ready') done(false, `unknown api probe '${probe}' (live|ready)`);
  const port = positive('PORT', 8000);
  const timeoutMs = positive('HEALTHCHECK_TIMEOUT_MS', 3000);
  const url = `http://127.0.0.1:${port}/health/${probe}`;
  const req = http.get(url, { timeout: timeoutMs }, (res) => {
    res.resume();
    done(res.statusCode === 200, `GET ${url} -> ${res.statusCode}`);
  });
  req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
  req.on('error', (err) => done(false, `GET ${url} -> ${err.message}`));
}

function checkWorker() {
  const file = process.env.WORKER_HEARTBEAT_FILE || path.join(os.tmpdir(), 'tagserve-worker.alive');
  const maxAgeMs = 3 * positive('WORKER_HEARTBEAT_MS', 5000);
  let stat;
  try {
    stat = fs.statSync(file);
  } catch (err) {
    done(false, `no heartbeat file ${file} (${err.code || err.message}): model not loaded yet, or shutting down`);
  }
  const ageMs = Date.now() - stat.mtimeMs;
  done(ageMs <= maxAgeMs, `heartbeat ${file} is ${Math.round(ageMs)} ms old (limit ${maxAgeMs} ms)`);
}

const [mode, probe] = process.argv.slice(2);
if (mode === 'api') checkApi(probe || process.env.HEALTHCHECK_PROBE || 'live');
else if (mode === 'worker') checkWorker();
else done(false, `usage: healthcheck.js api [live|ready] | worker (got '${mode || ''}')`);
