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
