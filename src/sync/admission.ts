import { isCriticalPod } from '../api/pod.js';
import { podQOSClass } from '../api/qos.js';
import { podRequests as resourceRequests } from '../api/resources.js';
import type { Pod } from '../api/types.js';
import { admitSysctls, type SysctlAllowlist } from './sysctl.js';

export interface AdmissionNode {
  name: string;
  labels: Record<string, string>;
  allocatable: { cpuMillis: number; memoryBytes: number; ephemeralBytes: number; pods: number };
  /** Node pressure conditions the eviction manager reports now (MemoryPressure, DiskPressure, PIDPressure). */
  pressure?: readonly string[];
  /** The node's OS as upstream's runtime.GOOS ('linux'). */
  os: string;
  /** Safe sysctls for the kernel plus allowedUnsafeSysctls (sysctl.ts). */
  sysctls: SysctlAllowlist;
}

export type AdmitResult = { admit: true } | { admit: false; reason: string; message: string };

interface Requests {
  cpu: number;
  memory: number;
  ephemeral: number;
}

/** The pod's requests as admission compares them (upstream PodRequests: pod-level, sidecars, overhead). */
export function podRequests(pod: Pod): Requests {
  const r = resourceRequests(pod);
  return { cpu: r.get('cpu') ?? 0, memory: r.get('memory') ?? 0, ephemeral: r.get('ephemeral-storage') ?? 0 };
}

const add = (a: Requests, b: Requests): Requests => ({
  cpu: a.cpu + b.cpu,
  memory: a.memory + b.memory,
  ephemeral: a.ephemeral + b.ephemeral,
});

type Term = { matchExpressions?: Req[]; matchFields?: Req[] };
type Req = { key: string; operator: string; values?: string[] };

function matchReq(r: Req, value: string | undefined): boolean {
  const vals = r.values ?? [];
  switch (r.operator) {
    case 'In':
      return value !== undefined && vals.includes(value);
    case 'NotIn':
      return value === undefined || !vals.includes(value);
    case 'Exists':
      return value !== undefined;
    case 'DoesNotExist':
      return value === undefined;
    case 'Gt':
    case 'Lt': {
      if (value === undefined || vals.length !== 1) return false;
      const a = Number.parseInt(value, 10);
      const b = Number.parseInt(vals[0]!, 10);
      if (Number.isNaN(a) || Number.isNaN(b)) return false;
      return r.operator === 'Gt' ? a > b : a < b;
    }
    default:
      return false;
  }
}

function matchTerm(t: Term, node: AdmissionNode): boolean {
  const exprs = t.matchExpressions ?? [];
  const fields = t.matchFields ?? [];
  if (exprs.length === 0 && fields.length === 0) return false;
  return (
    exprs.every((r) => matchReq(r, node.labels[r.key])) &&
    fields.every((r) => matchReq(r, r.key === 'metadata.name' ? node.name : undefined))
  );
}

/** nodeSelector and required node affinity (upstream nodeaffinity.GetRequiredNodeAffinity). */
export function matchesNode(pod: Pod, node: AdmissionNode): boolean {
  for (const [k, v] of Object.entries(pod.spec?.nodeSelector ?? {})) {
    if (node.labels[k] !== v) return false;
  }
  const terms =
    pod.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms;
  if (terms && !terms.some((t) => matchTerm(t as Term, node))) return false;
  return true;
}

function hostPorts(pod: Pod): string[] {
  const out: string[] = [];
  for (const c of [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])]) {
    for (const p of c.ports ?? []) {
      if (p.hostPort) out.push(`${p.protocol ?? 'TCP'}/${p.hostIP || '0.0.0.0'}/${p.hostPort}`);
    }
  }
  return out;
}

function portsConflict(a: string, b: string): boolean {
  const [pa, ia, na] = a.split('/');
  const [pb, ib, nb] = b.split('/');
  if (pa !== pb || na !== nb) return false;
  return ia === ib || ia === '0.0.0.0' || ib === '0.0.0.0';
}

const MEMORY_PRESSURE_TAINT = 'node.kubernetes.io/memory-pressure';

