/**
 * sklearn-compatible TfidfVectorizer (subset): analyzer 'char' | 'char_wb' | 'word' (sklearn's
 * token_pattern \b\w\w+\b, n-grams joined by a space), ngram_range, lowercase, sublinear_tf, smooth_idf=True,
 * norm='l2', min_df (absolute count), max_features (top by corpus term frequency).
 * Vocabulary indices are assigned in sorted term order, like sklearn.
 */

export type TfidfAnalyzer = 'char' | 'char_wb' | 'word';

export interface TfidfOptions {
  analyzer: TfidfAnalyzer;
  ngramRange: [number, number];
  lowercase: boolean;
  sublinearTf: boolean;
  minDf: number;
  maxFeatures: number | null;
}

export interface SparseVector {
  indices: Int32Array;
  values: Float32Array;
}

export interface TfidfJSON {
  options: TfidfOptions;
  /** Terms in index order. */
  vocabulary: string[];
  idf: number[];
}

export const DEFAULT_TFIDF_OPTIONS: TfidfOptions = {
  analyzer: 'char',
  ngramRange: [2, 5],
  lowercase: true,
  sublinearTf: true,
  minDf: 1,
  maxFeatures: null,
};

const WHITESPACE = /\s\s+/g;
/** sklearn's default token_pattern (?u)\b\w\w+\b, with Unicode letters and digits as \w. */
const WORD_TOKEN = /[\p{L}\p{N}_]{2,}/gu;

export class TfidfVectorizer {
  readonly options: TfidfOptions;
  private vocab = new Map<string, number>();
  private terms: string[] = [];
  private idf: Float64Array = new Float64Array(0);

  constructor(options: Partial<TfidfOptions> = {}) {
    this.options = { ...DEFAULT_TFIDF_OPTIONS, ...options };
    const [lo, hi] = this.options.ngramRange;
    if (!(lo >= 1 && hi >= lo)) throw new Error(`invalid ngramRange [${lo}, ${hi}]`);
  }

  get vocabularySize(): number {
    return this.terms.length;
  }

  get vocabulary(): readonly string[] {
    return this.terms;
  }

  get idfValues(): Float64Array {
    return this.idf;
  }

  /** N-grams of one document: sklearn's _word_ngrams / _char_ngrams / _char_wb_ngrams. */
  analyze(doc: string): string[] {
    let text = this.options.lowercase ? doc.toLowerCase() : doc;
    text = text.replace(WHITESPACE, ' ');
    const [lo, hi] = this.options.ngramRange;
    const out: string[] = [];
    if (this.options.analyzer === 'word') {
      const tokens = text.match(WORD_TOKEN) ?? [];
      for (let n = lo; n <= Math.min(hi, tokens.length); n++) {
        for (let i = 0; i + n <= tokens.length; i++) out.push(tokens.slice(i, i + n).join(' '));
      }
      return out;
    }
    if (this.options.analyzer === 'char') {
      const chars = Array.from(text);
      const len = chars.length;
      for (let n = lo; n <= Math.min(hi, len); n++) {
        for (let i = 0; i + n <= len; i++) out.push(chars.slice(i, i + n).join(''));
      }
      return out;
    }
    for (const word of text.split(/\s+/).filter((w) => w.length > 0)) {
      const w = [' ', ...Array.from(word), ' '];
      const wLen = w.length;
      for (let n = lo; n <= hi; n++) {
        let offset = 0;
        out.push(w.slice(offset, offset + n).join(''));
        while (offset + n < wLen) {
          offset += 1;
          out.push(w.slice(offset, offset + n).join(''));
        }
        if (offset === 0) break; // word shorter than n
      }
    }
    return out;
  }

  private counts(doc: string): Map<string, number> {
    const m = new Map<string, number>();
    for (const g of this.analyze(doc)) m.set(g, (m.get(g) ?? 0) + 1);
    return m;
  }

  fit(docs: string[]): this {
    const df = new Map<string, number>();
    const tf = new Map<string, number>();
    for (const d of docs) {
      for (const [g, c] of this.counts(d)) {
        df.set(g, (df.get(g) ?? 0) + 1);
        tf.set(g, (tf.get(g) ?? 0) + c);
      }
    }
    let kept = [...df.keys()].filter((g) => (df.get(g) ?? 0) >= this.options.minDf);
    if (this.options.maxFeatures !== null && kept.length > this.options.maxFeatures) {
      kept.sort((a, b) => (tf.get(b) ?? 0) - (tf.get(a) ?? 0) || (a < b ? -1 : a > b ? 1 : 0));
      kept = kept.slice(0, this.options.maxFeatures);
    }
    kept.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    const n = docs.length;
    this.terms = kept;
    this.vocab = new Map(kept.map((g, i) => [g, i]));
    this.idf = Float64Array.from(kept, (g) => Math.log((1 + n) / (1 + (df.get(g) ?? 0))) + 1);
    return this;
  }

  transformOne(doc: string): SparseVector {
    const entries: [number, number][] = [];
    for (const [g, c] of this.counts(doc)) {
      const j = this.vocab.get(g);
      if (j === undefined) continue;
      const t = this.options.sublinearTf ? 1 + Math.log(c) : c;
      entries.push([j, t * this.idf[j]]);
    }
    entries.sort((a, b) => a[0] - b[0]);
    let norm = 0;
    for (const [, v] of entries) norm += v * v;
    norm = Math.sqrt(norm);
    const indices = new Int32Array(entries.length);
    const values = new Float32Array(entries.length);
    entries.forEach(([j, v], i) => {
      indices[i] = j;
      values[i] = norm > 0 ? v / norm : 0;
    });
    return { indices, values };
  }

  transform(docs: string[]): SparseVector[] {
    return docs.map((d) => this.transformOne(d));
  }

  toJSON(decimals = 6): TfidfJSON {
    const f = 10 ** decimals;
    return {
      options: { ...this.options, ngramRange: [...this.options.ngramRange] as [number, number] },
      vocabulary: [...this.terms],
      idf: Array.from(this.idf, (v) => Math.round(v * f) / f),
    };
  }

  static fromJSON(json: TfidfJSON): TfidfVectorizer {
    if (json.vocabulary.length !== json.idf.length) throw new Error('tf-idf JSON: vocabulary/idf length mismatch');
    const v = new TfidfVectorizer(json.options);
    v.terms = [...json.vocabulary];
    v.vocab = new Map(v.terms.map((g, i) => [g, i]));
    v.idf = Float64Array.from(json.idf);
    return v;
  }
}
