import { isStaticPod } from '../api/pod.js';
import {
  containerResourceValue,
  findContainerInPod,
  type NodeAllocatable,
  ResourceFieldError,
  type ResourceFieldSelector,
} from '../api/resources.js';
import type { ConfigMap, Container, Pod, Secret, Service } from '../api/types.js';
import { expand, lookupIn } from '../util/expand.js';
import { SyncError } from './errors.js';

/** Reads the objects env sources refer to; undefined = not found. */
export interface EnvLookup {
  configMap(namespace: string, name: string): Promise<ConfigMap | undefined>;
  secret(namespace: string, name: string): Promise<Secret | undefined>;
  /**
   * Services for service-link variables (at least the namespace's and default/kubernetes);
   * undefined until they have been read once. Without this lookup there are no service variables.
   */
  services?(namespace: string): Promise<Service[] | undefined>;
}

export interface EnvContext {
  pod: Pod;
  nodeName: string;
  hostIPs: string[];
  podIPs: string[];
  lookup: EnvLookup;
  /** Node allocatable for resourceFieldRef defaults: cpu millicores, memory bytes, ephemeral bytes. */
  allocatable?: NodeAllocatable;
}

const configError = (msg: string) => new SyncError('CreateContainerConfigError', msg);

function fieldRefValue(path: string, ctx: EnvContext): string {
  const { pod } = ctx;
  const m = /^metadata\.(labels|annotations)\['(.*)'\]$/.exec(path);
  if (m) {
    const src = m[1] === 'labels' ? pod.metadata?.labels : pod.metadata?.annotations;
    return src?.[m[2]!] ?? '';
  }
  switch (path) {
    case 'metadata.name':
      return pod.metadata?.name ?? '';
    case 'metadata.namespace':
      return pod.metadata?.namespace ?? '';
    case 'metadata.uid':
      return pod.metadata?.uid ?? '';
    case 'spec.nodeName':
      return pod.spec?.nodeName ?? ctx.nodeName;
    case 'spec.serviceAccountName':
      return pod.spec?.serviceAccountName ?? '';
    case 'status.hostIP':
      return ctx.hostIPs[0] ?? '';
    case 'status.hostIPs':
      return ctx.hostIPs.join(',');
    case 'status.podIP':
      return ctx.podIPs[0] ?? '';
    case 'status.podIPs':
      return ctx.podIPs.join(',');
    default:
      throw configError(`unsupported fieldPath: ${path}`);
  }
}

const decode = (b64: string) => Buffer.from(b64, 'base64').toString('utf8');

/** Upstream envvars.go: Docker-link style variables for services. */
export function serviceEnv(services: Service[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const svc of services) {
    const ip = svc.spec?.clusterIP;
    if (!ip || ip === 'None') continue;
    const name = (svc.metadata?.name ?? '').toUpperCase().replace(/-/g, '_');
    const ports = svc.spec?.ports ?? [];
    const first = ports[0];
    if (!first) continue;
    const host = ip.includes(':') ? `[${ip}]` : ip;
    out.set(`${name}_SERVICE_HOST`, ip);
    out.set(`${name}_SERVICE_PORT`, String(first.port));
    for (const p of ports) {
      if (p.name) out.set(`${name}_SERVICE_PORT_${p.name.toUpperCase().replace(/-/g, '_')}`, String(p.port));
    }
    const proto0 = (first.protocol ?? 'TCP').toLowerCase();
    out.set(`${name}_PORT`, `${proto0}://${host}:${first.port}`);
    for (const p of ports) {
      const proto = (p.protocol ?? 'TCP').toUpperCase();
      const prefix = `${name}_PORT_${p.port}_${proto}`;
      out.set(prefix, `${proto.toLowerCase()}://${host}:${p.port}`);
      out.set(`${prefix}_PROTO`, proto.toLowerCase());
      out.set(`${prefix}_PORT`, String(p.port));
      out.set(`${prefix}_ADDR`, ip);
    }
  }
  return out;
}

/**
 * Upstream getServiceEnvVarMap: the `kubernetes` Service of `default` always; every Service of
 * the pod's namespace when enableServiceLinks. One Service per name, a namespace's own Service
 * winning over the master Service of the same name; headless Services (no ClusterIP) skipped.
 */
export function servicesForPod(all: Service[], namespace: string, enableServiceLinks: boolean): Service[] {
  const byName = new Map<string, Service>();
  for (const svc of all) {
    const ip = svc.spec?.clusterIP;
    if (!ip || ip === 'None') continue;
    const name = svc.metadata?.name ?? '';
    if (svc.metadata?.namespace === 'default' && name === 'kubernetes') {
      if (!byName.has(name)) byName.set(name, svc);
    } else if (svc.metadata?.namespace === namespace && enableServiceLinks) {
      byName.set(name, svc);
    }
  }
  return [...byName.values()];
}

