/**
 * Checks across the rendered objects that no schema can make: the services' environment against
 * their config schema, one Redis for the gateway, the workers and KEDA's scaler, selectors that
 * select something, grace periods above SHUTDOWN_GRACE_MS, and the pod security settings.
 */
import { PREDICTION_QUEUE } from '../../libs/queue/src/prediction-job';
import type { ConfigKeys } from './config-keys';
import { K8sObject, objectId, splitImage } from './kustomize-render';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- manifests' parsed YAML, of any shape
type Json = Record<string, any>;

interface Pod {
  owner: K8sObject;
  spec: Json;
  labels: Record<string, string>;
}

interface AppContainer {
  pod: Pod;
  name: string;
  /** Values known at render time (literal env and ConfigMap keys). */
  env: Record<string, string>;
  /** Every variable set, including those from Secrets. */
  names: Set<string>;
}

// Parameters of KEDA's `redis` scaler (keda.sh/docs/2.x/scalers/redis-lists); anything else is a typo.
const REDIS_SCALER_PARAMS = new Set([
  'address',
  'host',
  'port',
  'addressFromEnv',
  'hostFromEnv',
  'portFromEnv',
  'usernameFromEnv',
  'passwordFromEnv',
  'listName',
  'listLength',
  'activationListLength',
  'databaseIndex',
  'enableTLS',
  'unsafeSsl',
]);
const WORKLOADS = new Set(['Deployment', 'StatefulSet', 'DaemonSet', 'Job']);
// Settings that are secrets: they may come from a Secret, never from a literal or a ConfigMap in git.
const SECRET_SETTINGS = ['REDIS_PASSWORD', 'API_KEYS'];

export interface ConfigSchemaView {
  keys: ConfigKeys;
  errors(env: Record<string, string>): string[];
}

export function checkManifests(objects: K8sObject[], schema: ConfigSchemaView): string[] {
  const problems: string[] = [];
  const pods = objects.filter((o) => WORKLOADS.has(o.kind)).map(podOf);
  const apps = appContainers(pods, objects, problems);
  if (apps.length === 0) problems.push('no tagserve-api or tagserve-worker container found: nothing to check the environment of');
  for (const app of apps) problems.push(...checkEnv(app, schema));
  problems.push(...checkRedisWiring(apps, objects));
  problems.push(...checkGracePeriods(apps));
  problems.push(...checkSelectors(objects, pods));
  problems.push(...checkSecurity(pods));
  return problems;
}

function podOf(owner: K8sObject): Pod {
  const template = (owner.spec as Json)?.template ?? {};
  return { owner, spec: template.spec ?? {}, labels: template.metadata?.labels ?? {} };
}

function containersOf(pod: Pod): Json[] {
  return [...(pod.spec.initContainers ?? []), ...(pod.spec.containers ?? [])];
}

/** Containers running a tagserve image (the image name's last segment starts with tagserve-). */
function appContainers(pods: Pod[], objects: K8sObject[], problems: string[]): AppContainer[] {
  const apps: AppContainer[] = [];
  for (const pod of pods) {
    for (const c of containersOf(pod)) {
      const image =
        splitImage(String(c.image ?? ''))
          .name.split('/')
          .pop() ?? '';
      if (!image.startsWith('tagserve-')) continue;
      const where = `${objectId(pod.owner)} container ${c.name}`;
      const env: Record<string, string> = {};
      const names = new Set<string>();
      for (const source of c.envFrom ?? []) {
        const prefix = source.prefix ?? '';
        if (source.secretRef) {
          problems.push(`${where}: envFrom secretRef ${source.secretRef.name} hides which keys it sets; use env valueFrom secretKeyRef`);
          continue;
        }
        const map = objects.find(
          (o) => o.kind === 'ConfigMap' && o.metadata.name === source.configMapRef?.name && o.metadata.namespace === pod.owner.metadata.namespace,
        );
        if (!map) {
          problems.push(`${where}: envFrom ConfigMap ${source.configMapRef?.name} is not in the rendered manifests`);
          continue;
        }
        for (const [key, value] of Object.entries((map.data as Json) ?? {})) {
          env[prefix + key] = String(value);
          names.add(prefix + key);
        }
      }
      for (const e of c.env ?? []) {
        names.add(e.name);
        if (e.value !== undefined) env[e.name] = String(e.value);
        else delete env[e.name]; // valueFrom (Secret, field): set, value unknown until run time
      }
      apps.push({ pod, name: c.name, env, names });
    }
  }
  return apps;
}

