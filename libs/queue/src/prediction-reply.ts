import { PREDICTION_QUEUE, PredictionJobResult } from './prediction-job';

/**
 * A worker's answer to the gateway that queued a job, published on that gateway's own channel
 * the moment the job is done. It replaces QueueEvents for waiting requests: one message per job
 * to one subscriber, instead of every queue event (added, active, completed, ...) waking every
 * gateway. The job's state in Redis stays the source of truth; gateways read it for messages
 * they may have missed.
 */
export type PredictionReply = { jobId: string; result: PredictionJobResult } | { jobId: string; failedReason: string };

export function replyChannel(prefix: string, gatewayId: string): string {
  return `${prefix}:${PREDICTION_QUEUE}:replies:${gatewayId}`;
}

/** Parses a reply message; anything else (another producer on the channel, a newer format) is undefined. */
export function parseReply(message: string): PredictionReply | undefined {
  let reply: unknown;
  try {
    reply = JSON.parse(message);
  } catch {
    return undefined;
  }
  if (typeof reply !== 'object' || reply === null || typeof (reply as { jobId?: unknown }).jobId !== 'string') return undefined;
  const { result, failedReason } = reply as { result?: PredictionJobResult; failedReason?: unknown };
  if (typeof failedReason === 'string') return reply as PredictionReply;
  if (result && Array.isArray(result.predictions)) return reply as PredictionReply;
  return undefined;
}
