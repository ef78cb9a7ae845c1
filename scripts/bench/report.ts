/** Plain-text tables for the bench's stdout. */
import type { LoadResult } from './load';

export function fmt(n: number, digits = 0): string {
  return Number.isFinite(n) ? n.toFixed(digits) : '-';
}

/** A difference with its sign either way: +0.19, -0.66. */
export function signed(n: number, digits = 0): string {
  return Number.isFinite(n) && n >= 0 ? `+${fmt(n, digits)}` : fmt(n, digits);
}

export function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => '| ' + cells.map((c = '', i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join(' | ') + ' |';
  const rule = '|' + widths.map((w, i) => (i === 0 ? ':' : '') + '-'.repeat(w + 1) + (i === 0 ? '-' : ':')).join('|') + '|';
  return [line(header), rule, ...rows.map(line)].join('\n');
}

export interface Row {
  phase: string;
  textsPerSec: number;
  p50?: number;
  p99?: number;
  /** CPU ms per text of the process(es) doing the inference. */
  modelCpuMsPerText?: number;
  meanBatch?: number;
  cpu?: Record<string, number>;
}

const CPU_COLUMNS = ['api', 'redis', 'worker1', 'worker2', 'server', 'loadgen', 'others'];

export function phaseTable(rows: Row[]): string {
  return table(
    ['phase', 'texts/s', 'p50 ms', 'p99 ms', 'model CPU ms/text', 'mean batch', ...CPU_COLUMNS.map((c) => `${c} %cpu`)],
    rows.map((r) => [
      r.phase,
      fmt(r.textsPerSec),
      r.p50 === undefined ? '' : fmt(r.p50, 2),
      r.p99 === undefined ? '' : fmt(r.p99, 2),
      r.modelCpuMsPerText === undefined ? '' : fmt(r.modelCpuMsPerText, 2),
      r.meanBatch === undefined ? '' : fmt(r.meanBatch, 1),
      ...CPU_COLUMNS.map((c) => (r.cpu?.[c] === undefined ? '' : String(r.cpu[c]))),
    ]),
  );
}

/** A load phase as a table row; `model` names the processes whose CPU is the model's. */
export function loadRow(phase: string, r: LoadResult, model: string[]): Row {
  const modelCpu = model.reduce((a, k) => a + (r.cpu[k] ?? 0), 0);
  return {
    phase: `${phase}, ${r.clients} client${r.clients > 1 ? 's' : ''}${r.textsPerRequest > 1 ? ` × ${r.textsPerRequest} texts` : ''}`,
    textsPerSec: r.textsPerSec,
    p50: r.latency.p50,
    p99: r.latency.p99,
    modelCpuMsPerText: (modelCpu * 10) / r.textsPerSec,
    meanBatch: r.meanBatch,
    cpu: r.cpu,
  };
}

export function verdict(ok: boolean): string {
  return ok ? 'ok' : 'MISSED';
}
