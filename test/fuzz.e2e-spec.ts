import fc from 'fast-check';
import { Agent } from 'node:http';
import { HttpResult, send } from './support/http';
import { LABELS, predictionProblem } from './support/predictions';
import { postHead, RawStep, rawRequest } from './support/raw-http';
import { Stack } from './support/stack';

/**
 * Schema-driven fuzz (fast-check) against the real api + worker + Redis: arbitrary JSON at every
 * position of the request, arbitrary methods, paths, headers and content types, unicode edge
 * cases (lone surrogates, combining marks, astral characters, NULs), and large, lying or slow
 * bodies over raw sockets. Every answer must be a 2xx or 4xx in the envelope, within a bound;
 * a JSON body gets exactly the status an independent reading of the schema expects; the api
 * answers a good request afterwards. Reproducible: FUZZ_SEED (default 20240601), FUZZ_RUNS
 * (default 250 bodies).
 */
const SEED = Number(process.env.FUZZ_SEED ?? 20240601);
const RUNS = Number(process.env.FUZZ_RUNS ?? 250);
const MAX_TEXTS = 16;
const MAX_TEXT_LENGTH = 2000;
const BODY_TIMEOUT_MS = 1500;
const HEADERS_TIMEOUT_MS = 2000;
/** No answer may take longer (a valid request is answered by the worker in milliseconds). */
const ANSWER_BOUND_MS = 10_000;

const SPECIAL_UNITS = ['\u0000', '\u0301', '\u202e', '\ufeff', '\ud83d', '\udfff', '🤖', '\n', ' ', '"', '\\', 'é', '日'];
/** One character (code point) at a time, any plane, lone surrogates included. */
const character = fc.oneof(
  fc.constantFrom(...SPECIAL_UNITS),
  fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }),
  fc.integer({ min: 0xd800, max: 0xdfff }).map((unit) => String.fromCharCode(unit)),
  fc.constantFrom('a', 'b', 'x'),
);
const unicodeText = fc.string({ unit: character, maxLength: 40 });
const nearLimitText = fc
  .tuple(fc.constantFrom('x', '🤖', 'e\u0301', ' '), fc.constantFrom(MAX_TEXT_LENGTH - 1, MAX_TEXT_LENGTH, MAX_TEXT_LENGTH + 1))
  .map(([unit, n]) => unit.repeat(n));
const KEYS = ['text', 'texts', '__proto__', 'constructor', 'prototype', 'toString', 'valueOf', 'hasOwnProperty', '', 'extra'];
const anyKey = fc.oneof(fc.constantFrom(...KEYS), unicodeText);
const anyJson: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.constantFrom(null, true, false, 0, -0, 1.5, 1e308, -1, 2 ** 53 + 2),
    unicodeText,
    fc.array(tie('value'), { maxLength: 4 }),
    fc.dictionary(anyKey, tie('value'), { maxKeys: 3 }),
  ),
})).value;

/** An item of texts: mostly {"text": ...}, with stray keys, or any JSON at all. */
const item = fc.oneof(
  { arbitrary: fc.record({ text: fc.oneof(unicodeText, nearLimitText) }), weight: 6 },
  { arbitrary: fc.record({ text: anyJson }), weight: 1 },
  { arbitrary: fc.tuple(unicodeText, anyKey, anyJson).map(([text, key, value]) => ({ text, [key]: value })), weight: 1 },
  { arbitrary: anyJson, weight: 1 },
);
/** A body as text: arbitrary JSON at the top, at texts, at each item and at each text. */
const body = fc.oneof(
  // Valid bodies in any script, so that a good share reaches the worker.
  {
    arbitrary: fc.array(fc.record({ text: unicodeText.filter((t) => /\S/.test(t)) }), { minLength: 1, maxLength: 4 }).map((texts) => JSON.stringify({ texts })),
    weight: 4,
  },
  { arbitrary: fc.array(item, { maxLength: MAX_TEXTS + 2 }).map((texts) => JSON.stringify({ texts })), weight: 8 },
  {
    arbitrary: fc.tuple(fc.array(item, { minLength: 1, maxLength: 3 }), anyKey, anyJson).map(([texts, key, value]) => JSON.stringify({ texts, [key]: value })),
    weight: 1,
  },
  { arbitrary: anyJson.map((texts) => JSON.stringify({ texts })), weight: 1 },
  { arbitrary: anyJson.map((value) => JSON.stringify(value) ?? 'null'), weight: 1 },
  // Own "__proto__" keys, which an object literal cannot produce.
  {
    arbitrary: fc.array(item, { minLength: 1, maxLength: 2 }).map((texts) => `{"__proto__":{"texts":[{"text":"p"}]},"texts":${JSON.stringify(texts)}}`),
    weight: 1,
  },
  // Broken JSON: a valid body cut short.
  { arbitrary: fc.tuple(fc.array(item, { maxLength: 3 }), fc.nat()).map(([texts, cut]) => JSON.stringify({ texts }).slice(0, cut % 30)), weight: 1 },
);

