import { TfidfVectorizer } from './tfidf';

function dense(v: { indices: Int32Array; values: Float32Array }, n: number): number[] {
  const out = new Array<number>(n).fill(0);
  v.indices.forEach((j, t) => (out[j] = v.values[t]));
  return out;
}

describe('TfidfVectorizer', () => {
  // sklearn: TfidfVectorizer(analyzer='char', ngram_range=(1, 2)) on ['ab', 'abb'].
  // vocabulary (sorted): a, ab, b, bb; df = 2, 2, 2, 1; n = 2
  // idf = ln((1+n)/(1+df)) + 1 = 1, 1, 1, 1 + ln(3/2) = 1.4054651
  const docs = ['ab', 'abb'];

  it('builds the sorted vocabulary and smooth idf', () => {
    const v = new TfidfVectorizer({ analyzer: 'char', ngramRange: [1, 2], sublinearTf: false }).fit(docs);
    expect([...v.vocabulary]).toEqual(['a', 'ab', 'b', 'bb']);
    const idf = Array.from(v.idfValues);
    [1, 1, 1, 1.4054651].forEach((x, i) => expect(idf[i]).toBeCloseTo(x, 6));
  });

  it('matches hand-computed l2-normalised tf-idf (raw tf)', () => {
    const v = new TfidfVectorizer({ analyzer: 'char', ngramRange: [1, 2], sublinearTf: false }).fit(docs);
    const [d1, d2] = v.transform(docs).map((x) => dense(x, 4));
    // d1: [1,1,1,0]/sqrt(3)
    [0.5773503, 0.5773503, 0.5773503, 0].forEach((x, i) => expect(d1[i]).toBeCloseTo(x, 6));
    // d2: [1,1,2,1.4054651] / sqrt(7.9753322)
    [0.3540997, 0.3540997, 0.7081995, 0.4976748].forEach((x, i) => expect(d2[i]).toBeCloseTo(x, 6));
  });

  it('matches hand-computed values with sublinear_tf', () => {
    const v = new TfidfVectorizer({ analyzer: 'char', ngramRange: [1, 2], sublinearTf: true }).fit(docs);
    const d2 = dense(v.transformOne('abb'), 4);
    // tf(b) = 1 + ln 2 = 1.6931472; vector [1,1,1.6931472,1.4054651], norm sqrt(6.8420795)
    [0.3823014, 0.3823014, 0.6472926, 0.5373113].forEach((x, i) => expect(d2[i]).toBeCloseTo(x, 6));
  });

  it('char_wb pads words with spaces like sklearn', () => {
    const v = new TfidfVectorizer({ analyzer: 'char_wb', ngramRange: [2, 3] });
    expect(v.analyze('ab c')).toEqual([' a', 'ab', 'b ', ' ab', 'ab ', ' c', 'c ', ' c ']);
  });

  it('word n-grams use tokens of 2+ word characters, like sklearn', () => {
    // sklearn: TfidfVectorizer(ngram_range=(1, 2)).build_analyzer()('A CNN, for text-classification!')
    const v = new TfidfVectorizer({ analyzer: 'word', ngramRange: [1, 2] });
    expect(v.analyze('A CNN, for text-classification!')).toEqual(['cnn', 'for', 'text', 'classification', 'cnn for', 'for text', 'text classification']);
    expect(v.analyze('a \u200b .')).toEqual([]);
  });

  it('char lowercases and collapses whitespace runs', () => {
    const v = new TfidfVectorizer({ analyzer: 'char', ngramRange: [2, 2] });
    expect(v.analyze('A  b')).toEqual(['a ', ' b']);
  });

  it('ignores unknown n-grams, caps max_features by corpus frequency, round-trips JSON', () => {
    const v = new TfidfVectorizer({ analyzer: 'char', ngramRange: [1, 1], maxFeatures: 2 }).fit(['aab', 'aac', 'b']);
    expect([...v.vocabulary]).toEqual(['a', 'b']);
    expect(v.transformOne('zzz').indices.length).toBe(0);
    const w = TfidfVectorizer.fromJSON(JSON.parse(JSON.stringify(v.toJSON())));
    expect(Array.from(w.transformOne('ab').values)).toEqual(Array.from(v.transformOne('ab').values));
  });
});
