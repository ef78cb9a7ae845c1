import { validateConfig } from './config.schema';

describe('validateConfig', () => {
  it('applies defaults', () => {
    const config = validateConfig({});
    expect(config.PORT).toBe(8000);
    expect(config.MAX_TEXTS).toBe(64);
    // A packed job is at most one of the worker's batches by default.
    expect(config.PREDICT_JOB_MAX_TEXTS).toBe(config.BATCH_MAX_SIZE);
    expect(config.ONNX_INTRA_OP_THREADS).toBe(1);
  });

  it('converts strings from the environment', () => {
    const config = validateConfig({ PORT: '9001', BATCH_MAX_WAIT_MS: '5' });
    expect(config.PORT).toBe(9001);
    expect(config.BATCH_MAX_WAIT_MS).toBe(5);
  });

  it('lists every invalid setting', () => {
    expect(() => validateConfig({ PORT: 'eighty', MAX_TEXTS: '0' })).toThrow(/PORT.*MAX_TEXTS|MAX_TEXTS.*PORT/);
  });

  it('takes a Sentinel list of host:port entries, or nothing', () => {
    expect(validateConfig({ REDIS_SENTINELS: 'sentinel-0:26379, sentinel-1:26379,[::1]:26380' }).REDIS_SENTINELS).toContain('sentinel-1');
    expect(validateConfig({}).REDIS_SENTINELS).toBe('');
    expect(() => validateConfig({ REDIS_SENTINELS: 'sentinel-0' })).toThrow(/REDIS_SENTINELS/);
    expect(() => validateConfig({ REDIS_SENTINELS: 'a:1;b:2' })).toThrow(/REDIS_SENTINELS/);
  });

  it('takes a QUEUE_PREFIX inside a Redis Cluster hash tag, and nothing else in braces', () => {
    expect(validateConfig({ QUEUE_PREFIX: '{tagserve}' }).QUEUE_PREFIX).toBe('{tagserve}');
    for (const bad of ['{tagserve', 'tag}serve', '{}', '{a}{b}', 'tag serve', 'a:b'])
      expect(() => validateConfig({ QUEUE_PREFIX: bad })).toThrow(/QUEUE_PREFIX/);
  });
});
