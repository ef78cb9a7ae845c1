/**
 * Training inputs: the course CSVs (path or URL), the committed relabel list and check set, and an
 * on-disk cache of encoder embeddings (the encoder is > 90 % of the cost of a training run).
 */
import { createHash } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { parseCsvRecords, TextEncoder } from '@tagserve/model';

export interface LabelledRow {
  id: string;
  title: string;
  description: string;
  tag: string;
}

export interface LabelledSet {
  source: string;
  md5: string;
  rows: LabelledRow[];
}

/** The text the model sees, the same at training and serving time (the API takes one string). */
export function textOf(row: { title: string; description: string }): string {
  return `${row.title} ${row.description}`;
}

async function readSource(src: string): Promise<Buffer> {
  if (!/^https?:\/\//i.test(src)) return fs.readFileSync(src);
  const res = await fetch(src).catch((err: unknown) => {
    const cause = (err as { cause?: { message?: string } }).cause?.message ?? (err as Error).message;
    throw new Error(`GET ${src} failed: ${cause} (pass a local file when offline)`);
  });
  if (!res.ok) throw new Error(`GET ${src}: HTTP ${res.status}`);
  return Buffer.from(await res.arrayBuffer());
}

/** URLs are kept whole; local paths are reduced to the file name, since they only mean something on one machine. */
export function describeSource(source: string): string {
  return /^https?:\/\//.test(source) ? source : path.basename(source);
}

export async function loadLabelledSet(src: string): Promise<LabelledSet> {
  const buf = await readSource(src);
  const recs = parseCsvRecords(buf.toString('utf8'));
  if (recs.length === 0 || !('title' in recs[0]) || !('description' in recs[0]) || !('tag' in recs[0])) {
    throw new Error(`${src}: expected columns title, description, tag`);
  }
  const rows = recs.map((r, i) => ({ id: r.id ?? String(i + 1), title: r.title, description: r.description, tag: r.tag }));
  return { source: describeSource(src), md5: createHash('md5').update(buf).digest('hex'), rows };
}

export interface Relabel {
  id: string;
  tag: string;
  was: string;
}

/** Applies data/relabels.csv (id, tag, was, rule) to dataset rows; a row whose tag is not `was` any more is an error, not a silent skip. */
export function applyRelabels(set: LabelledSet, relabels: Relabel[]): LabelledSet {
  const byId = new Map(relabels.map((r) => [r.id, r]));
  const rows = set.rows.map((row) => {
    const r = byId.get(row.id);
    if (!r) return row;
    if (row.tag !== r.was) throw new Error(`relabel ${r.id}: expected tag ${r.was}, found ${row.tag}`);
    byId.delete(r.id);
    return { ...row, tag: r.tag };
  });
  if (byId.size > 0) throw new Error(`relabels for ids not in ${set.source}: ${[...byId.keys()].join(', ')}`);
  return { ...set, rows };
}

export function loadRelabels(file: string): Relabel[] {
  return parseCsvRecords(fs.readFileSync(file, 'utf8')).map((r) => ({ id: r.id, tag: r.tag, was: r.was }));
}

/** Embeddings keyed by md5(onnx file, pooling, text) so a cache entry can never outlive its encoder. */
export class EmbeddingCache {
  private readonly entries = new Map<string, Float32Array>();
  private dirty = false;

  private constructor(private readonly file: string) {}

  static open(cacheDir: string, onnxFile: string, pooling: string): EmbeddingCache {
    const encoderKey = createHash('md5').update(fs.readFileSync(onnxFile)).update(pooling).digest('hex');
    const cache = new EmbeddingCache(path.join(cacheDir, `embeddings-${encoderKey}.json`));
    if (fs.existsSync(cache.file)) {
      const stored = JSON.parse(fs.readFileSync(cache.file, 'utf8')) as Record<string, string>;
      for (const [k, b64] of Object.entries(stored)) {
        const buf = Buffer.from(b64, 'base64');
        cache.entries.set(k, new Float32Array(buf.buffer, buf.byteOffset, buf.byteLength / 4).slice());
      }
    }
    return cache;
  }

  private key(text: string): string {
    return createHash('md5').update(text).digest('hex');
  }

  async embed(encoder: TextEncoder, texts: string[], batch = 32): Promise<Float32Array[]> {
    const missing = [...new Set(texts.filter((t) => !this.entries.has(this.key(t))))];
    for (let i = 0; i < missing.length; i += batch) {
      const chunk = missing.slice(i, i + batch);
      (await encoder.embed(chunk)).forEach((e, j) => this.entries.set(this.key(chunk[j]), e));
      this.dirty = true;
    }
    return texts.map((t) => this.entries.get(this.key(t)) as Float32Array);
  }

  /** Embeddings of texts already embedded; throws on a text that was not. */
  lookup(texts: string[]): Float32Array[] {
    return texts.map((t) => {
      const e = this.entries.get(this.key(t));
      if (!e) throw new Error(`no cached embedding for ${JSON.stringify(t.slice(0, 40))}`);
      return e;
    });
  }

  save(): void {
    if (!this.dirty) return;
    fs.mkdirSync(path.dirname(this.file), { recursive: true });
    const out: Record<string, string> = {};
    for (const [k, v] of this.entries) out[k] = Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('base64');
    fs.writeFileSync(this.file, JSON.stringify(out));
    this.dirty = false;
  }
}
