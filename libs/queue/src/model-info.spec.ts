import { modelInfoKey, parseModelInfo } from './model-info';

describe('published model info', () => {
  const info = { version: 'abc.dir', labels: ['mlops', 'other'], args: { C: 1 }, performance: { overall: { f1: 0.9 } }, loadedAt: '2026-01-01T00:00:00.000Z' };

  it('lives under the queue prefix', () => {
    expect(modelInfoKey('tagserve')).toBe('tagserve:model:info');
  });

  it('parses what a worker publishes', () => {
    expect(parseModelInfo(JSON.stringify(info))).toEqual(info);
  });

  it.each([
    ['not JSON', '{"version": "abc.dir", '],
    ['a JSON scalar', '42'],
    ['null', 'null'],
    ['an array', '[]'],
    ['no version', JSON.stringify({ ...info, version: undefined })],
    ['a numeric version', JSON.stringify({ ...info, version: 3 })],
    ['labels that are not a list', JSON.stringify({ ...info, labels: 'mlops' })],
    ['args that are a list', JSON.stringify({ ...info, args: [1] })],
    ['performance that is null', JSON.stringify({ ...info, performance: null })],
  ])('is undefined for %s', (_case, raw) => {
    expect(parseModelInfo(raw)).toBeUndefined();
  });
});