function checkEnv(app: AppContainer, schema: ConfigSchemaView): string[] {
  const where = `${objectId(app.pod.owner)} container ${app.name}`;
  const problems = [...app.names].filter((n) => !schema.keys.known.has(n)).map((n) => `${where}: ${n} is not a setting the config schema knows`);
  for (const key of schema.keys.required) if (!app.names.has(key)) problems.push(`${where}: ${key} is required by the config schema but not set`);
  for (const message of schema.errors(app.env)) problems.push(`${where}: ${message}`);
  for (const key of SECRET_SETTINGS)
    if (app.env[key]) problems.push(`${where}: ${key} has a value in the manifests; take it from a Secret (valueFrom.secretKeyRef)`);
  return problems;
}

/** Gateway, workers and KEDA's redis triggers must all name one Redis, one db and one queue. */
function checkRedisWiring(apps: AppContainer[], objects: K8sObject[]): string[] {
  if (apps.length === 0) return [];
  const problems: string[] = [];
  const settings = (a: AppContainer) => ['REDIS_HOST', 'REDIS_PORT', 'REDIS_DB', 'QUEUE_PREFIX'].map((k) => `${k}=${a.env[k] ?? '(default)'}`).join(' ');
  const first = settings(apps[0]);
  for (const app of apps.slice(1)) {
    if (settings(app) !== first)
      problems.push(`${objectId(app.pod.owner)}: Redis settings ${settings(app)} differ from ${objectId(apps[0].pod.owner)}'s ${first}`);
  }
  const { REDIS_HOST: host = '127.0.0.1', REDIS_PORT: port = '6379', REDIS_DB: db = '0', QUEUE_PREFIX: prefix = 'tagserve' } = apps[0].env;
  const inCluster = /^([a-z0-9-]+)\.([a-z0-9-]+)\.svc(\.cluster\.local)?$/.exec(host);
  if (inCluster && !objects.some((o) => o.kind === 'Service' && o.metadata.name === inCluster[1] && o.metadata.namespace === inCluster[2])) {
    problems.push(`REDIS_HOST ${host} names Service ${inCluster[1]} in namespace ${inCluster[2]}, which is not in the rendered manifests`);
  }
  for (const scaled of objects.filter((o) => o.kind === 'ScaledObject')) {
    const spec = scaled.spec as Json;
    const target = objects.find((o) => o.kind === (spec.scaleTargetRef?.kind ?? 'Deployment') && o.metadata.name === spec.scaleTargetRef?.name);
    if (!target) problems.push(`${objectId(scaled)}: scaleTargetRef ${spec.scaleTargetRef?.name} is not in the rendered manifests`);
    const redis = (spec.triggers ?? []).filter((t: Json) => t.type === 'redis');
    if (redis.length && !host.includes('.'))
      problems.push(`${objectId(scaled)}: REDIS_HOST ${host} has no namespace; the KEDA operator resolves it from its own`);
    for (const t of redis) {
      const where = `${objectId(scaled)} trigger ${t.name ?? t.metadata?.listName}`;
      const meta: Json = t.metadata ?? {};
      for (const key of Object.keys(meta)) if (!REDIS_SCALER_PARAMS.has(key)) problems.push(`${where}: ${key} is not a parameter of KEDA's redis scaler`);
      if (meta.address !== `${host}:${port}`) problems.push(`${where}: address ${meta.address} is not REDIS_HOST:REDIS_PORT (${host}:${port})`);
      if ((meta.databaseIndex ?? '0') !== db) problems.push(`${where}: databaseIndex ${meta.databaseIndex ?? '0'} is not REDIS_DB (${db})`);
      const auth = t.authenticationRef?.name;
      if (auth && !objects.some((o) => o.kind === 'TriggerAuthentication' && o.metadata.name === auth && o.metadata.namespace === scaled.metadata.namespace)) {
        problems.push(`${where}: TriggerAuthentication ${auth} is not in the rendered manifests`);
      }
    }
    const watched = new Set(redis.map((t: Json) => t.metadata?.listName));
    for (const key of ['wait', 'prioritized'].map((k) => `${prefix}:${PREDICTION_QUEUE}:${k}`)) {
      if (redis.length && !watched.has(key)) problems.push(`${objectId(scaled)}: no redis trigger watches ${key}, where BullMQ keeps waiting jobs`);
    }
    for (const name of watched) {
      if (!String(name).startsWith(`${prefix}:${PREDICTION_QUEUE}:`))
        problems.push(`${objectId(scaled)}: trigger listName ${name} is outside the queue ${prefix}:${PREDICTION_QUEUE}`);
    }
  }
  return problems;
}

