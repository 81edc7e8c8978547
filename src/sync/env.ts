import type { ConfigMap, Container, Pod, Secret, Service } from '../api/types.js';
import { SyncError } from './errors.js';
import { expand, lookupIn } from './expand.js';

/** Reads the objects env sources refer to; undefined = not found. */
export interface EnvLookup {
  configMap(namespace: string, name: string): Promise<ConfigMap | undefined>;
  secret(namespace: string, name: string): Promise<Secret | undefined>;
  /** Services for service-link variables; undefined when unknown (variables omitted). */
  services?(namespace: string): Promise<Service[] | undefined>;
}

export interface EnvContext {
  pod: Pod;
  nodeName: string;
  hostIPs: string[];
  podIPs: string[];
  lookup: EnvLookup;
  /** Node allocatable for resourceFieldRef defaults: cpu millicores, memory bytes, ephemeral bytes. */
  allocatable?: { cpuMillis: number; memoryBytes: number; ephemeralBytes: number };
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
    if (list) {
      const enableLinks = pod.spec?.enableServiceLinks !== false;
      const chosen = list.filter(
        (s) =>
          (s.metadata?.namespace === 'default' && s.metadata?.name === 'kubernetes') ||
          (enableLinks && s.metadata?.namespace === ns),
      );
      svcEnv = serviceEnv(chosen);
    }
  }

  for (const from of c.envFrom ?? []) {
    const prefix = from.prefix ?? '';
    if (from.configMapRef) {
      const name = from.configMapRef.name ?? '';
      const cm = await lookup.configMap(ns, name);
      if (!cm) {
        if (from.configMapRef.optional) continue;
        throw configError(`configmap "${name}" not found`);
      }
      for (const [k, v] of Object.entries(cm.data ?? {})) env.set(prefix + k, v);
    } else if (from.secretRef) {
      const name = from.secretRef.name ?? '';
      const s = await lookup.secret(ns, name);
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
      const cm = await lookup.configMap(ns, name);
      if (!cm) {
        if (optional) continue;
        throw configError(`configmap "${name}" not found`);
      }
      const v =
        cm.data?.[key] ?? (cm.binaryData?.[key] !== undefined ? decode(cm.binaryData[key]) : undefined);
      if (v === undefined) {
        if (optional) continue;
        throw configError(`couldn't find key ${key} in ConfigMap ${ns}/${name}`);
      }
      env.set(e.name, v);
    } else if (vf.secretKeyRef) {
      const { name = '', key, optional } = vf.secretKeyRef;
      const s = await lookup.secret(ns, name);
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

const CPU_RE = /^(\d+(?:\.\d+)?)(m?)$/;
const MEM_SUFFIX: Record<string, number> = {
  '': 1,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  E: 1e18,
  Ki: 1024,
  Mi: 1024 ** 2,
  Gi: 1024 ** 3,
  Ti: 1024 ** 4,
  Pi: 1024 ** 5,
  Ei: 1024 ** 6,
};

function cpuMillis(q: string): number {
  const m = CPU_RE.exec(q.trim());
  if (!m) throw configError(`invalid cpu quantity ${JSON.stringify(q)}`);
  return m[2] === 'm' ? Number(m[1]) : Number(m[1]) * 1000;
}
function bytes(q: string): number {
  const m = /^(\d+(?:\.\d+)?(?:e\d+)?)([a-zA-Z]*)$/.exec(q.trim());
  const mult = m ? MEM_SUFFIX[m[2] ?? ''] : undefined;
  if (!m || mult === undefined) throw configError(`invalid quantity ${JSON.stringify(q)}`);
  return Number(m[1]) * mult;
}

function resourceFieldValue(
  self: Container,
  pod: Pod,
  ref: { containerName?: string; resource: string; divisor?: string | number },
  ctx: EnvContext,
): string {
  const target = ref.containerName
    ? [...(pod.spec?.containers ?? []), ...(pod.spec?.initContainers ?? [])].find(
        (x) => x.name === ref.containerName,
      )
    : self;
  if (!target) throw configError(`container ${ref.containerName} not found`);
  const [kind, res] = ref.resource.split('.', 2) as [string, string];
  const src = kind === 'limits' ? target.resources?.limits : target.resources?.requests;
  const alloc = ctx.allocatable ?? { cpuMillis: 0, memoryBytes: 0, ephemeralBytes: 0 };
  const divisor = ref.divisor === undefined || ref.divisor === '' ? '1' : String(ref.divisor);
  const raw = src?.[res];
  if (res === 'cpu') {
    const millis = raw !== undefined ? cpuMillis(String(raw)) : kind === 'limits' ? alloc.cpuMillis : 0;
    return String(Math.ceil(millis / cpuMillis(divisor)));
  }
  if (res === 'memory' || res === 'ephemeral-storage') {
    const fallback = res === 'memory' ? alloc.memoryBytes : alloc.ephemeralBytes;
    const b = raw !== undefined ? bytes(String(raw)) : kind === 'limits' ? fallback : 0;
    return String(Math.ceil(b / bytes(divisor)));
  }
  throw configError(`unsupported container resource: ${ref.resource}`);
}