function readOnce<T>(cache: Map<string, Promise<T>>, name: string, read: () => Promise<T>): Promise<T> {
  const cached = cache.get(name);
  if (cached) return cached;
  const p = read();
  cache.set(name, p);
  return p;
}

/**
 * The container's environment as upstream makeEnvironmentVariables builds it: envFrom, then
 * env in order ($(VAR) expanded against what is defined so far and the service variables),
 * then service variables not already set. Missing non-optional references fail with
 * CreateContainerConfigError and the upstream message.
 */
export async function buildEnv(c: Container, ctx: EnvContext): Promise<Map<string, string>> {
  const { pod, lookup } = ctx;
  const ns = pod.metadata?.namespace ?? 'default';
  const env = new Map<string, string>();

  let svcEnv = new Map<string, string>();
  if (lookup.services) {
    const list = await lookup.services(ns);
    // Upstream makeEnvironmentVariables: a non-static pod waits for the Service informer.
    if (!list && !isStaticPod(pod)) {
      throw configError('services have not yet been read at least once, cannot construct envvars');
    }
    if (list) svcEnv = serviceEnv(servicesForPod(list, ns, pod.spec?.enableServiceLinks !== false));
  }

  // Like upstream, each referenced object is read once per container (one consistent version).
  const configMaps = new Map<string, Promise<ConfigMap | undefined>>();
  const secrets = new Map<string, Promise<Secret | undefined>>();
  const getConfigMap = (name: string) => readOnce(configMaps, name, () => lookup.configMap(ns, name));
  const getSecret = (name: string) => readOnce(secrets, name, () => lookup.secret(ns, name));

  for (const from of c.envFrom ?? []) {
    const prefix = from.prefix ?? '';
    if (from.configMapRef) {
      const name = from.configMapRef.name ?? '';
      const cm = await getConfigMap(name);
      if (!cm) {
        if (from.configMapRef.optional) continue;
        throw configError(`configmap "${name}" not found`);
      }
      for (const [k, v] of Object.entries(cm.data ?? {})) env.set(prefix + k, v);
    } else if (from.secretRef) {
      const name = from.secretRef.name ?? '';
      const s = await getSecret(name);
      if (!s) {
        if (from.secretRef.optional) continue;
        throw configError(`secret "${name}" not found`);
      }
      for (const [k, v] of Object.entries(s.data ?? {})) env.set(prefix + k, decode(v));
    }
  }

  for (const e of c.env ?? []) {
    const vf = e.valueFrom;
    if (!vf) {
      env.set(e.name, expand(e.value ?? '', lookupIn(env, svcEnv)));
      continue;
    }
    if (vf.fieldRef) {
      env.set(e.name, fieldRefValue(vf.fieldRef.fieldPath, ctx));
    } else if (vf.resourceFieldRef) {
      env.set(e.name, resourceFieldValue(c, pod, vf.resourceFieldRef, ctx));
    } else if (vf.configMapKeyRef) {
      const { name = '', key, optional } = vf.configMapKeyRef;
      const cm = await getConfigMap(name);
      if (!cm) {
        if (optional) continue;
        throw configError(`configmap "${name}" not found`);
      }
      // Upstream reads `data` only: a key that exists only in binaryData is "not found".
      const v = cm.data?.[key];
      if (v === undefined) {
        if (optional) continue;
        throw configError(`couldn't find key ${key} in ConfigMap ${ns}/${name}`);
      }
      env.set(e.name, v);
    } else if (vf.secretKeyRef) {
      const { name = '', key, optional } = vf.secretKeyRef;
      const s = await getSecret(name);
      if (!s) {
        if (optional) continue;
        throw configError(`secret "${name}" not found`);
      }
      const v = s.data?.[key];
      if (v === undefined) {
        if (optional) continue;
        throw configError(`couldn't find key ${key} in Secret ${ns}/${name}`);
      }
      env.set(e.name, decode(v));
    }
  }

  for (const [k, v] of svcEnv) if (!env.has(k)) env.set(k, v);
  return env;
}

/**
 * Upstream containerResourceRuntimeValue after defaultPodLimitsForDownwardAPI: limits not set (or
 * zero) default to node allocatable for the container itself and for the regular containers it
 * names (an init container it names keeps its own limits); errors are CreateContainerConfigError.
 */
function resourceFieldValue(self: Container, pod: Pod, ref: ResourceFieldSelector, ctx: EnvContext): string {
  try {
    let target = self;
    let defaulted = true;
    if (ref.containerName) {
      target = findContainerInPod(pod, ref.containerName);
      defaulted = (pod.spec?.containers ?? []).includes(target);
    }
    const alloc = ctx.allocatable ?? { cpuMillis: 0, memoryBytes: 0, ephemeralBytes: 0 };
    return containerResourceValue(target, ref, defaulted ? alloc : undefined);
  } catch (err) {
    if (err instanceof ResourceFieldError) throw configError(err.message);
    throw err;
  }
}
