/**
 * Fits a head from a configuration, and k-fold cross-validation over the same steps. Everything is
 * seeded: the same rows and configuration give the same head, bit for bit.
 */
import { LogisticRegression, MultinomialNaiveBayes, mulberry32, TagHead, TfidfVectorizer, type EmbeddingPooling, type TfidfOptions } from '@tagserve/model';

export interface HeadConfig {
  /** null: no encoder features (tf-idf only). */
  embedding: { pooling: EmbeddingPooling; weight: number } | null;
  /** Sparse tf-idf blocks, e.g. char_wb 2-5 beside word 1-2. */
  tfidf: TfidfOptions[];
  C: number;
  maxIter: number;
  seed: number;
  /** 'balanced': each class weighs n / (K * n_class) in the loss, so other/mlops count as much as NLP. */
  classWeight: 'balanced' | null;
  /** Each training row also contributes its title alone (same tag): teaches the short inputs the API gets. */
  titleRows: boolean;
  /** Word n-gram naive Bayes added to the logits, scaled by `weight`. */
  naiveBayes: { weight: number; alpha: number; ngramRange: [number, number] } | null;
}

/** A training example: its text, its title (for title rows), its label index, and the embeddings of both when the head uses them. */
export interface Example {
  text: string;
  title: string;
  y: number;
}

export type Embed = (texts: string[]) => Float32Array[] | null;

function classWeights(y: number[], K: number): number[] {
  const count = new Array<number>(K).fill(0);
  y.forEach((k) => count[k]++);
  return count.map((c) => (c > 0 ? y.length / (K * c) : 0));
}

/** The rows the head is fitted on: the examples, plus their titles when titleRows is on. */
function expand(examples: Example[], cfg: HeadConfig): { texts: string[]; y: number[] } {
  const texts = examples.map((e) => e.text);
  const y = examples.map((e) => e.y);
  if (cfg.titleRows) {
    examples.forEach((e) => {
      if (e.title.trim() && e.title !== e.text) {
        texts.push(e.title);
        y.push(e.y);
      }
    });
  }
  return { texts, y };
}

export function fitHead(cfg: HeadConfig, labels: string[], examples: Example[], embed: Embed): TagHead {
  const K = labels.length;
  const { texts, y } = expand(examples, cfg);
  const embeddings = cfg.embedding ? embed(texts) : null;
  const embedding = cfg.embedding && embeddings ? { ...cfg.embedding, dim: embeddings[0].length } : null;
  const tfidf = cfg.tfidf.map((o) => new TfidfVectorizer(o).fit(texts));
  const rows = TagHead.featurize(texts, embeddings, embedding, tfidf);
  const weights = cfg.classWeight === 'balanced' ? classWeights(y, K) : null;
  const lr = new LogisticRegression();
  lr.fit(rows, y, K, TagHead.dims(embedding, tfidf), { C: cfg.C, maxIter: cfg.maxIter, seed: cfg.seed }, weights ? y.map((k) => weights[k]) : undefined);
  let naiveBayes = null;
  if (cfg.naiveBayes) {
    const nb = cfg.naiveBayes;
    const vectorizer = new TfidfVectorizer({ analyzer: 'word', ngramRange: nb.ngramRange, sublinearTf: true, minDf: 1, maxFeatures: null }).fit(texts);
    const model = MultinomialNaiveBayes.fit(vectorizer.transform(texts), y, K, vectorizer.vocabularySize, nb.alpha);
    naiveBayes = { weight: nb.weight, vectorizer, model };
  }
  return new TagHead(labels, embedding, tfidf, lr, naiveBayes);
}

/** Stratified folds: each class's rows shuffled with the seed and dealt round-robin. */
export function stratifiedFolds(y: number[], k: number, seed: number): number[] {
  const rand = mulberry32(seed);
  const fold = new Array<number>(y.length).fill(0);
  const byClass = new Map<number, number[]>();
  y.forEach((c, i) => byClass.set(c, [...(byClass.get(c) ?? []), i]));
  let next = 0;
  for (const c of [...byClass.keys()].sort((a, b) => a - b)) {
    const idx = byClass.get(c) as number[];
    for (let i = idx.length - 1; i > 0; i--) {
      const j = Math.floor(rand() * (i + 1));
      [idx[i], idx[j]] = [idx[j], idx[i]];
    }
    for (const i of idx) fold[i] = next++ % k;
  }
  return fold;
}

export interface CrossValidation {
  /** Out-of-fold logits (before any temperature) for every example, in input order. */
  logits: Float64Array[];
  fold: number[];
}

/**
 * k-fold CV over `examples`; `extra` rows (if any) join every training fold and are never
 * validated on.
 */
export function crossValidate(cfg: HeadConfig, labels: string[], examples: Example[], extra: Example[], embed: Embed, k: number): CrossValidation {
  const fold = stratifiedFolds(
    examples.map((e) => e.y),
    k,
    cfg.seed,
  );
  const logits = new Array<Float64Array>(examples.length);
  for (let f = 0; f < k; f++) {
    const trainSet = [...examples.filter((_, i) => fold[i] !== f), ...extra];
    const held = examples.map((e, i) => ({ e, i })).filter(({ i }) => fold[i] === f);
    const head = fitHead(cfg, labels, trainSet, embed);
    const texts = held.map(({ e }) => e.text);
    head.logits(texts, head.embedding ? embed(texts) : null).forEach((z, j) => (logits[held[j].i] = z));
  }
  return { logits, fold };
}
