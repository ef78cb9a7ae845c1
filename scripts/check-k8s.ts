/**
 * npm run check:k8s [-- dir...]: renders deploy/kubernetes/base and every overlay (or the given
 * kustomization directories), validates each object against the Kubernetes and KEDA schemas, and
 * runs the cross-object checks of scripts/k8s/manifest-checks.ts; where kubectl is installed, the
 * rendering must also equal `kubectl kustomize`. Exit 1 on any problem.
 * `-- --print dir` prints the rendered YAML instead, to compare with `kubectl kustomize dir`.
 * No cluster is involved: see docs/kubernetes.md for what this does and does not prove.
 */
import { existsSync, readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { stringify } from 'yaml';
import { configErrors, configKeys } from './k8s/config-keys';
import { kubectlKustomize, kubectlVersion, renderDifferences } from './k8s/kubectl-compare';
import { renderKustomization } from './k8s/kustomize-render';
import { checkManifests } from './k8s/manifest-checks';
import { schemaProblems } from './k8s/schema-validate';
import { unknownFieldCheck } from './k8s/unknown-fields';

const ROOT = join(__dirname, '..');

function defaultDirs(): string[] {
  const overlays = join(ROOT, 'deploy/kubernetes/overlays');
  const names = existsSync(overlays) ? readdirSync(overlays).sort() : [];
  return [join(ROOT, 'deploy/kubernetes/base'), ...names.map((n) => join(overlays, n))];
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  if (args[0] === '--print') {
    for (const o of args.slice(1).flatMap((dir) => renderKustomization(dir))) process.stdout.write(`---\n${stringify(o)}`);
    return;
  }
  const dirs = args.length ? args : defaultDirs();
  const schema = { keys: configKeys(), errors: configErrors };
  const rendered = dirs.map((dir) => {
    try {
      return { dir, objects: renderKustomization(dir), problems: [] as string[] };
    } catch (err) {
      return { dir, objects: [], problems: [(err as Error).message] };
    }
  });
  const unknownFields = unknownFieldCheck(rendered.flatMap((r) => r.objects));
  const kubectl = kubectlVersion();
  process.stdout.write(kubectl ? `renderings compared with ${kubectl}\n` : 'kubectl not on PATH: renderings not compared with kustomize\n');
  let failed = 0;
  for (const { dir, objects, problems } of rendered) {
    const kinds = new Map<string, number>();
    for (const o of objects) kinds.set(o.kind, (kinds.get(o.kind) ?? 0) + 1);
    if (objects.length) problems.push(...(await schemaProblems(objects)), ...unknownFields(objects), ...checkManifests(objects, schema));
    if (objects.length && kubectl) {
      try {
        problems.push(...renderDifferences(objects, kubectlKustomize(dir)));
      } catch (err) {
        problems.push((err as Error).message);
      }
    }
    if (problems.length) failed++;
    const summary = [...kinds].map(([kind, n]) => `${n} ${kind}`).join(', ');
    process.stdout.write(`${problems.length ? 'FAIL' : 'ok  '} ${relative(process.cwd(), dir) || '.'}${summary ? `: ${summary}` : ''}\n`);
    for (const p of problems) process.stdout.write(`     - ${p}\n`);
  }
  if (failed) {
    process.stdout.write(`${failed} of ${dirs.length} kustomizations have problems\n`);
    process.exit(1);
  }
}

void main();
