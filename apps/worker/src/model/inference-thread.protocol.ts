import type { EncoderRuntimeOptions, Prediction } from '@tagserve/model/types';

/** What the main thread tells the inference thread at start. */
export interface InferenceThreadData {
  artifactDir: string;
  runtime: EncoderRuntimeOptions;
}

/** What the served classifier says about itself (for /performance and /args). */
export interface ClassifierInfo {
  labels: string[];
  args: Record<string, unknown>;
  performance: Record<string, unknown>;
}

/** Main → thread: one padded inference. */
export interface PredictMessage {
  id: number;
  texts: string[];
}

/** Thread → main: first `ready` or `loadError`, then one answer per PredictMessage. */
export type ThreadMessage =
  | { type: 'ready'; info: ClassifierInfo }
  | { type: 'loadError'; error: string }
  | { type: 'predictions'; id: number; predictions: Prediction[] }
  | { type: 'predictError'; id: number; error: string };
