/**
 * The subset of kustomize that deploy/kubernetes uses, rendered the way `kubectl kustomize` does
 * (kubectl is not installable offline here). Anything outside the subset is an error, never
 * silently skipped: a field this renderer ignored would make the check pass on manifests that
 * kustomize renders differently.
 *
 * Supported: resources (files and kustomization directories), patches (`path:` strategic-merge
 * patches, including a top-level `$patch: delete`), namespace, labels (pairs, includeTemplates),
 * images (newName, newTag, digest). Order per level as kustomize: patches, namespace, labels, images.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseAllDocuments } from 'yaml';

export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; [key: string]: unknown };
  [key: string]: unknown;
}

type Json = Record<string, unknown>;

const KUSTOMIZATION_FIELDS = new Set(['apiVersion', 'kind', 'resources', 'namespace', 'labels', 'images', 'patches']);
const CLUSTER_SCOPED = new Set([
  'Namespace',
  'ClusterRole',
  'ClusterRoleBinding',
  'CustomResourceDefinition',
  'PersistentVolume',
  'StorageClass',
  'PriorityClass',
  'ClusterTriggerAuthentication',
]);
// Strategic-merge keys of the built-in lists the patches here touch (k8s.io/api patchMergeKey).
const MERGE_KEYS: Record<string, string> = { containers: 'name', initContainers: 'name', env: 'name', volumes: 'name', volumeMounts: 'mountPath' };
// Built-in lists that strategic merge merges by a key this renderer does not implement.
const UNSUPPORTED_MERGE_LISTS = new Set(['ports', 'imagePullSecrets', 'topologySpreadConstraints', 'hostAliases', 'ephemeralContainers', 'resourceClaims']);

export class KustomizeError extends Error {}

/** Renders the kustomization in `dir` into its objects, in kustomize's order. */
export function renderKustomization(dir: string): K8sObject[] {
  const file = ['kustomization.yaml', 'kustomization.yml', 'Kustomization'].map((f) => join(dir, f)).find((f) => existsSync(f));
  if (!file) throw new KustomizeError(`${dir}: no kustomization.yaml`);
  const k = readDocuments(file)[0] ?? {};
  const unsupported = Object.keys(k).filter((key) => !KUSTOMIZATION_FIELDS.has(key));
  if (unsupported.length) throw new KustomizeError(`${file}: ${unsupported.join(', ')} not supported by this renderer`);

  let objects: K8sObject[] = [];
  for (const entry of list<string>(k.resources, file, 'resources')) {
    const path = resolve(dir, entry);
    if (!existsSync(path)) throw new KustomizeError(`${file}: resource ${entry} does not exist`);
    objects.push(...(statSync(path).isDirectory() ? renderKustomization(path) : readDocuments(path).map((o) => asObject(o, path))));
  }
  for (const patch of list<Json>(k.patches, file, 'patches')) {
    const extra = Object.keys(patch).filter((key) => key !== 'path');
    if (typeof patch.path !== 'string' || extra.length) throw new KustomizeError(`${file}: only patches with a single 'path' are supported`);
    const path = resolve(dir, patch.path);
    const docs = readDocuments(path);
    // kubectl 1.32 (kustomize v5.5) panics on a delete in a file of several patches.
    if (docs.length > 1 && docs.some((d) => d.$patch === 'delete')) throw new KustomizeError(`${path}: put each $patch: delete in a file of its own`);
    for (const doc of docs) objects = applyPatch(objects, asObject(doc, path), path);
  }
  if (k.namespace !== undefined) {
    const ns = String(k.namespace);
    objects = objects.map((o) => (CLUSTER_SCOPED.has(o.kind) ? o : { ...o, metadata: { ...o.metadata, namespace: ns } }));
  }
  for (const label of list<Json>(k.labels, file, 'labels')) objects = objects.map((o) => addLabels(o, label, file));
  for (const image of list<Json>(k.images, file, 'images')) {
    if (typeof image.name !== 'string') throw new KustomizeError(`${file}: images entry without a name`);
    objects = objects.map((o) => setImage(o, image as unknown as ImageEntry));
  }
  const seen = new Set<string>();
  for (const o of objects) {
    const id = objectId(o);
    if (seen.has(id)) throw new KustomizeError(`${file}: ${id} is defined twice`);
    seen.add(id);
  }
  return objects;
}

export function objectId(o: K8sObject): string {
  return `${o.kind} ${o.metadata.namespace ? `${o.metadata.namespace}/` : ''}${o.metadata.name}`;
}

function readDocuments(path: string): Json[] {
  return parseAllDocuments(readFileSync(path, 'utf8')).flatMap((doc) => {
    if (doc.errors.length) throw new KustomizeError(`${path}: ${doc.errors[0].message}`);
    const value = doc.toJS();
    return value == null ? [] : [value as Json];
  });
}

function asObject(doc: Json, path: string): K8sObject {
  const meta = doc.metadata as Json | undefined;
  if (typeof doc.apiVersion !== 'string' || typeof doc.kind !== 'string' || typeof meta?.name !== 'string') {
    throw new KustomizeError(`${path}: every document needs apiVersion, kind and metadata.name`);
  }
  return doc as K8sObject;
}

function list<T>(value: unknown, file: string, field: string): T[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) throw new KustomizeError(`${file}: ${field} must be a list`);
  return value as T[];
}

