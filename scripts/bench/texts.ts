/**
 * The texts every benchmark phase cycles: the course's holdout set (title + " " + description, the
 * text the model is trained and evaluated on; 191 texts, ~41 tokens on average, at most 69), and
 * short hand-written ones as a labelled extra (~24 tokens: they overstate throughput about 2x).
 */
import * as fs from 'fs';
import { parseCsvRecords } from '@tagserve/model';

export const COURSE_HOLDOUT = 'https://raw.githubusercontent.com/GokuMohandas/Made-With-ML/main/datasets/holdout.csv';

export interface LabelledTexts {
  texts: string[];
  tags: string[];
}

/** `src`: a local CSV path or a URL; defaults to $HOLDOUT_CSV, then the course's published file. */
export async function loadHoldout(src = process.env.HOLDOUT_CSV || COURSE_HOLDOUT): Promise<LabelledTexts> {
  let text: string;
  if (/^https?:\/\//i.test(src)) {
    const res = await fetch(src).catch((err: unknown) => {
      throw new Error(`GET ${src} failed (${(err as Error).message}): pass --holdout <file> or set HOLDOUT_CSV when offline`);
    });
    if (!res.ok) throw new Error(`GET ${src}: HTTP ${res.status}`);
    text = await res.text();
  } else {
    text = fs.readFileSync(src, 'utf8');
  }
  const recs = parseCsvRecords(text);
  if (recs.length === 0 || !('title' in recs[0]) || !('description' in recs[0])) throw new Error(`${src}: expected columns title, description`);
  return { texts: recs.map((r) => `${r.title} ${r.description}`), tags: recs.map((r) => r.tag ?? '') };
}

/** Short hand-written texts (title + description style), the bench's former default. */
export const SHORT_TEXTS = [
  'Transfer learning with transformers for text classification. Fine-tuning BERT on a small labelled dataset.',
  'YOLOv8 real-time object detection on edge devices with TensorRT.',
  'Diffusion models from scratch: a minimal DDPM implementation in PyTorch with annotated code and training tips.',
  'MLOps pipeline with Airflow, MLflow and Kubernetes for continuous training and deployment of models.',
  'Graph neural networks for molecule property prediction.',
  'Sentiment analysis of tweets using LSTM and GloVe embeddings.',
  'Self-supervised contrastive learning (SimCLR) for image representations without labels.',
  'A practical guide to monitoring data drift in production machine learning systems.',
  'Question answering over PDFs with retrieval-augmented generation and a vector database.',
  'Semantic segmentation of satellite imagery with U-Net.',
  'Reinforcement learning agent that plays Atari games with deep Q-networks and prioritized replay.',
  'Named entity recognition for biomedical text with spaCy.',
  'Feature stores explained: serving consistent features for training and online inference.',
  'Image captioning with a CNN encoder and an attention-based transformer decoder.',
  'Speech recognition with wav2vec 2.0 fine-tuned on a low-resource language.',
  'Pose estimation in videos using MediaPipe.',
];
