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

  it('cuts the same n-grams as a by-code-point reference, with and without surrogate pairs', () => {
    // sklearn's analyzers, written the slow obvious way (code points via Array.from).
    const reference = (doc: string, analyzer: 'char' | 'char_wb', lo: number, hi: number): string[] => {
      const text = doc.toLowerCase().replace(/\s\s+/g, ' ');
      const out: string[] = [];
      if (analyzer === 'char') {
        const c = Array.from(text);
        for (let n = lo; n <= Math.min(hi, c.length); n++) for (let i = 0; i + n <= c.length; i++) out.push(c.slice(i, i + n).join(''));
        return out;
      }
      for (const word of text.split(/\s+/).filter((w) => w.length > 0)) {
        const w = [' ', ...Array.from(word), ' '];
        for (let n = lo; n <= hi; n++) {
          out.push(w.slice(0, n).join(''));
          for (let i = 1; i + n <= w.length; i++) out.push(w.slice(i, i + n).join(''));
          if (w.length <= n) break; // a word no longer than n counts once, whatever n follows
        }
      }
      return out;
    };
    const texts = ['Graph  Wavelet Neural\tNetwork (ICLR 2019).', 'a', ' x  ', 'Émoji 😀 in 𝔘𝔫𝔦𝔠𝔬𝔡𝔢 text', 'naïve café', ''];
    for (const analyzer of ['char', 'char_wb'] as const) {
      const v = new TfidfVectorizer({ analyzer, ngramRange: [2, 5] });
      for (const t of texts) expect(v.analyze(t)).toEqual(reference(t, analyzer, 2, 5));
    }
  });
});
