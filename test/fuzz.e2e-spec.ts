import { Agent } from 'node:http';
import { send, seededRandom } from './support/http';
import { predictionProblem } from './support/predictions';
import { Stack } from './support/stack';

/**
 * Bad-input fuzz against the real api + worker: random JSON shapes, huge strings, unicode, nulls,
 * deep nesting, prototype-pollution keys, numbers, booleans, broken JSON. Every answer must be
 * 2xx or 4xx (never 5xx, never none) and the api must stay up. Deterministic: FUZZ_SEED
 * (default 20240601) and FUZZ_CASES (default 300) reproduce a failure exactly.
 */
const SEED = Number(process.env.FUZZ_SEED ?? 20240601);
const CASES = Number(process.env.FUZZ_CASES ?? 300);
const MAX_TEXTS = 16;
const MAX_TEXT_LENGTH = 2000;

type Rand = () => number;
const pick = <T>(rand: Rand, items: readonly T[]): T => items[Math.floor(rand() * items.length)];
const int = (rand: Rand, max: number) => Math.floor(rand() * max);

const STRINGS = [
  '', ' ', '\n\t', 'a', 'Transfer learning with transformers.', '日本語のテキスト分類', '🤖🧠📈 emoji only', 'مرحبا بالعالم',
  'e\u0301\u0301\u0301 combining', '\u0000nul\u0000', '\u202eRTL override', '\ufeffBOM', '\ud83d', '\udfff lone low surrogate',
  '<script>alert(1)</script>', "'; DROP TABLE jobs; --", '${jndi:ldap://x}', '../../etc/passwd', '%s%n%x', 'null', 'undefined',
  '__proto__', 'constructor', 'prototype',
];
const KEYS = ['texts', 'text', '__proto__', 'constructor', 'prototype', 'toString', 'valueOf', 'hasOwnProperty', 'extra', ''];

function randomString(rand: Rand): string {
  switch (int(rand, 4)) {
    case 0:
      return pick(rand, STRINGS);
    case 1: // huge, around the length limit
      return pick(rand, ['x', 'é', '🤖', 'ab ']).repeat(pick(rand, [MAX_TEXT_LENGTH - 1, MAX_TEXT_LENGTH, MAX_TEXT_LENGTH + 1, 20_000]));
    case 2: // random code points, surrogates included
      return String.fromCharCode(...Array.from({ length: 1 + int(rand, 40) }, () => int(rand, 0x10000)));
    default:
      return pick(rand, STRINGS) + ' ' + pick(rand, STRINGS);
  }
}

function randomValue(rand: Rand, depth: number): unknown {
  const kinds = depth > 4 ? 6 : 9;
  switch (int(rand, kinds)) {
    case 0: return null;
    case 1: return rand() < 0.5;
    case 2: return pick(rand, [0, -1, 1.5, 1e308, -1e308, Number.MAX_SAFE_INTEGER + 2, 2 ** 53, -0]);
    case 3:
    case 4:
    case 5: return randomString(rand);
    case 6:
    case 7: return Array.from({ length: int(rand, 5) }, () => randomValue(rand, depth + 1));
    default: return Object.fromEntries(Array.from({ length: int(rand, 4) }, () => [pick(rand, KEYS), randomValue(rand, depth + 1)]));
  }
}

