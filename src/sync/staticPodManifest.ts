/**
 * PURE: a static pod manifest → the Pod the kubelet runs (upstream pkg/kubelet/config/common.go
 * tryDecodeSinglePod/tryDecodePodList + applyDefaults, v1.37.2).
 *
 * - The manifest is YAML or JSON holding one `v1` Pod (file source) or a Pod or PodList (http).
 * - The pod gets the v1 defaults the apiserver would give it (the subset of
 *   SetObjectDefaults_Pod that the kubelet's own code reads).
 * - Without a UID, UID = hex FNV-128a of a deep dump of the defaulted pod followed by
 *   `host:<nodeName>` `file:<path>` (file) or `url:<url>` (http). Upstream dumps the internal Go
 *   struct with spew; kubelet-ts dumps canonical JSON (sorted keys) instead, so the values
 *   differ from upstream's, but they have the same properties: stable across restarts, new on any
 *   change of the manifest, the node or the path.
 * - name → `<name>-<lowercase nodeName>`, namespace `default` if empty, spec.nodeName = node,
 *   annotation kubernetes.io/config.hash = UID, a toleration {operator: Exists, effect:
 *   NoExecute} (file source), status.phase Pending. Priority is left as written (upstream does
 *   not resolve priorityClassName for static pods; it only warns).
 * - Static pods may not reference API objects (podutil.HasAPIObjectReference).
 */
import { parseAllDocuments } from 'yaml';
import type { Container, Pod } from '../api/types.js';

export { CONFIG_MIRROR_ANNOTATION, CONFIG_SOURCE_ANNOTATION } from '../api/pod.js';
export const CONFIG_HASH_ANNOTATION = 'kubernetes.io/config.hash';
export const CONFIG_SEEN_ANNOTATION = 'kubernetes.io/config.seen';

/** schedulingapi.SystemCriticalPriority + 1000 (system-node-critical). */
export const NODE_CRITICAL_PRIORITY = 2_000_001_000;

/** A manifest that cannot become a static pod; the message is upstream's. */
export class StaticPodManifestError extends Error {
  override readonly name = 'StaticPodManifestError';
}

export interface StaticPodSource {
  nodeName: string;
  /** The file path (file source) or the URL (http source). */
  source: string;
  isFile: boolean;
}

const FNV128_OFFSET = 0x6c62272e07bb014262b821756295c58dn;
const FNV128_PRIME = 0x0000000001000000000000000000013bn;
const MASK128 = (1n << 128n) - 1n;

/** FNV-1a, 128 bit (Go hash/fnv New128a), as lowercase hex. */
export function fnv128a(data: Uint8Array): string {
  let h = FNV128_OFFSET;
  for (const b of data) {
    h ^= BigInt(b);
    h = (h * FNV128_PRIME) & MASK128;
  }
  return h.toString(16).padStart(32, '0');
}

/** JSON with object keys sorted at every level (a stable deep dump). */
export function canonicalJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(',')}]`;
  if (v !== null && typeof v === 'object') {
    const entries = Object.entries(v as Record<string, unknown>)
      .filter(([, x]) => x !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, x]) => `${JSON.stringify(k)}:${canonicalJson(x)}`).join(',')}}`;
  }
  return JSON.stringify(v);
}

/** Upstream generatePodName. */
export const staticPodName = (name: string, nodeName: string): string => `${name}-${nodeName.toLowerCase()}`;

function defaultContainer(c: Container, hostNetwork: boolean): void {
  c.terminationMessagePath ??= '/dev/termination-log';
  c.terminationMessagePolicy ??= 'File';
  if (!c.imagePullPolicy) {
    const image = c.image ?? '';
    const tag = /^[^@]*:([^/:@]+)$/.exec(image.split('@')[0] ?? '')?.[1];
    c.imagePullPolicy =
      image.includes('@') || (tag !== undefined && tag !== 'latest') ? 'IfNotPresent' : 'Always';
  }
  for (const p of c.ports ?? []) {
    p.protocol ??= 'TCP';
    if (hostNetwork && !p.hostPort) p.hostPort = p.containerPort;
  }
  if (c.resources?.limits) {
    c.resources.requests ??= {};
    for (const [k, v] of Object.entries(c.resources.limits)) c.resources.requests[k] ??= v;
  }
  for (const probe of [c.livenessProbe, c.readinessProbe, c.startupProbe]) {
    if (!probe) continue;
    probe.timeoutSeconds ??= 1;
    probe.periodSeconds ??= 10;
    probe.successThreshold ??= 1;
    probe.failureThreshold ??= 3;
    if (probe.httpGet) {
      probe.httpGet.path ??= '/';
      probe.httpGet.scheme ??= 'HTTP';
    }
  }
}