/** The status a JSON body must get, read from the documented schema independently of the server's code. */
function expectedStatus(text: string): number {
  if (text === '') return 422; // no body: texts missing
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return 400;
  }
  if (depth(value) > 32) return 400;
  if (value === null || typeof value !== 'object') return 400; // only an object (or array) can be a body
  const plain = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
  if (!plain(value) || Object.keys(value).join() !== 'texts' || !Array.isArray(value.texts)) return 422;
  const texts = value.texts as unknown[];
  if (texts.length < 1 || texts.length > MAX_TEXTS) return 422;
  const valid = texts.every(
    (t) => plain(t) && Object.keys(t).join() === 'text' && typeof t.text === 'string' && /\S/.test(t.text) && [...t.text].length <= MAX_TEXT_LENGTH,
  );
  return valid ? 200 : 422;
}

function depth(value: unknown): number {
  return value !== null && typeof value === 'object' ? 1 + Math.max(0, ...Object.values(value).map(depth)) : 0;
}

/** Why an answer is not a 2xx/4xx in the envelope, or undefined. */
function envelopeProblem(res: Pick<HttpResult, 'status' | 'body'>, method: string): string | undefined {
  if (res.status === 0) return 'no answer';
  if (res.status >= 500 || res.status < 200) return `status ${res.status}`;
  if (method === 'HEAD') return undefined;
  const b = res.body;
  if (!b || typeof b !== 'object') return 'body is not a JSON object';
  if (b['status-code'] !== res.status || typeof b.message !== 'string' || b.method !== method || typeof b.url !== 'string' || typeof b.timestamp !== 'string')
    return `not the envelope: ${JSON.stringify(b).slice(0, 200)}`;
  if (res.status >= 400 && typeof b.error !== 'string') return 'error without an `error` message';
  return undefined;
}

const deep = (n: number, inner = '') => '['.repeat(n) + inner + ']'.repeat(n);
const FIXED: Array<[string, string]> = [
  ['10k nested arrays', deep(10_000)],
  ['10k nested arrays as texts', `{"texts":${deep(10_000)}}`],
  ['10k nested arrays as a text', `{"texts":[{"text":${deep(10_000)}}]}`],
  ['10k nested objects', '{"a":'.repeat(10_000) + '1' + '}'.repeat(10_000)],
  ['10k nested objects in texts', `{"texts":[${'{"text":'.repeat(10_000)}"x"${'}'.repeat(10_000)}]}`],
  ['__proto__ at the top', '{"__proto__":{"texts":[{"text":"polluted"}]}}'],
  ['__proto__ next to texts', '{"texts":[{"text":"ok"}],"__proto__":{"isAdmin":true}}'],
  ['__proto__ in an item', '{"texts":[{"text":"ok","__proto__":{"text":"polluted"}}]}'],
  ['constructor.prototype', '{"texts":[{"text":"ok"}],"constructor":{"prototype":{"polluted":true}}}'],
  ['item constructor.prototype', '{"texts":[{"text":"ok","constructor":{"prototype":{"polluted":true}}}]}'],
  ['texts as object with length', '{"texts":{"length":1,"0":{"text":"x"}}}'],
  ['duplicate keys', '{"texts":[{"text":"a"}],"texts":[{"text":"b"}]}'],
  ['huge number', '{"texts":[{"text":1e999}]}'],
  ['escaped lone surrogate', '{"texts":[{"text":"\\ud800 lone"}]}'],
  ['NUL escapes', '{"texts":[{"text":"\\u0000\\u0000"}]}'],
  ['many texts', JSON.stringify({ texts: Array.from({ length: 100_000 }, () => ({ text: 'a' })) })],
  ['empty body', ''],
  ['whitespace body', '   '],
  ['true', 'true'],
  ['number', '42'],
];

