import { LogisticRegression } from './logistic-regression';
import { MultinomialNaiveBayes } from './naive-bayes';
import { decideTag, hasContent, TagHead } from './tag-head';
import { TfidfVectorizer } from './tfidf';

const LABELS = ['computer-vision', 'mlops', 'natural-language-processing', 'other'];
const DECISION = { threshold: 0.6, fallbackTag: 'other' };

describe('decideTag', () => {
  it('answers the top class at or above the threshold, the fallback below it', () => {
    expect(decideTag('object detection', [0.6, 0.2, 0.1, 0.1], LABELS, DECISION)).toBe('computer-vision');
    expect(decideTag('object detection', [0.59, 0.21, 0.1, 0.1], LABELS, DECISION)).toBe('other');
    expect(decideTag('object detection', [0.4, 0.3, 0.2, 0.1], LABELS, { threshold: null, fallbackTag: 'other' })).toBe('computer-vision');
  });

  it('answers the fallback for text without a word, however confident the model is', () => {
    for (const t of ['a', '42', '\u200b\u200b', '\u0000', '?!...', '- * -', '']) {
      expect(hasContent(t)).toBe(false);
      expect(decideTag(t, [0.97, 0.01, 0.01, 0.01], LABELS, DECISION)).toBe('other');
    }
    for (const t of ['ML', 'é2', 'Résumé parsing', 'CNN-based 3D']) expect(hasContent(t)).toBe(true);
  });
});

describe('TagHead', () => {
  const texts = ['image segmentation cnn', 'object detection images', 'text classification bert', 'language model text'];
  const y = [0, 0, 2, 2];

  function head(): TagHead {
    const blocks = [
      new TfidfVectorizer({ analyzer: 'char_wb', ngramRange: [2, 4] }).fit(texts),
      new TfidfVectorizer({ analyzer: 'word', ngramRange: [1, 2] }).fit(texts),
    ];
    const rows = TagHead.featurize(texts, null, null, blocks);
    const lr = new LogisticRegression();
    lr.fit(rows, y, 4, TagHead.dims(null, blocks), { C: 10 });
    const vectorizer = new TfidfVectorizer({ analyzer: 'word', ngramRange: [1, 2] }).fit(texts);
    const model = MultinomialNaiveBayes.fit(vectorizer.transform(texts), y, 4, vectorizer.vocabularySize, 0.1);
    return new TagHead(LABELS, null, blocks, lr, { weight: 0.5, vectorizer, model });
  }

  it('concatenates sparse blocks after one another', () => {
    const h = head();
    const [row] = TagHead.featurize(['text images'], null, null, h.tfidf);
    const first = h.tfidf[0].vocabularySize;
    const indices = Array.from(row.sparse?.indices ?? []);
    expect(indices.some((j) => j >= first)).toBe(true); // word block present, shifted
    expect(indices.every((j) => j < first + h.tfidf[1].vocabularySize)).toBe(true);
  });

  it('adds the naive Bayes log posterior to the logits and divides by the temperature', () => {
    const h = head();
    const lrOnly = new TagHead(LABELS, null, h.tfidf, h.lr);
    const [z] = h.logits(['text classification'], null);
    const [zLr] = lrOnly.logits(['text classification'], null);
    expect(z[2] - zLr[2]).toBeLessThan(0); // a log posterior is <= 0
    expect(z[2] - z[0]).toBeGreaterThan(zLr[2] - zLr[0]); // and it favours NLP here
    const sharp = h.predictProba(['text classification'], null)[0];
    const soft = h.withTemperature(4).predictProba(['text classification'], null)[0];
    expect(Math.max(...soft)).toBeLessThan(Math.max(...sharp));
    expect(soft.indexOf(Math.max(...soft))).toBe(2);
  });

  it('round-trips JSON with every block, the naive Bayes member and the temperature', () => {
    const h = head().withTemperature(1.7);
    const back = TagHead.fromJSON(JSON.parse(JSON.stringify(h.toJSON())));
    expect(back.temperature).toBe(1.7);
    const a = h.predictProba(texts, null);
    back.predictProba(texts, null).forEach((p, i) => p.forEach((x, k) => expect(x).toBeCloseTo(a[i][k], 3))); // weights are stored rounded
    const json = h.toJSON();
    json.features.tfidf.pop();
    expect(() => TagHead.fromJSON(json)).toThrow(/dimensions/);
  });
});
