/**
 * Tag classifier artifact: a frozen Transformers.js encoder + the trained head (tag-head.ts), with
 * the low-confidence fallback of args.json applied to the predicted tag.
 *
 * Artifact layout (directory):
 *   encoder/           config.json, tokenizer.json, tokenizer_config.json, special_tokens_map.json,
 *                      LICENSE, onnx/<the one onnx file used>
 *   head.json          HeadJSON (labels, feature config, tf-idf vocabularies + idf, weights, temperature)
 *   args.json          training parameters (args.dtype selects the onnx file; args.threshold and
 *                      args.fallback_tag the low-confidence fallback)
 *   performance.json   holdout, check-set, cross-validation, slice and calibration metrics
 *   versions.json      package versions used to build the artifact
 */
import * as fs from 'fs';
import * as path from 'path';
import { decideTag, TagHead, type HeadJSON, type TagDecision } from './tag-head';
import { ONNX_FILE_BY_DTYPE, TextEncoder, type EncoderDtype } from './text-encoder';
import type { EncoderRuntimeOptions, Prediction } from './types';

export const WARM_UP_TEXT = 'Transfer learning with transformers for text classification.';

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
    private readonly decision: TagDecision,
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
      const dtype = (args.dtype as EncoderDtype | undefined) ?? 'q8';
      if (!(dtype in ONNX_FILE_BY_DTYPE)) throw new Error(`args.json: unsupported dtype '${String(dtype)}'`);
      encoder = await TextEncoder.load(path.join(dir, 'encoder'), runtime, dtype, head.embedding.pooling);
    }
    return new TagClassifier(head, encoder, decisionFrom(args, head.labels), args, performance);
  }

  /** One padded encoder inference over all texts. */
  async predict(texts: string[]): Promise<Prediction[]> {
    if (texts.length === 0) return [];
    const embeddings = this.encoder ? await this.encoder.embed(texts) : null;
    const probs = this.head.predictProba(texts, embeddings);
    return texts.map((text, i) => {
      const p = probs[i];
      const predicted_probabilities: Record<string, number> = {};
      this.labels.forEach((l, k) => (predicted_probabilities[l] = p[k]));
      return { input_text: text, predicted_tag: decideTag(text, p, this.labels, this.decision), predicted_probabilities };
    });
  }

  async warmUp(): Promise<void> {
    await this.predict([WARM_UP_TEXT]);
  }

  async dispose(): Promise<void> {
    await this.encoder?.dispose();
  }
}

/** args.json's threshold (absent or null: none) and fallback tag, which must be one of the labels. */
function decisionFrom(args: Record<string, unknown>, labels: string[]): TagDecision {
  const threshold = args.threshold ?? null;
  if (threshold !== null && (typeof threshold !== 'number' || !(threshold >= 0 && threshold <= 1))) {
    throw new Error(`args.json: threshold must be a probability or null, got ${String(threshold)}`);
  }
  const fallbackTag = (args.fallback_tag as string | undefined) ?? 'other';
  if (!labels.includes(fallbackTag)) throw new Error(`args.json: fallback_tag '${fallbackTag}' is not a label`);
  return { threshold, fallbackTag };
}
