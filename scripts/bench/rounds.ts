/**
 * Throughput ratios measured in alternation. Sequential phases a few minutes apart drifted by up to
 * 20 % between them on the 2-core machine: in one run the stack with 1 worker at 64 clients
 * measured 1.21x the raw loop measured minutes before it, in another 0.94x, with the same build. A
 * ratio of two such phases measures the machine's drift as much as the two systems. Here each
 * round runs every target once, in a new random order, for a short phase; a ratio is taken within
 * each round, and the median over rounds is reported with its range.
 */
import { TagClassifier } from '@tagserve/model';
import type { ServedModel } from './artifacts';
import { runLoad } from './load';
import { shuffled } from './paired';
import { runRaw } from './raw';
import { fmt } from './report';
import { startBenchStack, type BenchStack } from './stack-run';

export interface RoundTarget {
  name: string;
  /** One phase; resolves with its texts per second. */
  run: () => Promise<number>;
}

/** texts/s of every target in every round, by target name (round order). */
export async function interleavedRounds(targets: RoundTarget[], rounds: number, log?: (msg: string) => void): Promise<Map<string, number[]>> {
  const results = new Map(targets.map((t) => [t.name, [] as number[]]));
  for (let round = 0; round < rounds; round++) {
    for (const target of shuffled([...targets])) results.get(target.name)!.push(await target.run());
    log?.(`round ${round + 1}/${rounds}: ${targets.map((t) => `${t.name} ${fmt(results.get(t.name)![round])}`).join(', ')} texts/s`);
  }
  return results;
}

export interface RatioStats {
  median: number;
  min: number;
  max: number;
  perRound: number[];
}

/** The ratio numerator / denominator within each round, and their median and range. */
export function roundRatios(numerator: number[], denominator: number[]): RatioStats {
  if (numerator.length !== denominator.length || numerator.length === 0) throw new Error('one figure per round on each side');
  const perRound = numerator.map((n, i) => n / denominator[i]);
  const sorted = [...perRound].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  const median = sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
  return { median, min: sorted[0], max: sorted[sorted.length - 1], perRound };
}

export interface ThroughputRounds {
  rounds: number;
  textsPerSec: Record<string, number[]>;
  oneWorkerOverRaw: RatioStats;
  twoWorkersOverOne: RatioStats;
  twoWorkersOverOneBig: RatioStats;
}

export interface ThroughputRoundsOptions {
  model: ServedModel;
  texts: string[];
  rounds: number;
  warmupMs: number;
  durationMs: number;
  /** The raw loop's batch: the best of the sequential raw phases (texts, and a token budget or none). */
  rawBatch: { size: number; maxTokens?: number };
  /** Texts per request of the "big request" phases. */
  bigRequest: number;
  log: (msg: string) => void;
}

/**
 * The raw loop in this process, a stack with 1 worker and a stack with 2 (both up throughout;
 * the one not under load sits idle), at 64 clients with 1 and with `bigRequest` texts per request.
 */
export async function throughputRounds(o: ThroughputRoundsOptions): Promise<ThroughputRounds> {
  const classifier = await TagClassifier.load(o.model.dir, { intraOpThreads: 1, interOpThreads: 1 });
  const stacks: BenchStack[] = [];
  try {
    stacks.push(await startBenchStack(o.model, 1), await startBenchStack(o.model, 2));
    const load = (s: BenchStack, textsPerRequest: number) => async () =>
      (
        await runLoad({
          port: s.stack.port,
          texts: o.texts,
          clients: 64,
          textsPerRequest,
          warmupMs: o.warmupMs,
          durationMs: o.durationMs,
          pids: s.pids,
          metricsPorts: s.metricsPorts,
        })
      ).textsPerSec;
    const raw = async () => {
      const run = await runRaw(classifier, o.texts, o.rawBatch.size, Math.min(o.warmupMs, 1000), o.durationMs, undefined, o.rawBatch.maxTokens);
      return run.texts / run.seconds;
    };
    const big = `× ${o.bigRequest}`;
    const results = await interleavedRounds(
      [
        { name: 'raw', run: raw },
        { name: '1 worker', run: load(stacks[0], 1) },
        { name: '2 workers', run: load(stacks[1], 1) },
        { name: `1 worker ${big}`, run: load(stacks[0], o.bigRequest) },
        { name: `2 workers ${big}`, run: load(stacks[1], o.bigRequest) },
      ],
      o.rounds,
      o.log,
    );
    const of = (name: string) => results.get(name)!;
    return {
      rounds: o.rounds,
      textsPerSec: Object.fromEntries(results),
      oneWorkerOverRaw: roundRatios(of('1 worker'), of('raw')),
      twoWorkersOverOne: roundRatios(of('2 workers'), of('1 worker')),
      twoWorkersOverOneBig: roundRatios(of(`2 workers ${big}`), of(`1 worker ${big}`)),
    };
  } finally {
    for (const s of stacks) await s.stack.stop();
    await classifier.dispose();
  }
}

/** "1.52 (1.41-1.60 over 5 rounds)". */
export function describeRatio(r: RatioStats, digits = 2): string {
  return `${fmt(r.median, digits)} (${fmt(r.min, digits)}-${fmt(r.max, digits)} over ${r.perRound.length} rounds)`;
}
