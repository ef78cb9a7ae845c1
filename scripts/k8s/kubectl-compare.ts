/**
 * Where `kubectl` is on PATH, the real kustomize renders each kustomization too, and every object
 * must come out the same as from kustomize-render.ts. This is what keeps the subset honest: it
 * found that kustomize puts a patch's new list elements first, replaces custom resources' lists
 * whole, and panics on several `$patch: delete` in one file.
 */
import { spawnSync } from 'node:child_process';
import { isDeepStrictEqual } from 'node:util';
import { parseAllDocuments } from 'yaml';
import { K8sObject, objectId } from './kustomize-render';

/** "kubectl v1.32.4, kustomize v5.5.0", or null when kubectl is not installed. */
export function kubectlVersion(): string | null {
  const run = spawnSync('kubectl', ['version', '--client'], { encoding: 'utf8' });
  if (run.error || run.status !== 0) return null;
  const client = /Client Version:\s*(\S+)/.exec(run.stdout)?.[1] ?? '?';
  const kustomize = /Kustomize Version:\s*(\S+)/.exec(run.stdout)?.[1] ?? '?';
  return `kubectl ${client}, kustomize ${kustomize}`;
}

export function kubectlKustomize(dir: string): K8sObject[] {
  const run = spawnSync('kubectl', ['kustomize', dir], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (run.status !== 0) throw new Error(`kubectl kustomize ${dir} failed: ${(run.stderr || String(run.error)).split('\n')[0]}`);
  return parseAllDocuments(run.stdout).map((d) => d.toJS() as K8sObject);
}

/** Objects missing on either side, and up to 5 differing paths per object. */
export function renderDifferences(mine: K8sObject[], real: K8sObject[]): string[] {
  const index = (objects: K8sObject[]) => new Map(objects.map((o) => [objectId(o), JSON.parse(JSON.stringify(o)) as unknown]));
  const [a, b] = [index(mine), index(real)];
  const problems: string[] = [];
  for (const id of new Set([...a.keys(), ...b.keys()])) {
    if (!a.has(id) || !b.has(id)) problems.push(`${id}: rendered only by ${a.has(id) ? 'scripts/k8s' : 'kubectl kustomize'}`);
    else for (const path of differingPaths(a.get(id), b.get(id), '').slice(0, 5)) problems.push(`${id}: ${path} differs from kubectl kustomize`);
  }
  return problems;
}

function differingPaths(a: unknown, b: unknown, path: string): string[] {
  if (isDeepStrictEqual(a, b)) return [];
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null)
    return [`${path || '.'} (${JSON.stringify(a)} here, ${JSON.stringify(b)} there)`];
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  return [...keys].flatMap((k) => differingPaths((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], `${path}.${k}`));
}