/** The v1 defaults (SetObjectDefaults_Pod) the kubelet's own code depends on. */
export function applyV1PodDefaults(pod: Pod): void {
  const spec = pod.spec ?? { containers: [] };
  pod.spec = spec;
  spec.dnsPolicy ??= 'ClusterFirst';
  spec.restartPolicy ??= 'Always';
  spec.terminationGracePeriodSeconds ??= 30;
  spec.securityContext ??= {};
  spec.schedulerName ??= 'default-scheduler';
  spec.enableServiceLinks ??= true;
  const hostNetwork = spec.hostNetwork === true;
  for (const c of [...(spec.initContainers ?? []), ...(spec.containers ?? [])])
    defaultContainer(c, hostNetwork);
  for (const v of spec.volumes ?? []) {
    if (v.hostPath) v.hostPath.type ??= '';
    if (v.downwardAPI) v.downwardAPI.defaultMode ??= 0o644;
    if (v.projected) v.projected.defaultMode ??= 0o644;
    if (v.emptyDir && Object.keys(v.emptyDir).length === 0) v.emptyDir = {};
  }
}

/** podutil.HasAPIObjectReference: the kind of API object a pod refers to, or undefined. */
export function apiObjectReference(pod: Pod): string | undefined {
  const spec = pod.spec;
  if (spec?.serviceAccountName) return 'serviceaccounts';
  const containers = [
    ...(spec?.initContainers ?? []),
    ...(spec?.containers ?? []),
    ...(spec?.ephemeralContainers ?? []),
  ];
  if ((spec?.imagePullSecrets ?? []).length > 0) return 'secrets';
  for (const c of containers) {
    if ((c.envFrom ?? []).some((e) => e.secretRef) || (c.env ?? []).some((e) => e.valueFrom?.secretKeyRef))
      return 'secrets';
  }
  for (const c of containers) {
    if (
      (c.envFrom ?? []).some((e) => e.configMapRef) ||
      (c.env ?? []).some((e) => e.valueFrom?.configMapKeyRef)
    )
      return 'configmaps';
  }
  if ((spec?.resourceClaims ?? []).length > 0) return 'resourceclaims';
  for (const v of spec?.volumes ?? []) {
    if (v.configMap) return 'configmaps (via configmap volumes)';
    if (v.secret) return 'secrets (via secret volumes)';
    if (v.csi) return 'csidrivers (via CSI volumes)';
    if (v.persistentVolumeClaim) return 'persistentvolumeclaims';
    if (v.ephemeral) return 'persistentvolumeclaims (via ephemeral volumes)';
    if (v.azureFile) return 'secrets (via azureFile volumes)';
    for (const s of v.projected?.sources ?? []) {
      if (s.configMap) return 'configmaps (via projected volumes)';
      if (s.secret) return 'secrets (via projected volumes)';
      if (s.serviceAccountToken) return 'serviceaccounts (via projected volumes)';
      if (s.clusterTrustBundle) return 'clustertrustbundles';
      if ((s as { podCertificate?: unknown }).podCertificate) return 'podcertificates';
    }
  }
  return undefined;
}

