/**
 * Behavioural tests of the model, shared by the jest spec (against the shipped artifact) and by
 * `npm run train`, which refuses to push a model that fails one.
 *
 * The sentences come from the Made With ML course's tests/model/test_behavioral.py by Goku Mohandas
 * (MIT licence): the 2022 version (GokuMohandas/mlops-course) and the 2023 version
 * (GokuMohandas/Made-With-ML), which replaced "This should not produce any relevant topics." with
 * "This is about graph neural networks." as the `other` case. Both are kept.
 */

export interface BehaviouralCase {
  kind: 'invariance' | 'directional' | 'minimum functionality' | 'content-free';
  text: string;
  tag: string;
  source: string;
}

const NLP = 'natural-language-processing';
const BOTH = 'course 2022 + 2023';

export const BEHAVIOURAL_CASES: BehaviouralCase[] = [
  { kind: 'invariance', text: 'Transformers applied to NLP have revolutionized machine learning.', tag: NLP, source: BOTH },
  { kind: 'invariance', text: 'Transformers applied to NLP have disrupted machine learning.', tag: NLP, source: BOTH },
  { kind: 'directional', text: 'ML applied to text classification.', tag: NLP, source: BOTH },
  { kind: 'directional', text: 'ML applied to image classification.', tag: 'computer-vision', source: BOTH },
  { kind: 'directional', text: 'CNNs for text classification.', tag: NLP, source: BOTH },
  { kind: 'minimum functionality', text: 'Natural language processing is the next big wave in machine learning.', tag: NLP, source: BOTH },
  { kind: 'minimum functionality', text: 'MLOps is the next big wave in machine learning.', tag: 'mlops', source: BOTH },
  { kind: 'minimum functionality', text: 'This should not produce any relevant topics.', tag: 'other', source: 'course 2022' },
  { kind: 'minimum functionality', text: 'This is about graph neural networks.', tag: 'other', source: 'course 2023' },
  // Inputs with no words in them must not be given a topic.
  { kind: 'content-free', text: 'a', tag: 'other', source: 'tagserve' },
  { kind: 'content-free', text: '\u200b\u200b\u200b', tag: 'other', source: 'tagserve' },
  { kind: 'content-free', text: '\u0000', tag: 'other', source: 'tagserve' },
  { kind: 'content-free', text: '?!...', tag: 'other', source: 'tagserve' },
  { kind: 'content-free', text: '- * -', tag: 'other', source: 'tagserve' },
  { kind: 'content-free', text: '42', tag: 'other', source: 'tagserve' },
];

/** The cases whose predicted tag differs from the expected one. */
export function behaviouralFailures(predictedTags: string[]): { case: BehaviouralCase; predicted: string }[] {
  return BEHAVIOURAL_CASES.map((c, i) => ({ case: c, predicted: predictedTags[i] })).filter((r) => r.predicted !== r.case.tag);
}
