import { UnrecoverableError } from 'bullmq';
import { jobData } from './prediction.processor';

describe('jobData (what a job must carry before it reaches the model)', () => {
  it('returns the texts and requests of well-formed data', () => {
    const data = { texts: ['a', 'b'], requests: [{ requestId: 'r1', texts: 2 }], replyTo: 'c' };
    expect(jobData(data)).toEqual({ texts: ['a', 'b'], requests: [{ requestId: 'r1', texts: 2 }] });
  });

  it.each([
    ['no data', undefined],
    ['a string', 'texts'],
    ['no texts', { requests: [] }],
    ['an empty texts array', { texts: [], requests: [] }],
    ['texts that are not strings', { texts: ['a', 7], requests: [] }],
    ['texts that are not an array', { texts: 'a', requests: [] }],
  ])('fails as unrecoverable (never retried) for %s', (_case, data) => {
    expect(() => jobData(data)).toThrow(UnrecoverableError);
  });

  it('keeps the texts but drops request bookkeeping it cannot read (only logs use it)', () => {
    expect(jobData({ texts: ['a'], requests: [{ requestId: 5, texts: 1 }] })).toEqual({ texts: ['a'], requests: [] });
    expect(jobData({ texts: ['a'] })).toEqual({ texts: ['a'], requests: [] });
  });
});