/** Upstream applyDefaults: UID, name, namespace, node, hash annotation, toleration, phase. */
export function applyStaticDefaults(pod: Pod, src: StaticPodSource): Pod {
  const meta = pod.metadata ?? {};
  pod.metadata = meta;
  if (!meta.uid) {
    const suffix = src.isFile ? `host:${src.nodeName}file:${src.source}` : `url:${src.source}`;
    meta.uid = fnv128a(Buffer.from(canonicalJson(pod) + suffix));
  }
  meta.name = staticPodName(meta.name ?? '', src.nodeName);
  if (!meta.namespace) meta.namespace = 'default';
  const spec = pod.spec ?? { containers: [] };
  pod.spec = spec;
  spec.nodeName = src.nodeName;
  meta.annotations = { ...meta.annotations, [CONFIG_HASH_ANNOTATION]: meta.uid };
  if (src.isFile) {
    const tolerations = spec.tolerations ?? [];
    if (!tolerations.some((t) => t.operator === 'Exists' && t.effect === 'NoExecute' && !t.key)) {
      spec.tolerations = [...tolerations, { operator: 'Exists', effect: 'NoExecute' }];
    }
  }
  pod.status = { ...pod.status, phase: 'Pending' };
  return pod;
}

function checkPod(obj: Record<string, unknown>, src: StaticPodSource): Pod {
  const pod = obj as Pod;
  if (!pod.metadata?.name) throw new StaticPodManifestError('invalid pod: name is needed for the pod');
  if (!Array.isArray(pod.spec?.containers) || pod.spec.containers.length === 0) {
    throw new StaticPodManifestError('invalid pod: spec.containers: Required value');
  }
  applyV1PodDefaults(pod);
  applyStaticDefaults(pod, src);
  const ref = apiObjectReference(pod);
  if (ref) throw new StaticPodManifestError(`static pods may not reference ${ref}`);
  return pod;
}

/**
 * Decodes a manifest into the static pods it holds (one for a Pod, any number for a PodList when
 * `allowList`). Throws StaticPodManifestError with upstream's wording.
 */
export function decodeStaticPods(text: string, src: StaticPodSource, allowList = false): Pod[] {
  const docs = parseAllDocuments(text);
  const first = Array.isArray(docs) ? docs[0] : undefined;
  const where = src.isFile ? src.source : `url ${src.source}`;
  if (!first || first.errors.length > 0) {
    const reason = first?.errors[0]?.message ?? 'empty document';
    throw new StaticPodManifestError(`${where}: couldn't parse as pod(${reason}), please check config file`);
  }
  const obj = first.toJS() as Record<string, unknown> | null;
  if (!obj || typeof obj !== 'object') {
    throw new StaticPodManifestError(
      `${where}: couldn't parse as pod(Object 'Kind' is missing), please check config file`,
    );
  }
  if (obj.apiVersion !== 'v1') {
    throw new StaticPodManifestError(
      `${where}: couldn't parse as pod(no kind "${String(obj.kind)}" is registered for version "${String(obj.apiVersion)}"), please check config file`,
    );
  }
  if (obj.kind === 'Pod') return [checkPod(obj, src)];
  if (obj.kind === 'PodList' && allowList) {
    return ((obj.items as Record<string, unknown>[] | undefined) ?? []).map((item) =>
      checkPod({ apiVersion: 'v1', kind: 'Pod', ...item }, src),
    );
  }
  throw new StaticPodManifestError(
    `${where}: couldn't parse as pod(invalid pod: kind ${String(obj.kind)}), please check config file`,
  );
}

/** Upstream getStaticPodPriorityWarning: logged once per distinct message. */
export function staticPodPriorityWarning(pod: Pod): string | undefined {
  const priority = pod.spec?.priority;
  const className = pod.spec?.priorityClassName ?? '';
  if ((priority === undefined || priority === null) && className)
    return 'Static pod has priorityClassName and nil priority. Kubelet will not use priorityClassName, and mirror pod creation may fail.';
  if (priority !== undefined && priority !== null && !className)
    return "Static pod has priority without priorityClassName. Mirror pod creation may fail if the default priority class doesn't match the given priority.";
  if (
    priority !== undefined &&
    priority !== null &&
    (priority !== NODE_CRITICAL_PRIORITY || className !== 'system-node-critical')
  )
    return `Static pod has a priority other than ${NODE_CRITICAL_PRIORITY} or a priorityClassName other than system-node-critical. Mirror pod may be attempted to be evicted from the node ineffectively.`;
  return undefined;
}
