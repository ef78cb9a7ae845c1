/**
 * Validates objects against the OpenAPI schemas of Kubernetes (`kubernetes-models`) and of KEDA's
 * CRDs (`@kubernetes-models/keda`): types, required fields, formats such as quantities. These
 * packages are ES modules only, so they are loaded with a real dynamic import (TypeScript would
 * turn `import()` into `require()` under "module": "commonjs").
 */
import type { K8sObject } from './kustomize-render';
import { objectId } from './kustomize-render';

const importModule = new Function('specifier', 'return import(specifier)') as (specifier: string) => Promise<Record<string, unknown>>;

interface ModelClass {
  new (data: unknown): { validate(): void };
}

/** kubernetes-models/<group>/<version>/<Kind>; the core group has no segment ("v1"). */
export function modulePath(apiVersion: string, kind: string): string {
  const [group, version] = apiVersion.includes('/') ? apiVersion.split('/') : ['', apiVersion];
  if (group === 'keda.sh') return `@kubernetes-models/keda/keda.sh/${version}/${kind}`;
  return `kubernetes-models/${group ? `${group}/` : ''}${version}/${kind}`;
}

export async function schemaProblems(objects: K8sObject[]): Promise<string[]> {
  const problems: string[] = [];
  for (const o of objects) {
    let Model: ModelClass;
    try {
      Model = (await importModule(modulePath(o.apiVersion, o.kind)))[o.kind] as ModelClass;
    } catch {
      problems.push(`${objectId(o)}: no schema for ${o.apiVersion} ${o.kind}`);
      continue;
    }
    try {
      new Model(o).validate();
    } catch (err) {
      problems.push(`${objectId(o)}: ${(err as Error).message}`);
    }
  }
  return problems;
}
