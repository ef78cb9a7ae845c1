import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { promisify } from 'node:util';
import { configErrors, configKeys } from './config-keys';
import { renderDifferences } from './kubectl-compare';
import { K8sObject, KustomizeError, renderKustomization } from './kustomize-render';
import { checkManifests, ConfigSchemaView } from './manifest-checks';

const ROOT = join(__dirname, '..', '..');
const BASE = join(ROOT, 'deploy/kubernetes/base');
const schema: ConfigSchemaView = { keys: configKeys(), errors: configErrors };
const dirs: string[] = [];

/** A kustomization in a temp dir: the real base plus the given patch files. */
function overlay(kustomization: string, files: Record<string, string> = {}): string {
  const dir = mkdtempSync(join(tmpdir(), 'tagserve-k8s-'));
  dirs.push(dir);
  writeFileSync(join(dir, 'kustomization.yaml'), `resources:\n  - ${relative(dir, BASE)}\n${kustomization}`);
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- a manifest's parsed YAML, read field by field
function find(objects: K8sObject[], kind: string, name: string): any {
  return objects.find((o) => o.kind === kind && o.metadata.name === name);
}

const workerPatch = (container: string) =>
  `apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: tagserve-worker\nspec:\n  template:\n    spec:\n${container}`;

afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

describe('kustomize subset', () => {
  it('renders the example overlay as kustomize does: namespace, images, merged ConfigMap patch', () => {
    const objects = renderKustomization(join(ROOT, 'deploy/kubernetes/overlays/example'));
    expect(objects.every((o) => o.metadata.namespace === 'tagserve')).toBe(true);
    const worker = find(objects, 'Deployment', 'tagserve-worker').spec.template.spec.containers[0];
    expect(worker.image).toBe('registry.example.com/tagserve-worker:0.1.0');
    const api = find(objects, 'ConfigMap', 'tagserve-api').data;
    expect(api.QUEUE_MAX_WAITING).toBe('5000'); // patched
    expect(api.PREDICT_TIMEOUT_MS).toBe('30000'); // kept from the base
    expect(checkManifests(objects, schema)).toEqual([]);
  });

  it('external-redis removes the in-cluster Redis and points every client at the external one', () => {
    const objects = renderKustomization(join(ROOT, 'deploy/kubernetes/overlays/external-redis'));
    expect(objects.filter((o) => /redis/.test(o.metadata.name) && o.kind !== 'ConfigMap' && o.kind !== 'TriggerAuthentication')).toEqual([]);
    expect(find(objects, 'ConfigMap', 'tagserve-redis').data.REDIS_HOST).toBe('redis.example.internal');
    expect(checkManifests(objects, schema)).toEqual([]);
  });

  it("merges containers and env by name in kustomize's order: the patch's elements first, then the rest", () => {
    const dir = overlay('patches:\n  - path: p.yaml\n', {
      'p.yaml': workerPatch(
        '      containers:\n        - name: worker\n          env:\n            - name: MODEL_DIR\n              value: /app/other\n            - name: LOG_LEVEL\n              value: debug\n',
      ),
    });
    const [worker] = find(renderKustomization(dir), 'Deployment', 'tagserve-worker').spec.template.spec.containers;
    // The order kubectl 1.32 (kustomize v5.5) gives for this patch.
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- as above
    expect(worker.env.map((e: any) => e.name)).toEqual(['MODEL_DIR', 'LOG_LEVEL', 'REDIS_PASSWORD', 'WORKER_HEARTBEAT_FILE']);
    expect(worker.env[0].value).toBe('/app/other');
    expect(worker.livenessProbe).toBeDefined();
  });

  it('refuses what it does not implement instead of rendering something else', () => {
    const dir = overlay('configMapGenerator:\n  - name: x\n    literals: [A=1]\n');
    expect(() => renderKustomization(dir)).toThrow(KustomizeError);
    expect(() => renderKustomization(dir)).toThrow(/configMapGenerator not supported/);
    // kubectl 1.32 panics on this; refusing it keeps the overlays renderable by kubectl.
    const deletes = ['v1\nkind: Service\nmetadata:\n  name: redis', 'v1\nkind: Service\nmetadata:\n  name: redis-headless'].map(
      (d) => `$patch: delete\napiVersion: ${d}\n`,
    );
    const twoDeletes = overlay('patches:\n  - path: p.yaml\n', { 'p.yaml': deletes.join('---\n') });
    expect(() => renderKustomization(twoDeletes)).toThrow(/each \$patch: delete in a file of its own/);
  });
});

describe('comparison with kubectl kustomize', () => {
  it('names the objects and the paths where two renderings differ', () => {
    const base = renderKustomization(BASE);
    const changed = base.map((o) =>
      o.kind === 'ConfigMap' && o.metadata.name === 'tagserve-api' ? { ...o, data: { ...(o.data as object), PORT: '9000' } } : o,
    );
    expect(renderDifferences(base, base)).toEqual([]);
    expect(renderDifferences(base, changed.slice(1))).toEqual([
      'ConfigMap tagserve/tagserve-redis: rendered only by scripts/k8s',
      'ConfigMap tagserve/tagserve-api: .data.PORT ("8000" here, "9000" there) differs from kubectl kustomize',
    ]);
  });
});

describe('manifest checks', () => {
  it('an env var the config schema does not know fails, naming it', () => {
    const dir = overlay('patches:\n  - path: p.yaml\n', {
      'p.yaml': workerPatch('      containers:\n        - name: worker\n          env:\n            - name: WORKER_CONCURENCY\n              value: "8"\n'),
    });
    expect(checkManifests(renderKustomization(dir), schema)).toEqual([
      'Deployment tagserve/tagserve-worker container worker: WORKER_CONCURENCY is not a setting the config schema knows',
    ]);
  });

  it('a secret written into a ConfigMap or a literal env value fails', () => {
    const dir = overlay('patches:\n  - path: p.yaml\n', {
      'p.yaml': `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: tagserve-api\ndata:\n  API_KEYS: 0123456789abcdef0123\n`,
    });
    expect(checkManifests(renderKustomization(dir), schema)).toEqual([
      'Deployment tagserve/tagserve-api container api: API_KEYS has a value in the manifests; take it from a Secret (valueFrom.secretKeyRef)',
    ]);
  });

  it('a setting the schema requires but no manifest sets fails', () => {
    const objects = renderKustomization(BASE);
    const strict = { ...schema, keys: { ...schema.keys, required: new Set(['QUEUE_PREFIX', 'THROTTLE_LIMIT']) } };
    // QUEUE_PREFIX comes from the shared ConfigMap; THROTTLE_LIMIT only from the gateway's.
    expect(checkManifests(objects, strict)).toEqual([
      'Deployment tagserve/tagserve-worker container worker: THROTTLE_LIMIT is required by the config schema but not set',
    ]);
  });

  it('a namespace change without a matching REDIS_HOST fails (KEDA resolves the host from its own namespace)', () => {
    const problems = checkManifests(renderKustomization(overlay('namespace: ml\n')), schema);
    expect(problems).toContain('REDIS_HOST redis.tagserve.svc names Service redis in namespace tagserve, which is not in the rendered manifests');
  });

  it('a grace period not above SHUTDOWN_GRACE_MS fails; a scaler on the wrong key fails', () => {
    const dir = overlay('patches:\n  - path: p.yaml\n', {
      'p.yaml': `${workerPatch('      terminationGracePeriodSeconds: 20\n')}\n---\napiVersion: keda.sh/v1alpha1\nkind: ScaledObject\nmetadata:\n  name: tagserve-worker\nspec:\n  triggers:\n    - type: redis\n      metadata:\n        address: redis.tagserve.svc:6379\n        listName: bull:predictions:wait\n        listLength: "16"\n`,
    });
    expect(checkManifests(renderKustomization(dir), schema)).toEqual([
      'ScaledObject tagserve/tagserve-worker: no redis trigger watches tagserve:predictions:wait, where BullMQ keeps waiting jobs',
      'ScaledObject tagserve/tagserve-worker: no redis trigger watches tagserve:predictions:prioritized, where BullMQ keeps waiting jobs',
      'ScaledObject tagserve/tagserve-worker: trigger listName bull:predictions:wait is outside the queue tagserve:predictions',
      'Deployment tagserve/tagserve-worker: terminationGracePeriodSeconds 20 is not above SHUTDOWN_GRACE_MS 25000: the kubelet would SIGKILL jobs in flight',
    ]);
  });

  it('npm run check:k8s exits 1 on an invalid value and on a misspelt field (real process, real schemas)', async () => {
    const dir = overlay('patches:\n  - path: p.yaml\n', {
      'p.yaml': workerPatch(
        '      containers:\n        - name: worker\n          livenesProbe:\n            periodSeconds: 5\n          resources:\n            limits:\n              memory: 512 megs\n',
      ),
    });
    const run = promisify(execFile)('npx', ['ts-node', '--transpile-only', 'scripts/check-k8s.ts', dir], { cwd: ROOT });
    const failure = await run.then(
      () => null,
      (err: { code: number; stdout: string }) => err,
    );
    expect(failure?.code).toBe(1);
    expect(failure?.stdout).toContain('spec.template.spec.containers[0].livenesProbe is not a field of Deployment');
    expect(failure?.stdout).toContain('data/spec/template/spec/containers/0/resources/limits/memory must match format "quantity"');
  });
});