/** Whether a toleration tolerates the taint memory-pressure:NoSchedule (upstream ToleratesTaint). */
function toleratesMemoryPressure(pod: Pod): boolean {
  return (pod.spec?.tolerations ?? []).some((t) => {
    if (t.effect && t.effect !== 'NoSchedule') return false;
    if (t.key && t.key !== MEMORY_PRESSURE_TAINT) return false;
    const op = t.operator ?? '';
    if (op === 'Exists') return true;
    return (op === '' || op === 'Equal') && (t.value ?? '') === '';
  });
}

/**
 * PURE: the eviction manager's admission (upstream eviction managerImpl.Admit, the first admit
 * handler): under any pressure condition non-critical pods are refused; under memory pressure
 * alone only BestEffort pods that do not tolerate the memory-pressure taint are.
 */
export function admitUnderPressure(pod: Pod, conditions: readonly string[]): AdmitResult {
  if (conditions.length === 0 || isCriticalPod(pod)) return { admit: true };
  if (conditions.length === 1 && conditions[0] === 'MemoryPressure') {
    if (podQOSClass(pod) !== 'BestEffort' || toleratesMemoryPressure(pod)) return { admit: true };
  }
  return { admit: false, reason: 'Evicted', message: `The node had condition: [${conditions.join(' ')}]. ` };
}

const LABEL_OS = 'kubernetes.io/os';

/**
 * Upstream rejectPodAdmissionBasedOnOSSelector: the pod's own `kubernetes.io/os` label (not its
 * nodeSelector) must name the node's OS; the node label is taken as the OS itself.
 */
function rejectBasedOnOSSelector(pod: Pod, os: string): boolean {
  const want = pod.metadata?.labels?.[LABEL_OS];
  return want !== undefined && want !== os;
}

/** Upstream rejectPodAdmissionBasedOnOSField: spec.os.name must be the node's OS. */
function rejectBasedOnOSField(pod: Pod, os: string): boolean {
  const name = pod.spec?.os?.name;
  return name !== undefined && name !== os;
}

/** A name the kubelet joins into a path: one non-empty component, not `.` or `..`, no NUL. */
const isPathComponent = (n: string) => n !== '' && n !== '.' && n !== '..' && !/[/\0]/.test(n);

/**
 * PURE: the names the kubelet turns into paths (pod directory, log directory, container and
 * volume directories). The apiserver's validation keeps them to DNS labels, and upstream relies
 * on it; a pod that reaches us without it (static pods, a careless apiserver) would write
 * outside its directories, so it is refused before anything is made (reason InvalidPod).
 */
export function admitPathNames(pod: Pod): AdmitResult {
  const m = pod.metadata;
  const spec = pod.spec;
  const named: [string, string | undefined][] = [
    ['namespace', m?.namespace ?? 'default'],
    ['name', m?.name],
    ['uid', m?.uid],
    ...[
      ...(spec?.initContainers ?? []),
      ...(spec?.containers ?? []),
      ...(spec?.ephemeralContainers ?? []),
    ].map((c): [string, string] => ['container name', c.name]),
    ...(spec?.volumes ?? []).map((v): [string, string] => ['volume name', v.name]),
  ];
  for (const [what, value] of named) {
    if (!isPathComponent(value ?? '')) {
      return {
        admit: false,
        reason: 'InvalidPod',
        message: `its ${what} ${JSON.stringify(value ?? '')} cannot be used as a file name`,
      };
    }
  }
  return { admit: true };
}

/**
 * PURE: upstream's kubelet admission handlers in their order: the eviction manager's
 * (pressure), the sysctl allowlist (SysctlForbidden), then the predicate handler: OS label
 * (PodOSSelectorNodeLabelDoesNotMatch), spec.os (PodOSNotSupported), and the general filter
 * (lifecycle/predicate.go, scheduler AdmissionCheck): resources (pods, cpu, memory,
 * ephemeral-storage against allocatable minus the requests of `active` pods), node
 * selector/affinity, node name, host ports; the first failure is reported.
 */