function applyPatch(objects: K8sObject[], patch: K8sObject, path: string): K8sObject[] {
  const { namespace } = patch.metadata;
  const matches = objects.filter(
    (o) =>
      o.apiVersion === patch.apiVersion &&
      o.kind === patch.kind &&
      o.metadata.name === patch.metadata.name &&
      (!namespace || o.metadata.namespace === namespace),
  );
  if (matches.length !== 1) throw new KustomizeError(`${path}: patch ${objectId(patch)} matches ${matches.length} objects, not 1`);
  const directive = patch.$patch;
  if (directive === 'delete') return objects.filter((o) => o !== matches[0]);
  if (directive !== undefined) throw new KustomizeError(`${path}: $patch: ${String(directive)} not supported`);
  const builtin = !patch.apiVersion.includes('.') || patch.apiVersion.includes('.k8s.io/');
  return objects.map((o) => (o === matches[0] ? (mergePatch(o, patch, builtin, path) as K8sObject) : o));
}

/**
 * Strategic merge: maps merge key by key, null deletes a key. Lists of built-in kinds merge by
 * their patch merge key, other built-in lists are replaced. A custom resource has no schema, so
 * its lists are replaced whole (as kubectl 1.32's kustomize v5.5 does: compared in check-k8s.ts).
 */
export function mergePatch(target: unknown, patch: unknown, builtin: boolean, path: string, field = ''): unknown {
  if (Array.isArray(patch)) {
    if (builtin && UNSUPPORTED_MERGE_LISTS.has(field)) throw new KustomizeError(`${path}: merging the list '${field}' is not supported`);
    const key = builtin ? MERGE_KEYS[field] : undefined;
    if (!key || !Array.isArray(target)) return patch;
    // kustomize's order (kyaml, compared with kubectl 1.32): the patch's elements in the patch's
    // order, merged with their originals, then the originals the patch does not name.
    const named = new Set((patch as Json[]).map((item) => item?.[key]));
    const merged = (patch as Json[]).map((item) => {
      if (item?.$patch !== undefined) throw new KustomizeError(`${path}: $patch inside '${field}' not supported`);
      const original = target.find((t) => (t as Json)?.[key] === item?.[key]);
      return original === undefined ? item : mergePatch(original, item, builtin, path, field);
    });
    return [...merged, ...target.filter((t) => !named.has((t as Json)?.[key]))];
  }
  if (!isMap(patch) || !isMap(target)) return patch;
  const merged: Json = { ...target };
  for (const [key, value] of Object.entries(patch)) {
    if (key.startsWith('$')) throw new KustomizeError(`${path}: directive ${key} not supported here`);
    if (value === null) delete merged[key];
    else merged[key] = key in target ? mergePatch(target[key], value, builtin, path, key) : value;
  }
  return merged;
}

function isMap(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function addLabels(o: K8sObject, entry: Json, file: string): K8sObject {
  const extra = Object.keys(entry).filter((key) => key !== 'pairs' && key !== 'includeTemplates');
  if (extra.length) throw new KustomizeError(`${file}: labels.${extra.join(', ')} not supported (includeSelectors would change immutable selectors)`);
  const pairs = entry.pairs as Record<string, string>;
  const out: K8sObject = { ...o, metadata: { ...o.metadata, labels: { ...o.metadata.labels, ...pairs } } };
  if (entry.includeTemplates !== true || !isMap(o.spec)) return out;
  // kustomize's "templates": the pod template and a StatefulSet's volume claim templates.
  const labelled = (t: Json) => ({ ...t, metadata: { ...(t.metadata as Json), labels: { ...((t.metadata as Json)?.labels as Json), ...pairs } } });
  const spec: Json = { ...o.spec };
  if (isMap(spec.template)) spec.template = labelled(spec.template);
  if (o.kind === 'StatefulSet' && Array.isArray(spec.volumeClaimTemplates)) spec.volumeClaimTemplates = spec.volumeClaimTemplates.map(labelled);
  return { ...out, spec };
}

interface ImageEntry {
  name: string;
  newName?: string;
  newTag?: string | number;
  digest?: string;
}

/** Splits `registry:5000/name:tag@digest` into the name kustomize matches on and the rest. */
export function splitImage(image: string): { name: string; tag?: string; digest?: string } {
  const [withTag, digest] = image.split('@');
  const slash = withTag.lastIndexOf('/');
  const colon = withTag.lastIndexOf(':');
  if (colon > slash) return { name: withTag.slice(0, colon), tag: withTag.slice(colon + 1), digest };
  return { name: withTag, digest };
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- a manifest's parsed YAML, of any shape
function setImage(value: unknown, entry: ImageEntry, field = ''): any {
  if (Array.isArray(value)) {
    if (field !== 'containers' && field !== 'initContainers') return value.map((v) => setImage(v, entry));
    return value.map((c: Json) => {
      if (typeof c?.image !== 'string') return c;
      const current = splitImage(c.image);
      if (current.name !== entry.name) return c;
      const name = entry.newName ?? current.name;
      if (entry.digest) return { ...c, image: `${name}@${entry.digest}` };
      const tag = entry.newTag !== undefined ? String(entry.newTag) : current.tag;
      return { ...c, image: `${name}${tag ? `:${tag}` : ''}${entry.newTag === undefined && current.digest ? `@${current.digest}` : ''}` };
    });
  }
  if (!isMap(value)) return value;
  return Object.fromEntries(Object.entries(value).map(([key, v]) => [key, setImage(v, entry, key)]));
}
