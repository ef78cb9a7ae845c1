import { JobFailedError, JobLostError, jobState } from './prediction-replies';

describe('jobState (the fallback when a reply was missed)', () => {
  const result = { predictions: [{ input_text: 'x', predicted_tag: 'mlops', predicted_probabilities: { mlops: 1 } }], worker: 'w', modelVersion: 'v', inferenceMs: 2 };

  it('is undefined while the job is queued, running or waiting for a retry', () => {
    expect(jobState('g-1', ['1700000000000', null, null, null])).toBeUndefined();
    expect(jobState('g-1', ['1700000000000', null, null, 'first attempt failed'])).toBeUndefined();
  });

  it('returns the recorded result of a completed job', () => {
    expect(jobState('g-1', ['1700000000000', '1700000000005', JSON.stringify(result), null])).toEqual(result);
  });

  it('returns the failure of a job that failed for good', () => {
    const state = jobState('g-1', ['1700000000000', '1700000000005', null, 'model exploded']);
    expect(state).toBeInstanceOf(JobFailedError);
    expect((state as Error).message).toBe('model exploded');
  });

  it('reports a job that is gone from Redis as lost', () => {
    const state = jobState('g-7', [null, null, null, null]);
    expect(state).toBeInstanceOf(JobLostError);
    expect((state as Error).message).toContain('g-7');
  });

  it('reports an unreadable result as a failure, not a crash', () => {
    expect(jobState('g-1', ['1', '2', '{not json', null])).toBeInstanceOf(JobFailedError);
  });
});
