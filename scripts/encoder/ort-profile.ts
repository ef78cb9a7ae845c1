/** Summary of an ONNX Runtime profile (the JSON trace enableProfiling writes): kernel time per operator type. */
export interface OpTime {
  op: string;
  nodes: number;
  /** Microseconds of kernel time per session.run, summed over the nodes of this type. */
  usPerRun: number;
}

interface TraceEvent {
  cat?: string;
  name?: string;
  dur?: number;
  args?: { op_name?: string };
}

/** Sums the `Node` events' durations by operator type, divided by the number of runs; largest first. */
export function profileByOp(traceJson: string, runs: number): OpTime[] {
  const events = JSON.parse(traceJson) as TraceEvent[];
  const byOp = new Map<string, { us: number; nodes: Set<string> }>();
  for (const e of events) {
    if (e.cat !== 'Node' || !e.args?.op_name || !e.name?.endsWith('_kernel_time')) continue;
    const entry = byOp.get(e.args.op_name) ?? { us: 0, nodes: new Set<string>() };
    entry.us += e.dur ?? 0;
    entry.nodes.add(e.name);
    byOp.set(e.args.op_name, entry);
  }
  return [...byOp.entries()].map(([op, v]) => ({ op, nodes: v.nodes.size, usPerRun: v.us / runs })).sort((a, b) => b.usPerRun - a.usPerRun);
}