/** Mostly near-valid bodies (they get deepest into the code), some wild ones. */
function randomBody(rand: Rand): string {
  const shape = int(rand, 6);
  let body: unknown;
  if (shape === 0) body = randomValue(rand, 0);
  else if (shape === 1) body = { texts: randomValue(rand, 1) };
  else {
    const items = Array.from({ length: int(rand, MAX_TEXTS + 3) }, () =>
      rand() < 0.8 ? { text: rand() < 0.8 ? randomString(rand) : randomValue(rand, 2) } : randomValue(rand, 2),
    );
    body = rand() < 0.8 ? { texts: items } : { texts: items, [pick(rand, KEYS)]: randomValue(rand, 2) };
  }
  let json = JSON.stringify(body) ?? 'null';
  // Keys JSON.stringify cannot produce from an object literal: own "__proto__" properties.
  if (rand() < 0.15) json = json.replace(/^\{/, '{"__proto__":{"polluted":true,"texts":[{"text":"p"}]},');
  // Broken JSON now and then.
  if (rand() < 0.08) json = json.slice(0, int(rand, json.length));
  return json;
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

describe(`fuzz (seed ${SEED}, ${CASES} cases)`, () => {
  let stack: Stack;

  beforeAll(async () => {
    stack = await Stack.create({ MAX_TEXTS: String(MAX_TEXTS), MAX_TEXT_LENGTH: String(MAX_TEXT_LENGTH), BODY_LIMIT: '256kb', THROTTLE_LIMIT: '1000000' });
    await stack.startApi();
    await stack.startWorker();
    await stack.waitUntilReady();
  });

  afterAll(async () => {
    await stack?.stop();
  });

  const statuses: Record<number, number> = {};
  const check = async (name: string, body: string, agent?: Agent): Promise<string | undefined> => {
    const res = await send(`${stack.url}/predict`, { body, agent, headers: { 'content-type': 'application/json' }, timeoutMs: 30_000 });
    statuses[res.status] = (statuses[res.status] ?? 0) + 1;
    const failure = res.status === 0 || res.status >= 500 ? `${name}: ${res.status || res.error} ${res.text.slice(0, 300)} | body ${body.slice(0, 200)}` : undefined;
    if (res.status === 200) {
      // Accepted: it must be a proper answer to the texts that were sent.
      const texts = JSON.parse(body).texts as Array<{ text: string }>;
      const problem = predictionProblem(res, texts);
      if (problem) return `${name}: 200 but ${problem} | body ${body.slice(0, 200)}`;
    }
    return failure;
  };

  it('edge cases: deep nesting, prototype keys, odd numbers and unicode never give a 5xx', async () => {
    const failures: string[] = [];
    for (const [name, body] of FIXED) {
      const failure = await check(name, body);
      if (failure) failures.push(failure);
    }
    expect(failures).toEqual([]);
    const tooDeep = await send(`${stack.url}/predict`, { body: FIXED[1][1], headers: { 'content-type': 'application/json' } });
    expect(tooDeep.status).toBe(400);
    expect(tooDeep.body.error).toMatch(/nested deeper than 32 levels/);
  });

  it('random bodies never give a 5xx, and the api stays up', async () => {
    const rand = seededRandom(SEED);
    const bodies = Array.from({ length: CASES }, () => randomBody(rand));
    const agent = new Agent({ keepAlive: true, maxSockets: 8 });
    const failures: string[] = [];
    let next = 0;
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        while (next < bodies.length) {
          const i = next++;
          const failure = await check(`case ${i}`, bodies[i], agent);
          if (failure) failures.push(failure);
        }
      }),
    );
    agent.destroy();
    expect(failures).toEqual([]);
    const res = await send(`${stack.url}/predict`, { body: { texts: [{ text: 'still up' }] } });
    expect(res.status).toBe(200);
    expect(stack.api!.running).toBe(true);
    console.log(`fuzz: seed ${SEED}, ${CASES} random + ${FIXED.length} edge cases; statuses ${JSON.stringify(statuses)}`);
  });

  it('valid texts in any script, with control characters or lone surrogates, are all answered', async () => {
    const texts = STRINGS.filter((t) => /\S/.test(t)).slice(0, MAX_TEXTS).map((text) => ({ text }));
    const res = await send(`${stack.url}/predict`, { body: { texts } });
    expect(predictionProblem(res, JSON.parse(JSON.stringify(texts)))).toBeUndefined();
  });

  it('no prototype pollution leaked into later requests', async () => {
    const res = await send(`${stack.url}/predict`, { body: { texts: [{ text: 'clean request' }] } });
    expect(res.status).toBe(200);
    expect(res.body.polluted).toBeUndefined();
    expect(res.body.isAdmin).toBeUndefined();
    expect(res.body.data.predictions).toHaveLength(1);
    expect(res.body.data.predictions[0].input_text).toBe('clean request');
  });
});
