import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApiKeys } from './api-keys';

const KEY_A = 'a'.repeat(8) + '-first-key-0001';
const KEY_B = 'b'.repeat(8) + '-second-key-002';
const bearer = (key: string) => ({ headers: { authorization: `Bearer ${key}` } });

describe('ApiKeys', () => {
  let dir: string;
  beforeAll(() => (dir = mkdtempSync(join(tmpdir(), 'tagserve-keys-'))));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('is off when neither setting is given', () => {
    const keys = ApiKeys.fromConfig({ API_KEYS: '', API_KEYS_FILE: '' });
    expect(keys.enabled).toBe(false);
    expect(keys.identify(bearer(KEY_A))).toBeNull();
  });

  it('takes API_KEYS (comma-separated) and API_KEYS_FILE (one per line, comments, blank lines, CRLF) together', () => {
    const file = join(dir, 'keys');
    writeFileSync(file, `# rotated 2026-11\r\n${KEY_B}\r\n\r\n`);
    const keys = ApiKeys.fromConfig({ API_KEYS: ` ${KEY_A} ,`, API_KEYS_FILE: file });
    expect(keys.count).toBe(2);
    expect(keys.identify(bearer(KEY_A))).toMatch(/^[0-9a-f]{12}$/);
    expect(keys.identify(bearer(KEY_B))).toMatch(/^[0-9a-f]{12}$/);
    expect(keys.identify(bearer(KEY_A))).not.toBe(keys.identify(bearer(KEY_B)));
  });

  it('refuses a key file without keys and keys shorter than 16 characters, at start-up', () => {
    const empty = join(dir, 'empty');
    writeFileSync(empty, '# nothing yet\n\n');
    expect(() => ApiKeys.fromConfig({ API_KEYS: '', API_KEYS_FILE: empty })).toThrow(/holds no key/);
    expect(() => ApiKeys.fromConfig({ API_KEYS: 'short', API_KEYS_FILE: '' })).toThrow(/shorter than 16/);
    expect(() => ApiKeys.fromConfig({ API_KEYS: '', API_KEYS_FILE: join(dir, 'missing') })).toThrow(/ENOENT/);
  });

  it('accepts only `Bearer <key>` with a known key; the id it returns is not the key', () => {
    const keys = new ApiKeys([KEY_A]);
    const id = keys.identify(bearer(KEY_A));
    expect(id).not.toBeNull();
    expect(KEY_A).not.toContain(id);
    expect(keys.identify({ headers: { authorization: `bearer ${KEY_A}` } })).toBe(id); // scheme is case-insensitive
    for (const authorization of [undefined, KEY_A, `Basic ${KEY_A}`, `Bearer ${KEY_A}x`, `Bearer ${KEY_A.slice(1)}`, `Bearer ${KEY_A} extra`, 'Bearer ']) {
      expect(keys.identify({ headers: { authorization } })).toBeNull();
    }
  });
});