export function admitPod(pod: Pod, active: Pod[], node: AdmissionNode): AdmitResult {
  const names = admitPathNames(pod);
  if (!names.admit) return names;
  const pressure = admitUnderPressure(pod, node.pressure ?? []);
  if (!pressure.admit) return pressure;
  const sysctls = admitSysctls(pod, node.sysctls);
  if (!sysctls.admit) return sysctls;
  if (rejectBasedOnOSSelector(pod, node.os)) {
    return {
      admit: false,
      reason: 'PodOSSelectorNodeLabelDoesNotMatch',
      message: "Failed to admit pod as the `kubernetes.io/os` label doesn't match node label",
    };
  }
  if (rejectBasedOnOSField(pod, node.os)) {
    return {
      admit: false,
      reason: 'PodOSNotSupported',
      message: "Failed to admit pod as the OS field doesn't match node OS",
    };
  }
  // A critical pod is rejected for a placement reason first: resources it can preempt for.
  if (isCriticalPod(pod))
    return placementFit(pod, active, node) ?? resourcesFit(pod, active, node) ?? { admit: true };
  return resourcesFit(pod, active, node) ?? placementFit(pod, active, node) ?? { admit: true };
}

/** One resource a pod lacks (upstream InsufficientResourceError.GetInsufficientAmount). */
export interface AdmissionRequirement {
  resourceName: 'pods' | 'cpu' | 'memory' | 'ephemeral-storage';
  quantity: number;
}

/** PURE: every resource `pod` lacks given the `active` pods (cpu in millicores, bytes). */
export function insufficientResources(pod: Pod, active: Pod[], node: AdmissionNode): AdmissionRequirement[] {
  const a = node.allocatable;
  const want = podRequests(pod);
  const used = active.map(podRequests).reduce(add, { cpu: 0, memory: 0, ephemeral: 0 });
  const out: AdmissionRequirement[] = [];
  if (active.length + 1 > a.pods) out.push({ resourceName: 'pods', quantity: active.length + 1 - a.pods });
  const checks: [AdmissionRequirement['resourceName'], number, number, number][] = [
    ['cpu', want.cpu, used.cpu, a.cpuMillis],
    ['memory', want.memory, used.memory, a.memoryBytes],
    ['ephemeral-storage', want.ephemeral, used.ephemeral, a.ephemeralBytes],
  ];
  for (const [name, req, u, cap] of checks) {
    if (req > 0 && req + u > cap) out.push({ resourceName: name, quantity: req - (cap - u) });
  }
  return out;
}

/** Upstream noderesources.Fits as the kubelet reports it (InsufficientResourceError). */
function resourcesFit(pod: Pod, active: Pod[], node: AdmissionNode): AdmitResult | undefined {
  const a = node.allocatable;
  if (active.length + 1 > a.pods) {
    return {
      admit: false,
      reason: 'OutOfpods',
      message: `Node didn't have enough resource: pods, requested: 1, used: ${active.length}, capacity: ${a.pods}`,
    };
  }
  const want = podRequests(pod);
  const used = active.map(podRequests).reduce(add, { cpu: 0, memory: 0, ephemeral: 0 });
  const checks: [string, number, number, number][] = [
    ['cpu', want.cpu, used.cpu, a.cpuMillis],
    ['memory', want.memory, used.memory, a.memoryBytes],
    ['ephemeral-storage', want.ephemeral, used.ephemeral, a.ephemeralBytes],
  ];
  for (const [name, req, u, cap] of checks) {
    if (req > 0 && req + u > cap) {
      return {
        admit: false,
        reason: `OutOf${name}`,
        message: `Node didn't have enough resource: ${name}, requested: ${req}, used: ${u}, capacity: ${cap}`,
      };
    }
  }
  return undefined;
}

/** The node affinity, node name and host port predicates (PredicateFailureError). */
function placementFit(pod: Pod, active: Pod[], node: AdmissionNode): AdmitResult | undefined {
  if (!matchesNode(pod, node)) {
    return {
      admit: false,
      reason: 'NodeAffinity',
      message: "Predicate NodeAffinity failed: node(s) didn't match Pod's node affinity/selector",
    };
  }
  if (pod.spec?.nodeName && pod.spec.nodeName !== node.name) {
    return {
      admit: false,
      reason: 'NodeName',
      message: "Predicate NodeName failed: node(s) didn't match the requested node name",
    };
  }
  const mine = hostPorts(pod);
  if (mine.length > 0) {
    const used = active.flatMap(hostPorts);
    if (mine.some((p) => used.some((u) => portsConflict(p, u)))) {
      return {
        admit: false,
        reason: 'NodePorts',
        message: "Predicate NodePorts failed: node(s) didn't have free ports for the requested pod ports",
      };
    }
  }
  return undefined;
}
