import type { HttpResult } from './http';

export const LABELS = ['computer-vision', 'mlops', 'natural-language-processing', 'other'];

const TOPICS = [
  'Transfer learning with transformers for text classification.',
  'YOLO real-time object detection and image segmentation with convolutional networks.',
  'Serving models in production: CI/CD, monitoring, feature stores and model registry.',
  'A curated list of awesome resources and tutorials.',
];

/** `count` distinct, valid texts (distinct so a mixed-up answer is detectable). */
export function sampleTexts(count: number, tag = ''): Array<{ text: string }> {
  return Array.from({ length: count }, (_, i) => ({ text: `${TOPICS[i % TOPICS.length]} #${tag}${i}` }));
}

/**
 * Why a /predict answer is not the right answer to `texts`, or undefined when it is:
 * 200, one prediction per text, in order, each with a known tag and probabilities summing to 1.
 */
export function predictionProblem(res: HttpResult, texts: Array<{ text: string }>): string | undefined {
  if (res.status !== 200) return `status ${res.status || res.error}`;
  const predictions = res.body?.data?.predictions;
  if (!Array.isArray(predictions)) return 'no predictions array';
  if (predictions.length !== texts.length) return `${predictions.length} predictions for ${texts.length} texts`;
  for (let i = 0; i < texts.length; i++) {
    const p = predictions[i];
    if (p?.input_text !== texts[i].text) return `prediction ${i} is for another text`;
    if (!LABELS.includes(p.predicted_tag)) return `prediction ${i} has unknown tag ${p.predicted_tag}`;
    const total = Object.values<number>(p.predicted_probabilities ?? {}).reduce((a, b) => a + b, 0);
    if (Math.abs(total - 1) > 1e-3) return `prediction ${i} probabilities sum to ${total}`;
  }
  return undefined;
}
