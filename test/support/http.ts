import { Agent, request } from 'node:http';

export interface HttpResult {
  /** 0 when no answer came (connection error or client timeout); see `error`. */
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  /** Parsed JSON body, undefined when the body is not JSON. */
  body: any; // eslint-disable-line @typescript-eslint/no-explicit-any
  ms: number;
  error?: string;
}

export interface SendOptions {
  method?: string;
  headers?: Record<string, string>;
  /** Raw body; objects are sent as JSON. */
  body?: unknown;
  /** The client gives up after this: a request still open then counts as a hang. */
  timeoutMs?: number;
  agent?: Agent;
}

/**
 * A tiny loopback HTTP client on node:http (no retries, no redirects): every request ends with
 * a status or an explicit error, and its wall time, which is what the fault and load tests count.
 */
export function send(url: string, options: SendOptions = {}): Promise<HttpResult> {
  const { method = 'POST', headers = {}, timeoutMs = 30_000, agent } = options;
  const payload =
    options.body === undefined ? undefined : typeof options.body === 'string' || Buffer.isBuffer(options.body) ? options.body : JSON.stringify(options.body);
  const started = performance.now();
  return new Promise((resolve) => {
    const done = (result: Omit<HttpResult, 'ms'>) => resolve({ ...result, ms: performance.now() - started });
    const req = request(
      url,
      {
        method,
        agent,
        headers: {
          ...(payload === undefined ? {} : { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(payload)) }),
          ...headers,
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('error', (err) => done({ status: 0, headers: {}, text: '', body: undefined, error: err.message }));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString();
          let body: unknown;
          try {
            body = JSON.parse(text);
          } catch {
            body = undefined;
          }
          done({ status: res.statusCode ?? 0, headers: res.headers, text, body });
        });
      },
    );
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', (err) => done({ status: 0, headers: {}, text: '', body: undefined, error: err.message }));
    req.end(payload);
  });
}

/** Nearest-rank percentile of already collected samples. */
export function percentile(samples: number[], p: number): number {
  if (samples.length === 0) return NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

/** Small deterministic PRNG (the model's mulberry32) so a failing fuzz case reproduces from its seed. */
export { mulberry32 as seededRandom } from '@tagserve/model/logistic-regression';

/** The JSON log lines of a process (non-JSON lines skipped). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- log lines of any shape, read field by field
export function jsonLines(output: string[]): Array<Record<string, any>> {
  return output.flatMap((line) => {
    try {
      const parsed = JSON.parse(line);
      return parsed && typeof parsed === 'object' ? [parsed] : [];
    } catch {
      return [];
    }
  });
}

/** Value of a Prometheus sample (name plus optional label subset), summed over matching series. */
export function metricValue(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  let total: number | undefined;
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][\w:]*)(\{[^}]*\})?\s+(\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const labelText = match[2] ?? '';
    if (!Object.entries(labels).every(([k, v]) => labelText.includes(`${k}="${v}"`))) continue;
    total = (total ?? 0) + Number(match[3]);
  }
  return total;
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
