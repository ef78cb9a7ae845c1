import { jsonDepthExceeds } from './json-depth';

describe('jsonDepthExceeds', () => {
  const nested = (n: number) => JSON.parse('['.repeat(n) + ']'.repeat(n));

  it('accepts a normal predict body and scalars', () => {
    expect(jsonDepthExceeds({ texts: [{ text: 'a' }] }, 3)).toBe(false);
    expect(jsonDepthExceeds('x', 1)).toBe(false);
    expect(jsonDepthExceeds(null, 1)).toBe(false);
  });

  it('flags one level too many', () => {
    expect(jsonDepthExceeds({ texts: [{ text: 'a' }] }, 2)).toBe(true);
    expect(jsonDepthExceeds(nested(33), 32)).toBe(true);
    expect(jsonDepthExceeds(nested(32), 32)).toBe(false);
  });

  it('handles 100k levels without overflowing the stack', () => {
    expect(jsonDepthExceeds(nested(100_000), 32)).toBe(true);
  });
});
