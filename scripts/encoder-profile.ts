/**
 * The encoder alone on the course's holdout texts: FLOPs per token read from the graph, the bound
 * they give on one core, CPU ms per text for several ONNX files measured in interleaved rounds (the
 * machine's speed drifts, so only figures from one run compare), and ONNX Runtime's own per-node
 * profile (where the time goes).
 *
 *   npm run encoder:profile -- --encoder ../shared/models/use-lite \
 *     --model fp32=../shared/models/use-lite/onnx/model.onnx --model q8=../shared/models/use-lite/onnx/model_quantized.onnx \
 *     --model int8=/tmp/use-lite-int8/onnx/model_int8.onnx [--rounds 3] [--batch 1] [--profile] [--json out.json]
 *
 * One intra-op thread, sequential execution, graph optimization 'all' (what the worker runs).
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { parseArgs } from 'node:util';
import * as ort from 'onnxruntime-node';
import { loadHoldout } from './bench/texts';
import { fp32PeakGflops, loadTokenizer, macsPerToken } from './encoder/flops';
import { profileByOp, type OpTime } from './encoder/ort-profile';

const { values } = parseArgs({
  options: {
    encoder: { type: 'string', default: '../shared/models/use-lite' },
    holdout: { type: 'string' },
    model: { type: 'string', multiple: true, default: [] },
    rounds: { type: 'string', default: '3' },
    batch: { type: 'string', default: '1' },
    profile: { type: 'boolean', default: false },
    spinning: { type: 'string', default: '1' },
    json: { type: 'string' },
  },
});

interface Feed {
  tokens: number;
  feeds: Record<string, ort.Tensor>;
}

async function tokenize(encoderDir: string, texts: string[], batch: number): Promise<Feed[]> {
  const tokenizer = await loadTokenizer(encoderDir);
  const out: Feed[] = [];
  for (let i = 0; i < texts.length; i += batch) {
    const enc = tokenizer(texts.slice(i, i + batch));
    const feeds: Record<string, ort.Tensor> = {};
    for (const name of ['input_ids', 'attention_mask'] as const) feeds[name] = new ort.Tensor('int64', enc[name].data, enc[name].dims);
    out.push({ tokens: enc.input_ids.dims[0] * enc.input_ids.dims[1], feeds });
  }
  return out;
}

function sessionOptions(profilePrefix?: string): ort.InferenceSession.SessionOptions {
  return {
    intraOpNumThreads: 1,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
    extra: { session: { 'intra_op.allow_spinning': values.spinning } },
    ...(profilePrefix ? { enableProfiling: true, profileFilePrefix: profilePrefix } : {}),
  };
}

async function cpuMsPerText(session: ort.InferenceSession, feeds: Feed[], texts: number): Promise<number> {
  const cpu0 = process.cpuUsage();
  for (const f of feeds) await session.run(f.feeds);
  const cpu = process.cpuUsage(cpu0);
  return (cpu.user + cpu.system) / 1000 / texts;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function main(): Promise<void> {
  const models = (values.model as string[]).map((m) => {
    const [name, file] = m.split('=');
    return { name, file: path.resolve(file) };
  });
  if (models.length === 0) throw new Error('give at least one --model name=file.onnx');
  const { texts } = await loadHoldout(values.holdout);
  const batch = Number(values.batch);
  const feeds = await tokenize(values.encoder!, texts, batch);
  const tokens = feeds.reduce((a, f) => a + f.tokens, 0);
  const fp32 = path.join(path.resolve(values.encoder!), 'onnx', 'model.onnx');
  const { macs, matmuls } = macsPerToken(fp32);
  const peak = fp32PeakGflops();
  const gflopPerText = (2 * macs * tokens) / texts.length / 1e9;
  console.log(`${texts.length} holdout texts, batch ${batch}: ${(tokens / texts.length).toFixed(1)} tokens per text (padding included)`);
  console.log(
    `graph: ${matmuls} per-token MatMuls, ${(macs / 1e6).toFixed(2)} M MAC = ${((2 * macs) / 1e6).toFixed(2)} MFLOP per token, ${gflopPerText.toFixed(3)} GFLOP per text`,
  );
  console.log(
    `one core: ${peak.isa} at ${peak.ghz.toFixed(2)} GHz, fp32 peak ${peak.gflops.toFixed(0)} GFLOP/s -> fp32 bound ${((gflopPerText / peak.gflops) * 1000).toFixed(2)} ms per text`,
  );

  const sessions = await Promise.all(models.map((m) => ort.InferenceSession.create(m.file, sessionOptions())));
  for (const s of sessions) for (let i = 0; i < 30; i++) await s.run(feeds[i % feeds.length].feeds);
  const perModel = models.map(() => [] as number[]);
  for (let r = 0; r < Number(values.rounds); r++) {
    for (let i = 0; i < models.length; i++) perModel[i].push(await cpuMsPerText(sessions[i], feeds, texts.length));
  }
  const base = median(perModel[0]);
  const results = models.map((m, i) => {
    const ms = median(perModel[i]);
    return { name: m.name, cpuMsPerText: ms, speedup: base / ms, gflops: gflopPerText / (ms / 1000), rounds: perModel[i] };
  });
  for (const r of results) {
    console.log(
      `${r.name.padEnd(10)} ${r.cpuMsPerText.toFixed(2)} CPU ms per text (median of ${r.rounds.map((x) => x.toFixed(2)).join(' / ')}), ` +
        `${r.speedup.toFixed(2)}x ${models[0].name}, ${r.gflops.toFixed(1)} GFLOP/s effective`,
    );
  }
  await Promise.all(sessions.map((s) => s.release()));

  const profiles: Record<string, OpTime[]> = {};
  if (values.profile) {
    for (const m of models) {
      const prefix = path.join(os.tmpdir(), `encoder-profile-${m.name}`);
      const s = await ort.InferenceSession.create(m.file, sessionOptions(prefix));
      for (const f of feeds) await s.run(f.feeds);
      s.endProfiling();
      await s.release();
      // ORT names the trace <prefix>_<timestamp>.json and does not return the name to JS.
      const base = path.basename(prefix) + '_';
      const file = path.join(
        os.tmpdir(),
        fs
          .readdirSync(os.tmpdir())
          .filter((f) => f.startsWith(base) && f.endsWith('.json'))
          .sort()
          .pop()!,
      );
      profiles[m.name] = profileByOp(fs.readFileSync(file, 'utf8'), feeds.length);
      fs.rmSync(file, { force: true });
      const total = profiles[m.name].reduce((a, o) => a + o.usPerRun, 0);
      console.log(`\nORT profile, ${m.name}: ${(total / 1000).toFixed(2)} ms of kernels per run (batch ${batch})`);
      for (const o of profiles[m.name].slice(0, 8)) {
        console.log(
          `  ${o.op.padEnd(28)} ${String(o.nodes).padStart(3)} nodes ${(o.usPerRun / 1000).toFixed(3)} ms ${((o.usPerRun / total) * 100).toFixed(1)} %`,
        );
      }
    }
  }
  if (values.json) fs.writeFileSync(values.json, JSON.stringify({ texts: texts.length, tokens, macsPerToken: macs, peak, results, profiles }, null, 2) + '\n');
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