const printable = fc.string({ unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)), maxLength: 60 });
const CONTENT_TYPES = [
  'application/json',
  'application/json; charset=utf-8',
  'APPLICATION/JSON',
  'application/json;charset="UTF-8"',
  'application/json; charset=utf-16',
  'application/json; charset=latin1',
  'text/plain',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=x',
  'application/vnd.api+json',
  '',
];
const httpRequest = fc.record({
  method: fc.oneof({ arbitrary: fc.constant('POST'), weight: 3 }, fc.constantFrom('GET', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'HEAD')),
  path: fc.oneof(
    { arbitrary: fc.constant('/predict'), weight: 3 },
    fc.constantFrom('/', '/performance', '/args', '/nope', '/predict?x=1', '/predict/', '/%2e%2e/predict', '/PREDICT'),
  ),
  contentType: fc.oneof({ arbitrary: fc.constantFrom(...CONTENT_TYPES), weight: 3 }, printable),
  encoding: fc.option(fc.constantFrom('gzip', 'deflate', 'br', 'identity', 'zstd', 'gzip, deflate', ''), { nil: undefined }),
  requestId: fc.option(printable, { nil: undefined }),
  body: fc.option(body, { nil: undefined }),
});

/** A body sent over a raw socket: any declared length (or chunked), any amount actually sent, in pieces with pauses. */
interface RawBodySpec {
  declared?: number;
  payload: string;
  cut?: number;
  pauses: number[];
  terminated: boolean;
}
const rawBody: fc.Arbitrary<RawBodySpec> = fc.record({
  declared: fc.oneof(fc.constant(undefined), fc.nat({ max: 2 ** 31 }), fc.constantFrom(0, 262_144, 262_145, 600_000_000)),
  payload: fc.oneof(
    body,
    fc.nat({ max: 300_000 }).map((n) => 'x'.repeat(n)),
  ),
  cut: fc.option(fc.nat(), { nil: undefined }),
  pauses: fc.array(fc.nat({ max: 300 }), { maxLength: 4 }),
  terminated: fc.boolean(),
});

/**
 * Never more bytes than declared: bytes past the body would be a second, malformed request, which
 * Node refuses itself with a bare 400 (the one answer not in the envelope; see the malformed-HTTP case).
 */
function rawSteps({ declared, payload, cut, pauses, terminated }: RawBodySpec): RawStep[] {
  const kept = cut === undefined ? payload : payload.slice(0, cut % (payload.length + 1));
  const sent = declared === undefined ? kept : Buffer.from(kept).subarray(0, declared).toString('latin1');
  const pieces = Array.from({ length: pauses.length + 1 }, (_, i) =>
    sent.slice(Math.floor((i * sent.length) / (pauses.length + 1)), Math.floor(((i + 1) * sent.length) / (pauses.length + 1))),
  );
  const frame = (piece: string) => (declared === undefined && piece.length > 0 ? `${Buffer.byteLength(piece).toString(16)}\r\n${piece}\r\n` : piece);
  const steps: RawStep[] = [postHead(declared === undefined ? { 'Transfer-Encoding': 'chunked' } : { 'Content-Length': declared })];
  pieces.forEach((piece, i) => steps.push(frame(piece), ...(i < pauses.length ? [{ pauseMs: pauses[i] }] : [])));
  if (declared === undefined && terminated) steps.push('0\r\n\r\n');
  return steps;
}

/** A failing case is reported in a few lines (a counterexample can hold 300 KB of body). */
const short = <T>(runs: number): fc.Parameters<T> => ({
  seed: SEED,
  numRuns: runs,
  endOnFailure: true,
  reporter: (run: fc.RunDetails<T>) => {
    if (run.failed)
      throw new Error(
        `seed ${run.seed}, path ${run.counterexamplePath}: ${String(run.errorInstance).slice(0, 600)}\ncase: ${JSON.stringify(run.counterexample).slice(0, 600)}`,
      );
  },
});

