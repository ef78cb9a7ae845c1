import { validateConfig } from './config.schema';

describe('validateConfig', () => {
  it('applies defaults', () => {
    const config = validateConfig({});
    expect(config.PORT).toBe(8000);
    expect(config.MAX_TEXTS).toBe(64);
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
});
