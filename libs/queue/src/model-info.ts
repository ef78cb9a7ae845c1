/**
 * What a worker publishes about the model it serves, so the gateway can answer
 * /performance and /args without loading the model itself.
 */
export interface ModelInfo {
  version: string;
  labels: string[];
  args: Record<string, unknown>;
  performance: Record<string, unknown>;
  loadedAt: string;
}

export function modelInfoKey(prefix: string): string {
  return `${prefix}:model:info`;
}

/** Parses a published ModelInfo; anything else (a corrupt or foreign value) is undefined. */
export function parseModelInfo(raw: string): ModelInfo | undefined {
  let info: unknown;
  try {
    info = JSON.parse(raw);
  } catch {
    return undefined;
  }
  if (typeof info !== 'object' || info === null) return undefined;
  const { version, labels, args, performance } = info as Partial<ModelInfo>;
  const isObject = (v: unknown) => typeof v === 'object' && v !== null && !Array.isArray(v);
  if (typeof version !== 'string' || !Array.isArray(labels) || !isObject(args) || !isObject(performance)) return undefined;
  return info as ModelInfo;
}
