/** CPU and memory of processes from /proc, so every phase says who used the two cores. */
import { readFileSync } from 'node:fs';

const CLK_TCK = 100; // USER_HZ on Linux

/** CPU seconds (user+system, all threads) of a process, from /proc/<pid>/stat. */
export function cpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / CLK_TCK; // utime, stime (fields 14, 15)
  } catch {
    return NaN;
  }
}

export function statusKb(pid: number, key: 'VmRSS' | 'VmHWM'): number {
  try {
    const m = new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : NaN;
  } catch {
    return NaN;
  }
}

/** Whole-machine busy CPU seconds, to see what other tenants used during a phase. */
function machineBusySeconds(): number {
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  const idle = line[3] + (line[4] ?? 0);
  const total = line.slice(0, 8).reduce((a, b) => a + b, 0);
  return (total - idle) / CLK_TCK;
}

export type CpuSnapshot = Record<string, number>;

export function snapshot(pids: Record<string, number>): CpuSnapshot {
  const snap: CpuSnapshot = { machine: machineBusySeconds(), loadgen: process.cpuUsage().user / 1e6 + process.cpuUsage().system / 1e6 };
  for (const [name, pid] of Object.entries(pids)) snap[name] = cpuSeconds(pid);
  return snap;
}

/** CPU use in % of one core between two snapshots; `others` = the rest of the machine (other tenants: noise). */
export function cpuPercent(before: CpuSnapshot, after: CpuSnapshot, seconds: number): Record<string, number> {
  const out: Record<string, number> = {};
  for (const name of Object.keys(after)) out[name] = Math.round(((after[name] - before[name]) / seconds) * 100);
  out.others = Math.max(0, out.machine - Object.entries(out).reduce((a, [k, v]) => (k === 'machine' ? a : a + v), 0));
  return out;
}
