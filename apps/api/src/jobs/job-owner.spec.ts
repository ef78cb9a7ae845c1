import { jobVisibleTo } from './job-owner';

describe('jobVisibleTo', () => {
  it('keys off: every job to everyone, whether or not an owner was recorded', () => {
    for (const owner of [undefined, 'aaaaaaaaaaaa']) for (const caller of [null, 'bbbbbbbbbbbb']) expect(jobVisibleTo(owner, caller, false)).toBe(true);
  });

  it('keys on: only the creating key; a job without an owner (created with keys off) to nobody', () => {
    expect(jobVisibleTo('aaaaaaaaaaaa', 'aaaaaaaaaaaa', true)).toBe(true);
    expect(jobVisibleTo('aaaaaaaaaaaa', 'bbbbbbbbbbbb', true)).toBe(false);
    expect(jobVisibleTo('aaaaaaaaaaaa', null, true)).toBe(false);
    expect(jobVisibleTo(undefined, 'aaaaaaaaaaaa', true)).toBe(false);
    expect(jobVisibleTo(undefined, null, true)).toBe(false);
  });
});
