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
const SURROGATE = /[\uD800-\uDFFF]/;
/** sklearn's default token_pattern (?u)\b\w\w+\b, with Unicode letters and digits as \w. */
const WORD_TOKEN = /[\p{L}\p{N}_]{2,}/gu;

export class TfidfVectorizer {
  readonly options: TfidfOptions;
  private vocab = new Map<string, number>();
  private terms: string[] = [];
  private idf: Float64Array = new Float64Array(0);
  private scratch = new Float64Array(0);

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
    const out: string[] = [];
    this.forEachNgram(doc, (g) => out.push(g));
    return out;
  }

  /**
   * Calls `emit` with each n-gram, in analyze()'s order. Text without surrogate pairs (one code
   * point per UTF-16 unit: every holdout text) is cut with substring; otherwise by code point as
   * sklearn does. substring instead of Array.from + slice + join per n-gram: 0.09 -> 0.02 CPU ms
   * per holdout text.
   */
  private forEachNgram(doc: string, emit: (gram: string) => void): void {
    const text = (this.options.lowercase ? doc.toLowerCase() : doc).replace(WHITESPACE, ' ');
    const [lo, hi] = this.options.ngramRange;
    if (this.options.analyzer === 'word') {
      const tokens = text.match(WORD_TOKEN) ?? [];
      for (let n = lo; n <= Math.min(hi, tokens.length); n++) {
        for (let i = 0; i + n <= tokens.length; i++) emit(tokens.slice(i, i + n).join(' '));
      }
      return;
    }
    const units = !SURROGATE.test(text);
    if (this.options.analyzer === 'char') {
      const chars = units ? text : Array.from(text);
      const len = chars.length;
      for (let n = lo; n <= Math.min(hi, len); n++) {
        for (let i = 0; i + n <= len; i++) emit(units ? text.substring(i, i + n) : (chars as string[]).slice(i, i + n).join(''));
      }
      return;
    }
    for (const word of text.split(/\s+/)) {
      if (word.length === 0) continue;
      const padded = ' ' + word + ' ';
      const w = units ? padded : Array.from(padded);
      const wLen = w.length;
      const gram = (from: number, n: number) => (units ? padded.substring(from, from + n) : (w as string[]).slice(from, from + n).join(''));
      for (let n = lo; n <= hi; n++) {
        let offset = 0;
        emit(gram(offset, n));
        while (offset + n < wLen) {
          offset += 1;
          emit(gram(offset, n));
        }
        if (offset === 0) break; // word shorter than n
      }
    }
  }

  private counts(doc: string): Map<string, number> {
    const m = new Map<string, number>();
    this.forEachNgram(doc, (g) => m.set(g, (m.get(g) ?? 0) + 1));
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

  /**
   * Counts straight into vocabulary slots (a scratch array the size of the vocabulary, cleared
   * after use) instead of a Map of n-gram strings, then sorts the touched indices as an Int32Array:
   * 0.33 -> 0.13-0.17 CPU ms per holdout text, the same vectors bit for bit (holdout + dataset).
   */
  transformOne(doc: string): SparseVector {
    if (this.scratch.length !== this.terms.length) this.scratch = new Float64Array(this.terms.length);
    const counts = this.scratch;
    const touched: number[] = [];
    this.forEachNgram(doc, (g) => {
      const j = this.vocab.get(g);
      if (j === undefined) return;
      if (counts[j] === 0) touched.push(j);
      counts[j]++;
    });
    const indices = Int32Array.from(touched).sort();
    const values = new Float32Array(indices.length);
    const weights = new Float64Array(indices.length);
    let norm = 0;
    for (let i = 0; i < indices.length; i++) {
      const j = indices[i];
      const c = counts[j];
      counts[j] = 0;
      const w = (this.options.sublinearTf ? 1 + Math.log(c) : c) * this.idf[j];
      weights[i] = w;
      norm += w * w;
    }
    norm = Math.sqrt(norm);
    for (let i = 0; i < indices.length; i++) values[i] = norm > 0 ? weights[i] / norm : 0;
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
