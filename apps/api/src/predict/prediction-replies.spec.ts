import { JobFailedError, JobLostError, jobState } from './prediction-replies';

describe('jobState (the fallback when a reply was missed)', () => {
  const result = { predictions: [{ input_text: 'x', predicted_tag: 'mlops', predicted_probabilities: { mlops: 1 } }], worker: 'w', modelVersion: 'v', timings: { queueMs: 1, batchWaitMs: 0, modelMs: 2 } };
  const job = (fields: { finishedOn?: number; returnvalue?: unknown; failedReason?: string }) => ({ finishedOn: undefined, returnvalue: null, failedReason: '', ...fields });

  it('is undefined while the job is queued, running or waiting for a retry', () => {
    expect(jobState('g-1', job({}))).toBeUndefined();
    expect(jobState('g-1', job({ failedReason: 'first attempt failed' }))).toBeUndefined();
  });

  it('returns the recorded result of a completed job, also after a failed first attempt', () => {
    expect(jobState('g-1', job({ finishedOn: 1700000000005, returnvalue: result }))).toEqual(result);
    expect(jobState('g-1', job({ finishedOn: 1700000000005, returnvalue: result, failedReason: 'first attempt failed' }))).toEqual(result);
  });

  it('returns the failure of a job that failed for good', () => {
    const state = jobState('g-1', job({ finishedOn: 1700000000005, failedReason: 'model exploded' }));
    expect(state).toBeInstanceOf(JobFailedError);
    expect((state as Error).message).toBe('model exploded');
  });

  it('reports a job that is gone from Redis as lost', () => {
    const state = jobState('g-7', undefined);
    expect(state).toBeInstanceOf(JobLostError);
    expect((state as Error).message).toContain('g-7');
  });

  it('reports a finished job without a readable result as a failure, not a crash', () => {
    expect(jobState('g-1', job({ finishedOn: 2, returnvalue: '{not json' }))).toBeInstanceOf(JobFailedError);
  });
});
