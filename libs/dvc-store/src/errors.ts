/** A stored object (or a materialized file) does not hash to what the manifest says. */
export class DvcChecksumError extends Error {
  constructor(
    /** Relpath inside the tree (or the manifest's object path inside the store). */
    readonly path: string,
    readonly expected: string,
    readonly actual: string,
    detail?: string,
  ) {
    super(`checksum mismatch for '${path}': expected md5 ${expected}, got ${actual}${detail ? ` (${detail})` : ''}`);
    this.name = 'DvcChecksumError';
  }
}

/** Anything else that makes a store or a .dvc file unusable: missing object, malformed file, unsafe path. */
export class DvcStoreError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'DvcStoreError';
  }
}

export function errMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
