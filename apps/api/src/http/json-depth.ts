/** Far deeper than any valid body ({"texts": [{"text": "..."}]} is 3 levels). */
export const MAX_JSON_DEPTH = 32;

/**
 * Depth of a parsed JSON value, computed without recursion and stopping early past `limit`.
 * Anything that walks a body recursively (class-transformer, a recursive validator) would
 * overflow the stack on a small body of 10k nested arrays and surface as a 500: refused first.
 */
export function jsonDepthExceeds(value: unknown, limit: number): boolean {
  const stack: Array<[unknown, number]> = [[value, 1]];
  while (stack.length > 0) {
    const [node, depth] = stack.pop()!;
    if (node === null || typeof node !== 'object') continue;
    if (depth > limit) return true;
    for (const child of Object.values(node)) stack.push([child, depth + 1]);
  }
  return false;
}
