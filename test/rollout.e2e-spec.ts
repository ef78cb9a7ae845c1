import { readDvcFile } from '@tagserve/dvc-store';
import { Agent } from 'node:http';
import { AppProcess } from './support/app-process';
import { HttpResult, metricValue, send, sleep } from './support/http';
import { Stack } from './support/stack';

/**
 * A model rollout and rollback under load, as scripts/rollout.sh does it with Compose, here with
 * processes: start workers of the new version, wait until they serve, SIGTERM the old ones (they
 * drain and exit 0). No request fails, answers switch from A to B and back, and no request gets
 * predictions of two versions: every text always gets the same probabilities from the version
 * the answer names, and the two versions disagree on every text of the pool.
 */
describe('rollout and rollback under load', () => {
  const POOL = [
    'Transfer learning with transformers for text classification.',
    'YOLO real-time object detection and image segmentation with convolutional networks.',
    'Serving models in production: CI/CD, monitoring, feature stores and model registry.',
    'A curated list of awesome resources and tutorials.',
    'Graph neural networks for molecule property prediction.',
    'Speech recognition with wav2vec and CTC decoding.',
  ];
  const WORKERS = 2;
  let stack: Stack;
  let versionA: string;
  let versionB: string;

  interface Answer {
    sentAt: number;
    res: HttpResult;
    texts: string[];
  }

  beforeAll(async () => {
    versionA = (await readDvcFile('stores/model.dvc')).md5;
    versionB = (await readDvcFile('stores/model-b.dvc')).md5;
    stack = await Stack.create({ QUEUE_PREFIX: 'e2e-rollout', WORKER_HEARTBEAT_MS: '500' });
    await stack.startApi();
    await Promise.all(Array.from({ length: WORKERS }, () => stack.startWorker()));
    await stack.waitUntilReady();
  });

  afterAll(async () => {
    await stack?.stop();
  });

  /** Versions /performance lists, as `<version>=<workers>`, polled until `expected` or the deadline. */
  const waitForServed = async (expected: string[], ms = 15_000): Promise<void> => {
    const deadline = Date.now() + ms;
    let listed: string[] = [];
    while (Date.now() < deadline) {
      const res = await send(`${stack.url}/performance`, { method: 'GET' });
      listed = (res.body?.data?.versions ?? []).map((v: { model_version: string; workers: number }) => `${v.model_version}=${v.workers}`).sort();
      if (listed.join() === [...expected].sort().join()) return;
      await sleep(100);
    }
    throw new Error(`/performance listed ${listed.join(', ')} instead of ${expected.join(', ')} within ${ms} ms`);
  };

  /** Starts `WORKERS` workers of `dvcFile`, waits until both versions are listed, then SIGTERMs `old`; returns their exit codes. */
  const replace = async (old: AppProcess[], dvcFile: string, from: string, to: string): Promise<Array<number | null>> => {
    const fresh = await Promise.all(Array.from({ length: WORKERS }, () => stack.startWorker({ MODEL_DVC_FILE: dvcFile })));
    await waitForServed([`${from}=${WORKERS}`, `${to}=${WORKERS}`]);
    const codes = await Promise.all(old.map((w) => w.stop('SIGTERM', 60_000)));
    await waitForServed([`${to}=${WORKERS}`]);
    for (const w of old) stack.workers.splice(stack.workers.indexOf(w), 1);
    expect(fresh.every((w) => w.running)).toBe(true);
    return codes;
  };

  it('switches A -> B -> A with no failed request and no request answered by two versions', async () => {
    const agent = new Agent({ keepAlive: true, maxSockets: 16 });
    const answers: Answer[] = [];
    let running = true;
    const client = async (id: number) => {
      for (let n = 0; running; n++) {
        // 1 to 4 texts of the pool, rotated: requests of several texts share jobs with others.
        const texts = Array.from({ length: 1 + ((id + n) % 4) }, (_, i) => POOL[(id + n + i) % POOL.length]);
        const sentAt = Date.now();
        const res = await send(`${stack.url}/predict`, { body: { texts: texts.map((text) => ({ text })) }, agent, timeoutMs: 30_000 });
        answers.push({ sentAt, res, texts });
      }
    };
    const clients = Array.from({ length: 8 }, (_, i) => client(i));
    const marks: Record<string, number> = {};

    await sleep(1500);
    const oldA = [...stack.workers];
    marks.rolloutStart = Date.now();
    const rolloutExits = await replace(oldA, 'stores/model-b.dvc', versionA, versionB);
    marks.rolloutDone = Date.now();
    await sleep(1500);
    const oldB = [...stack.workers];
    marks.rollbackStart = Date.now();
    const rollbackExits = await replace(oldB, 'stores/model.dvc', versionB, versionA);
    marks.rollbackDone = Date.now();
    await sleep(1500);
    running = false;
    await Promise.all(clients);
    agent.destroy();

    const version = (a: Answer) => a.res.body?.data?.model_version;
    const count = (from: number, to: number) => {
      const counts: Record<string, number> = {};
      for (const a of answers.filter((x) => x.sentAt >= from && x.sentAt < to)) counts[version(a)] = (counts[version(a)] ?? 0) + 1;
      return counts;
    };
    const phases = {
      before: count(0, marks.rolloutStart),
      rollout: count(marks.rolloutStart, marks.rolloutDone),
      onB: count(marks.rolloutDone, marks.rollbackStart),
      rollback: count(marks.rollbackStart, marks.rollbackDone),
      after: count(marks.rollbackDone, Infinity),
    };
    console.log(
      `rollout under load: ${answers.length} requests; versions by phase ${JSON.stringify(phases)}; old workers exited ${rolloutExits} / ${rollbackExits}`,
    );

    expect(answers.filter((a) => a.res.status !== 200).map((a) => `${a.res.status} ${a.res.error ?? a.res.text}`)).toEqual([]);
    expect(rolloutExits).toEqual([0, 0]);
    expect(rollbackExits).toEqual([0, 0]);
    // The header and the body always agree.
    expect(answers.filter((a) => a.res.headers['x-model-version'] !== version(a))).toEqual([]);
    expect(Object.keys(phases.before)).toEqual([versionA]);
    expect(Object.keys(phases.onB)).toEqual([versionB]);
    expect(Object.keys(phases.after)).toEqual([versionA]);
    expect(phases.onB[versionB]).toBeGreaterThan(0);

    // No mix: each (version, text) always gets the same probabilities, and the versions disagree on
    // every text. Compared as log-probabilities: both versions are near-certain on some texts, where
    // plain probabilities differ by less than 1e-4 while their small ones differ several-fold.
    const logDistance = (a: Record<string, number>, b: Record<string, number>) =>
      Math.max(...Object.keys(a).map((label) => Math.abs(Math.log(a[label]) - Math.log(b[label]))));
    const reference = new Map<string, Record<string, number>>();
    const mismatches: string[] = [];
    for (const a of answers) {
      a.res.body.data.predictions.forEach((p: { input_text: string; predicted_probabilities: Record<string, number> }, i: number) => {
        expect(p.input_text).toBe(a.texts[i]);
        const key = `${version(a)} ${p.input_text}`;
        const ref = reference.get(key);
        // Padded batches of other sizes move float32 logits by about 1e-6: far below 1e-3.
        if (!ref) reference.set(key, p.predicted_probabilities);
        else if (logDistance(ref, p.predicted_probabilities) > 1e-3) mismatches.push(key);
      });
    }
    expect(mismatches).toEqual([]);
    const versionGap = POOL.map((text) => logDistance(reference.get(`${versionA} ${text}`)!, reference.get(`${versionB} ${text}`)!));
    console.log(`log-probability gap between the versions per text: ${versionGap.map((d) => d.toFixed(2)).join(', ')}`);
    expect(Math.min(...versionGap)).toBeGreaterThan(0.05);

    // Drift signals: counted per version at the gateway, one observation per answered text.
    const metrics = (await send(`${stack.url}/metrics`, { method: 'GET' })).text;
    const texts = (v: string) => answers.filter((a) => version(a) === v).reduce((n, a) => n + a.texts.length, 0);
    for (const v of [versionA, versionB]) {
      expect(metricValue(metrics, 'tagserve_predictions_total', { model_version: v })).toBe(texts(v));
      expect(metricValue(metrics, 'tagserve_prediction_top_probability_count', { model_version: v })).toBe(texts(v));
    }
  });
});