function checkGracePeriods(apps: AppContainer[]): string[] {
  const problems: string[] = [];
  for (const app of apps.filter((a) => a.pod.labels['app.kubernetes.io/name'] === 'tagserve-worker' || a.names.has('SHUTDOWN_GRACE_MS'))) {
    const graceMs = Number(app.env.SHUTDOWN_GRACE_MS ?? 25000); // the schema's default
    const podSeconds = Number(app.pod.spec.terminationGracePeriodSeconds ?? 30); // Kubernetes' default
    if (podSeconds * 1000 <= graceMs) {
      problems.push(
        `${objectId(app.pod.owner)}: terminationGracePeriodSeconds ${podSeconds} is not above SHUTDOWN_GRACE_MS ${graceMs}: the kubelet would SIGKILL jobs in flight`,
      );
    }
  }
  return problems;
}

function matches(selector: Record<string, string> | undefined, labels: Record<string, string>): boolean {
  return Object.entries(selector ?? {}).every(([k, v]) => labels[k] === v);
}

/** Services, PDBs, NetworkPolicies and workload selectors must select a pod template in their namespace. */
function checkSelectors(objects: K8sObject[], pods: Pod[]): string[] {
  const problems: string[] = [];
  const selects = (o: K8sObject, selector: Record<string, string> | undefined) =>
    pods.some((p) => p.owner.metadata.namespace === o.metadata.namespace && matches(selector, p.labels));
  for (const o of objects) {
    const spec = (o.spec ?? {}) as Json;
    if (o.kind === 'Service' && spec.selector && !selects(o, spec.selector)) problems.push(`${objectId(o)}: selector matches no pod template`);
    if (o.kind === 'PodDisruptionBudget' && !selects(o, spec.selector?.matchLabels)) problems.push(`${objectId(o)}: selector matches no pod template`);
    if (WORKLOADS.has(o.kind) && !matches(spec.selector?.matchLabels, podOf(o).labels))
      problems.push(`${objectId(o)}: selector does not match its own pod template`);
    if (o.kind === 'NetworkPolicy') {
      if (!selects(o, spec.podSelector?.matchLabels)) problems.push(`${objectId(o)}: podSelector matches no pod template`);
      for (const rule of spec.ingress ?? []) {
        for (const peer of rule.from ?? []) {
          if (peer.podSelector && !peer.namespaceSelector && !selects(o, peer.podSelector.matchLabels)) {
            problems.push(`${objectId(o)}: ingress from ${JSON.stringify(peer.podSelector.matchLabels)} matches no pod template`);
          }
        }
      }
    }
  }
  return problems;
}

/** Every container: non-root, no privilege escalation, read-only root filesystem, no capabilities. */
function checkSecurity(pods: Pod[]): string[] {
  const problems: string[] = [];
  for (const pod of pods) {
    for (const c of containersOf(pod)) {
      const sc: Json = c.securityContext ?? {};
      const where = `${objectId(pod.owner)} container ${c.name}`;
      if ((sc.runAsNonRoot ?? pod.spec.securityContext?.runAsNonRoot) !== true) problems.push(`${where}: runAsNonRoot is not set`);
      if (sc.allowPrivilegeEscalation !== false) problems.push(`${where}: allowPrivilegeEscalation is not false`);
      if (sc.readOnlyRootFilesystem !== true) problems.push(`${where}: readOnlyRootFilesystem is not true`);
      if (!(sc.capabilities?.drop ?? []).includes('ALL')) problems.push(`${where}: capabilities do not drop ALL`);
    }
  }
  return problems;
}