describe(`fuzz (fast-check seed ${SEED}, ${RUNS} bodies)`, () => {
  let stack: Stack;
  const statuses: Record<string, number> = {};
  const count = (kind: string, status: number) => (statuses[`${kind} ${status}`] = (statuses[`${kind} ${status}`] ?? 0) + 1);

  beforeAll(async () => {
    stack = await Stack.create({
      QUEUE_PREFIX: 'fuzz',
      MAX_TEXTS: String(MAX_TEXTS),
      MAX_TEXT_LENGTH: String(MAX_TEXT_LENGTH),
      BODY_LIMIT: '256kb',
      THROTTLE_LIMIT: '1000000',
      HTTP_BODY_TIMEOUT_MS: String(BODY_TIMEOUT_MS),
      HTTP_HEADERS_TIMEOUT_MS: String(HEADERS_TIMEOUT_MS),
    });
    await stack.startApi();
    await stack.startWorker();
    await stack.waitUntilReady();
  });

  afterAll(async () => {
    console.log(`fuzz: seed ${SEED}; answers by kind and status ${JSON.stringify(statuses)}`);
    await stack?.stop();
  });

  const post = (text: string, agent?: Agent) =>
    send(`${stack.url}/predict`, { body: text, agent, headers: { 'content-type': 'application/json' }, timeoutMs: ANSWER_BOUND_MS });

  it('edge cases: deep nesting, prototype keys, odd numbers and unicode never give a 5xx', async () => {
    const failures: string[] = [];
    for (const [name, text] of FIXED) {
      const res = await post(text);
      count('fixed', res.status);
      const problem = envelopeProblem(res, 'POST');
      if (problem) failures.push(`${name}: ${problem}`);
    }
    expect(failures).toEqual([]);
    const tooDeep = await post(FIXED[1][1]);
    expect(tooDeep.status).toBe(400);
    expect(tooDeep.body.error).toMatch(/nested deeper than 32 levels/);
  });

  it('arbitrary JSON at every position gets exactly the status the schema implies, in the envelope', async () => {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    await fc.assert(
      fc.asyncProperty(body, async (text) => {
        const res = await post(text, agent);
        count('body', res.status);
        expect(envelopeProblem(res, 'POST')).toBeUndefined();
        expect(res.status).toBe(expectedStatus(text));
        if (res.status === 200) expect(predictionProblem(res, JSON.parse(text).texts)).toBeUndefined();
        if (res.status === 200) expect(res.body.data.predictions.every((p: { predicted_tag: string }) => LABELS.includes(p.predicted_tag))).toBe(true);
      }),
      short(RUNS),
    );
    agent.destroy();
  });

  it('arbitrary methods, paths, content types, encodings and request ids: 2xx or 4xx in the envelope', async () => {
    await fc.assert(
      fc.asyncProperty(httpRequest, async ({ method, path, contentType, encoding, requestId, body: text }) => {
        const headers: Record<string, string> = { 'content-type': contentType };
        if (encoding !== undefined) headers['content-encoding'] = encoding;
        if (requestId !== undefined) headers['x-request-id'] = requestId;
        const res = await send(`${stack.url}${path}`, { method, headers, body: method === 'HEAD' ? undefined : text, timeoutMs: ANSWER_BOUND_MS });
        count('headers', res.status);
        expect(envelopeProblem(res, method)).toBeUndefined();
        expect(res.headers['x-request-id']).toMatch(/^[A-Za-z0-9._:-]{1,128}$/);
      }),
      short(120),
    );
  });

  it('raw sockets: lying, huge, slow, stalled and chunked bodies are all answered within the body timeout', async () => {
    await fc.assert(
      fc.asyncProperty(rawBody, async (spec) => {
        const res = await rawRequest(stack.port, rawSteps(spec), BODY_TIMEOUT_MS + 3000);
        count('raw', res.status);
        expect(envelopeProblem(res, 'POST')).toBeUndefined();
        expect(res.ms).toBeLessThan(BODY_TIMEOUT_MS + 2500);
      }),
      short(12),
    );
  });

  it('malformed HTTP is refused by Node itself (bare 400, connection closed), never left hanging', async () => {
    await fc.assert(
      fc.asyncProperty(printable, fc.constantFrom('\r\n\r\n', '\r\nHost: x\r\n\r\n', '\n\n'), async (line, end) => {
        // Blank lines before a request line are allowed, so "" waits for one: Node's headersTimeout (2 s) ends it.
        const res = await rawRequest(stack.port, [line + end], HEADERS_TIMEOUT_MS + 2000);
        count('malformed', res.status);
        // A random line may happen to be a request Node accepts (e.g. "GET /x HTTP/1.1"): then the app answers, in the envelope.
        if ([400, 408].includes(res.status) && res.body === undefined) expect(res.closed || res.headers.connection === 'close').toBe(true);
        else expect(envelopeProblem(res, line.split(' ')[0])).toBeUndefined();
      }),
      short(30),
    );
  });

  it('after all of it, the api answers a good request, unpolluted', async () => {
    const res = await post(JSON.stringify({ texts: [{ text: 'still up and clean' }] }));
    expect(predictionProblem(res, [{ text: 'still up and clean' }])).toBeUndefined();
    expect(res.body.polluted).toBeUndefined();
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(stack.api!.running).toBe(true);
  });
});
