/**
 * The trainable part of the classifier, independent of the encoder runtime: features -> logits ->
 * calibrated probabilities -> tag.
 *
 * Logits = logistic regression over [embedding * weight | tf-idf block 1 | tf-idf block 2 ...]
 *        + naiveBayes.weight * log P_nb(class | word n-grams)   (when the ensemble is on),
 * probabilities = softmax(logits / temperature).
 */
import { LogisticRegression, type FeatureRow, type LogisticRegressionJSON } from './logistic-regression';
import { MultinomialNaiveBayes, type NaiveBayesJSON } from './naive-bayes';
import { softmax } from './calibration';
import { TfidfVectorizer, type SparseVector, type TfidfJSON } from './tfidf';
import type { EmbeddingFeatureConfig } from './types';

export const HEAD_FORMAT = 'tagserve-head/2';

export interface NaiveBayesMember {
  /** Scale of the naive Bayes log posterior added to the logistic regression's logits. */
  weight: number;
  vectorizer: TfidfVectorizer;
  model: MultinomialNaiveBayes;
}

export interface HeadJSON {
  format: typeof HEAD_FORMAT;
  labels: string[];
  features: {
    embedding: EmbeddingFeatureConfig | null;
    /** Sparse blocks, concatenated in this order, each L2-normalised on its own. */
    tfidf: TfidfJSON[];
  };
  classifier: LogisticRegressionJSON;
  naiveBayes: { weight: number; vectorizer: TfidfJSON; model: NaiveBayesJSON } | null;
  temperature: number;
}

/** Concatenates sparse blocks, shifting each block's indices past the previous ones. */
function concatSparse(blocks: SparseVector[], sizes: number[]): SparseVector {
  const total = blocks.reduce((s, b) => s + b.indices.length, 0);
  const indices = new Int32Array(total);
  const values = new Float32Array(total);
  let at = 0;
  let offset = 0;
  blocks.forEach((b, i) => {
    for (let t = 0; t < b.indices.length; t++) {
      indices[at] = b.indices[t] + offset;
      values[at++] = b.values[t];
    }
    offset += sizes[i];
  });
  return { indices, values };
}

export class TagHead {
  constructor(
    readonly labels: string[],
    readonly embedding: EmbeddingFeatureConfig | null,
    readonly tfidf: TfidfVectorizer[],
    readonly lr: LogisticRegression,
    readonly naiveBayes: NaiveBayesMember | null = null,
    readonly temperature = 1,
  ) {}

  static dims(embedding: EmbeddingFeatureConfig | null, tfidf: TfidfVectorizer[]): { denseDim: number; sparseDim: number } {
    return { denseDim: embedding ? embedding.dim : 0, sparseDim: tfidf.reduce((s, v) => s + v.vocabularySize, 0) };
  }

  /** Builds LR rows; `embeddings` must be given iff the head uses the embedding block. */
  static featurize(texts: string[], embeddings: Float32Array[] | null, embedding: EmbeddingFeatureConfig | null, tfidf: TfidfVectorizer[]): FeatureRow[] {
    if (embedding && (!embeddings || embeddings.length !== texts.length)) throw new Error('featurize: embeddings missing or of the wrong length');
    const sizes = tfidf.map((v) => v.vocabularySize);
    return texts.map((t, i) => {
      const row: FeatureRow = {};
      if (embedding && embeddings) {
        const e = embeddings[i];
        if (e.length !== embedding.dim) throw new Error(`featurize: embedding dim ${e.length} != ${embedding.dim}`);
        row.dense = embedding.weight === 1 ? e : Float32Array.from(e, (v) => v * embedding.weight);
      }
      if (tfidf.length > 0)
        row.sparse = concatSparse(
          tfidf.map((v) => v.transformOne(t)),
          sizes,
        );
      return row;
    });
  }

  /** Scores before the temperature. */
  logits(texts: string[], embeddings: Float32Array[] | null): Float64Array[] {
    const rows = TagHead.featurize(texts, embeddings, this.embedding, this.tfidf);
    return rows.map((row, i) => {
      const z = this.lr.logits(row);
      if (this.naiveBayes) {
        const nb = this.naiveBayes.model.logPosterior(this.naiveBayes.vectorizer.transformOne(texts[i]));
        for (let k = 0; k < z.length; k++) z[k] += this.naiveBayes.weight * nb[k];
      }
      return z;
    });
  }

  predictProba(texts: string[], embeddings: Float32Array[] | null): number[][] {
    return this.logits(texts, embeddings).map((z) => softmax(z, this.temperature));
  }

  withTemperature(temperature: number): TagHead {
    return new TagHead(this.labels, this.embedding, this.tfidf, this.lr, this.naiveBayes, temperature);
  }

  toJSON(): HeadJSON {
    const nb = this.naiveBayes;
    return {
      format: HEAD_FORMAT,
      labels: [...this.labels],
      features: { embedding: this.embedding, tfidf: this.tfidf.map((v) => v.toJSON()) },
      classifier: this.lr.toJSON(),
      naiveBayes: nb ? { weight: nb.weight, vectorizer: nb.vectorizer.toJSON(), model: nb.model.toJSON() } : null,
      temperature: this.temperature,
    };
  }

  static fromJSON(json: HeadJSON): TagHead {
    if (json.format !== HEAD_FORMAT) throw new Error(`head.json: unsupported format '${String(json.format)}'`);
    const tfidf = json.features.tfidf.map((t) => TfidfVectorizer.fromJSON(t));
    const lr = LogisticRegression.fromJSON(json.classifier);
    const nb = json.naiveBayes;
    const naiveBayes = nb ? { weight: nb.weight, vectorizer: TfidfVectorizer.fromJSON(nb.vectorizer), model: MultinomialNaiveBayes.fromJSON(nb.model) } : null;
    const { denseDim, sparseDim } = TagHead.dims(json.features.embedding, tfidf);
    if (lr.denseDim !== denseDim || lr.sparseDim !== sparseDim || lr.numClasses !== json.labels.length) {
      throw new Error('head.json: classifier dimensions do not match the feature config');
    }
    if (naiveBayes && naiveBayes.model.numClasses !== json.labels.length) throw new Error('head.json: naive Bayes class count mismatch');
    return new TagHead(json.labels, json.features.embedding, tfidf, lr, naiveBayes, json.temperature);
  }
}

/**
 * A word of two or more letters or digits, one of them a letter: text without one ("a", "42",
 * zero-width spaces, NUL, punctuation) carries no evidence of a topic, whatever the model says.
 */
const CONTENT_WORD = /(?=[\p{L}\p{N}]*\p{L})[\p{L}\p{N}]{2,}/u;

export function hasContent(text: string): boolean {
  return CONTENT_WORD.test(text);
}

export interface TagDecision {
  /** The tag answered below this top probability (null: always the top class). */
  threshold: number | null;
  fallbackTag: string;
}

/** The original tagifai rule: the top class if its probability reaches the threshold, else the fallback tag. */
export function decideTag(text: string, probs: number[], labels: string[], decision: TagDecision): string {
  let best = 0;
  for (let k = 1; k < probs.length; k++) if (probs[k] > probs[best]) best = k;
  if (!hasContent(text)) return decision.fallbackTag;
  if (decision.threshold !== null && probs[best] < decision.threshold) return decision.fallbackTag;
  return labels[best];
}
