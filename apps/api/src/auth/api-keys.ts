import { createHash, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';

/** Shortest key accepted: 16 characters of `openssl rand -hex 24` (48) is the documented way. */
export const MIN_KEY_LENGTH = 16;

/**
 * The accepted API keys, from API_KEYS (comma-separated) and API_KEYS_FILE (one per line, blank
 * lines and `#` comments ignored: the shape of a Docker or Kubernetes secret file). Only SHA-256
 * digests are kept; a presented key is hashed and compared with every digest in constant time
 * (equal-length digests, no early exit), so neither timing nor a heap dump gives a key away.
 */
export class ApiKeys {
  private readonly digests: Buffer[];
  private readonly seen = new WeakMap<object, string | null>();

  constructor(keys: string[]) {
    const short = keys.filter((k) => k.length < MIN_KEY_LENGTH).length;
    if (short) throw new Error(`API keys: ${short} key(s) shorter than ${MIN_KEY_LENGTH} characters`);
    this.digests = [...new Set(keys)].map(digest);
  }

  /** Reads both settings; a file that is set but holds no key is an error, not "auth off". */
  static fromConfig(config: { API_KEYS: string; API_KEYS_FILE: string }): ApiKeys {
    const keys = splitKeys(config.API_KEYS, ',');
    if (config.API_KEYS_FILE) {
      const fromFile = splitKeys(readFileSync(config.API_KEYS_FILE, 'utf8'), '\n');
      if (fromFile.length === 0) throw new Error(`API_KEYS_FILE ${config.API_KEYS_FILE} holds no key`);
      keys.push(...fromFile);
    }
    return new ApiKeys(keys);
  }

  get enabled(): boolean {
    return this.digests.length > 0;
  }

  get count(): number {
    return this.digests.length;
  }

  /**
   * The id of the key a request presents (`Authorization: Bearer <key>`), or null. The id is a
   * prefix of the key's SHA-256, safe for throttler storage and logs. Memoized per request: the
   * throttler and the auth guard both ask.
   */
  identify(req: { headers: Record<string, string | string[] | undefined> }): string | null {
    const cached = this.seen.get(req);
    if (cached !== undefined) return cached;
    const match = /^Bearer[ ]+(\S+)[ ]*$/i.exec(String(req.headers.authorization ?? ''));
    let id: string | null = null;
    if (match) {
      const presented = digest(match[1]);
      let found = -1;
      for (let i = 0; i < this.digests.length; i++) if (timingSafeEqual(presented, this.digests[i])) found = i;
      if (found >= 0) id = this.digests[found].toString('hex').slice(0, 12);
    }
    this.seen.set(req, id);
    return id;
  }
}

function digest(key: string): Buffer {
  return createHash('sha256').update(key, 'utf8').digest();
}

function splitKeys(text: string, separator: string): string[] {
  return text
    .split(separator)
    .map((k) => k.trim())
    .filter((k) => k !== '' && !k.startsWith('#'));
}
