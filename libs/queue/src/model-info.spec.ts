import { countWorkersByVersion, parseModelInfo, pickKey, workerEntry } from './model-info';

describe('countWorkersByVersion', () => {
  it('counts the workers of each version, most served first, ties by version', () => {
    const members = [workerEntry('b.dir', 'h1:1'), workerEntry('a.dir', 'h2:2'), workerEntry('b.dir', 'h3:3'), workerEntry('c.dir', 'h4:4')];
    expect(countWorkersByVersion(members)).toEqual([
      { version: 'b.dir', workers: 2 },
      { version: 'a.dir', workers: 1 },
      { version: 'c.dir', workers: 1 },
    ]);
  });

  it('skips members it did not write', () => {
    expect(countWorkersByVersion(['no-space', ' leading-space', workerEntry('a.dir', 'h:1')])).toEqual([{ version: 'a.dir', workers: 1 }]);
  });
});

describe('pickKey', () => {
  const performance = { accuracy: 0.9, overall: { f1: 0.91 }, class: { mlops: { f1: 0.8 } } };

  it('picks a top-level key, as the original filters, or a dotted path', () => {
    expect(pickKey(performance, 'overall')).toEqual({ f1: 0.91 });
    expect(pickKey(performance, 'class.mlops.f1')).toBe(0.8);
    expect(pickKey(performance, 'accuracy')).toBe(0.9);
  });

  it('is undefined for missing keys, paths through numbers, and inherited properties', () => {
    expect(pickKey(performance, 'slices')).toBeUndefined();
    expect(pickKey(performance, 'accuracy.f1')).toBeUndefined();
    expect(pickKey(performance, 'toString')).toBeUndefined();
    expect(pickKey(performance, '__proto__')).toBeUndefined();
  });
});

describe('parseModelInfo', () => {
  it('rejects values that are not model info', () => {
    expect(parseModelInfo('{not json')).toBeUndefined();
    expect(parseModelInfo(JSON.stringify({ version: 'a.dir', labels: [], args: {}, performance: [] }))).toBeUndefined();
    const info = { version: 'a.dir', labels: ['x'], args: {}, performance: {}, loadedAt: '2026-01-01T00:00:00.000Z' };
    expect(parseModelInfo(JSON.stringify(info))).toEqual(info);
  });

  const info = { version: 'abc.dir', labels: ['mlops', 'other'], args: { C: 1 }, performance: { overall: { f1: 0.9 } }, loadedAt: '2026-01-01T00:00:00.000Z' };

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
