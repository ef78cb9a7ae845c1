import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { materialize } from '@tagserve/dvc-store';
import { BEHAVIOURAL_CASES } from './behavioural-cases';
import { TagClassifier } from './tag-classifier';

/**
 * The Made With ML course's behavioural tests (tests/model/test_behavioral.py, 2022 and 2023
 * versions, by Goku Mohandas; see behavioural-cases.ts) plus content-free inputs, run against the
 * shipped artifact: stores/model.dvc materialized from stores/blob.
 */
const ROOT = path.resolve(__dirname, '..', '..', '..');

describe('behavioural tests (shipped artifact)', () => {
  jest.setTimeout(120_000);
  let tmp: string;
  let clf: TagClassifier;

  beforeAll(async () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tagserve-behaviour-'));
    await materialize({ dvcFile: path.join(ROOT, 'stores', 'model.dvc'), storeDir: path.join(ROOT, 'stores', 'blob'), targetDir: tmp });
    clf = await TagClassifier.load(tmp, { intraOpThreads: 1, interOpThreads: 1 });
  });

  afterAll(async () => {
    await clf?.dispose();
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  it.each(BEHAVIOURAL_CASES.map((c) => [c.kind, JSON.stringify(c.text), c.tag, c.text] as const))('%s: %s -> %s', async (_kind, _shown, tag, text) => {
    const [p] = await clf.predict([text]);
    expect(p.predicted_tag).toBe(tag);
  });

  it('invariance: both verbs give the same tag in one batch as alone', async () => {
    const texts = BEHAVIOURAL_CASES.filter((c) => c.kind === 'invariance').map((c) => c.text);
    const batch = await clf.predict(texts);
    expect(new Set(batch.map((p) => p.predicted_tag)).size).toBe(1);
  });
});
