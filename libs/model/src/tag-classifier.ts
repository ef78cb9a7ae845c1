/**
 * Tag classifier artifact: a frozen Transformers.js encoder + a char tf-idf vectorizer + a
 * multinomial logistic-regression head over [embedding * weight | tf-idf].
 *
 * Artifact layout (directory):
 *   encoder/           config.json, tokenizer.json, tokenizer_config.json, special_tokens_map.json,
 *                      LICENSE, onnx/<the one onnx file used>
 *   head.json          HeadJSON (labels, feature config, tf-idf vocabulary + idf, weights, bias)
 *   args.json          training parameters (args.dtype selects the onnx file)
 *   performance.json   holdout metrics
 *   versions.json      package versions used to build the artifact
 */
import * as fs from 'fs';
import * as path from 'path';
import { CharTfidfVectorizer, type CharTfidfJSON } from './char-tfidf';
import { LogisticRegression, type FeatureRow, type LogisticRegressionJSON } from './logistic-regression';
import { isEncoderDtype, TextEncoder } from './text-encoder';
import type { EmbeddingFeatureConfig, EncoderRuntimeOptions, Prediction } from './types';

export const HEAD_FORMAT = 'tagserve-head/1';
export const WARM_UP_TEXT = 'Transfer learning with transformers for text classification.';

export interface HeadJSON {
  format: typeof HEAD_FORMAT;
  labels: string[];
  features: {
    embedding: EmbeddingFeatureConfig | null;
    tfidf: CharTfidfJSON | null;
  };
  classifier: LogisticRegressionJSON;
}

/** The trainable part: features -> probabilities. Independent of the encoder runtime. */
export class TagHead {
  constructor(
    readonly labels: string[],
    readonly embedding: EmbeddingFeatureConfig | null,
    readonly tfidf: CharTfidfVectorizer | null,
    readonly lr: LogisticRegression,
  ) {}

  get dims(): { denseDim: number; sparseDim: number } {
    return { denseDim: this.embedding ? this.embedding.dim : 0, sparseDim: this.tfidf ? this.tfidf.vocabularySize : 0 };
  }

  /** Builds LR rows; `embeddings` must be given iff the head uses the embedding block. */
  static featurize(
    texts: string[],
    embeddings: Float32Array[] | null,
    embedding: EmbeddingFeatureConfig | null,
    tfidf: CharTfidfVectorizer | null,
  ): FeatureRow[] {
    if (embedding && (!embeddings || embeddings.length !== texts.length)) {
      throw new Error('featurize: embeddings missing or of the wrong length');
    }
    return texts.map((t, i) => {
      const row: FeatureRow = {};
      if (embedding && embeddings) {
        const e = embeddings[i];
        if (e.length !== embedding.dim) throw new Error(`featurize: embedding dim ${e.length} != ${embedding.dim}`);
        row.dense = embedding.weight === 1 ? e : Float32Array.from(e, (v) => v * embedding.weight);
      }
      if (tfidf) row.sparse = tfidf.transformOne(t);
      return row;
    });
  }

  predictProba(texts: string[], embeddings: Float32Array[] | null): number[][] {
    return this.lr.predictProba(TagHead.featurize(texts, embeddings, this.embedding, this.tfidf));
  }

  toJSON(): HeadJSON {
    return {
      format: HEAD_FORMAT,
      labels: [...this.labels],
      features: { embedding: this.embedding, tfidf: this.tfidf ? this.tfidf.toJSON() : null },
      classifier: this.lr.toJSON(),
    };
  }

  static fromJSON(json: HeadJSON): TagHead {
    if (json.format !== HEAD_FORMAT) throw new Error(`head.json: unsupported format '${String(json.format)}'`);
    const tfidf = json.features.tfidf ? CharTfidfVectorizer.fromJSON(json.features.tfidf) : null;
    const lr = LogisticRegression.fromJSON(json.classifier);
    const head = new TagHead(json.labels, json.features.embedding, tfidf, lr);
    const { denseDim, sparseDim } = head.dims;
    if (lr.denseDim !== denseDim || lr.sparseDim !== sparseDim || lr.numClasses !== json.labels.length) {
      throw new Error('head.json: classifier dimensions do not match the feature config');
    }
    return head;
  }
}

function readJson<T>(file: string): T {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8')) as T;
  } catch (err) {
    throw new Error(`cannot read ${file}: ${(err as Error).message}`);
  }
}

export class TagClassifier {
  private constructor(
    private readonly head: TagHead,
    private readonly encoder: TextEncoder | null,
    readonly args: Record<string, unknown>,
    readonly performance: Record<string, unknown>,
  ) {}

  get labels(): string[] {
    return this.head.labels;
  }

  static async load(artifactDir: string, runtime: EncoderRuntimeOptions): Promise<TagClassifier> {
    const dir = path.resolve(artifactDir);
    const head = TagHead.fromJSON(readJson<HeadJSON>(path.join(dir, 'head.json')));
    const args = readJson<Record<string, unknown>>(path.join(dir, 'args.json'));
    const performance = readJson<Record<string, unknown>>(path.join(dir, 'performance.json'));
    let encoder: TextEncoder | null = null;
    if (head.embedding) {
      const dtype = args.dtype ?? 'q8';
      if (!isEncoderDtype(dtype)) throw new Error(`args.json: unsupported dtype '${String(dtype)}'`);
      encoder = await TextEncoder.load(path.join(dir, 'encoder'), runtime, dtype, head.embedding.pooling);
    }
    return new TagClassifier(head, encoder, args, performance);
  }

  /** One padded encoder inference over all texts. */
  async predict(texts: string[]): Promise<Prediction[]> {
    if (texts.length === 0) return [];
    const embeddings = this.encoder ? await this.encoder.embed(texts) : null;
    const probs = this.head.predictProba(texts, embeddings);
    return texts.map((text, i) => {
      const p = probs[i];
      let best = 0;
      for (let k = 1; k < p.length; k++) if (p[k] > p[best]) best = k;
      const predicted_probabilities: Record<string, number> = {};
      this.labels.forEach((l, k) => (predicted_probabilities[l] = p[k]));
      return { input_text: text, predicted_tag: this.labels[best], predicted_probabilities };
    });
  }

  async warmUp(): Promise<void> {
    await this.predict([WARM_UP_TEXT]);
  }

  async dispose(): Promise<void> {
    await this.encoder?.dispose();
  }
}
