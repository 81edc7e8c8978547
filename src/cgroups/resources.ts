/**
 * PURE: a pod's aggregate requests and limits (upstream component-helpers resource.PodRequests /
 * PodLimits with PodLevelResources on), in millicores and bytes.
 */
import type { Container, Pod } from '../api/types.js';
import { cpuToMillis, memoryToBytes } from '../util/quantity.js';

/** cpu in millicores; everything else (memory, ephemeral-storage, hugepages-*) in base units. */
export type ResourceAmounts = Map<string, number>;

type ResourceList = Record<string, unknown> | undefined;

/** Only these resources may be set at pod level (upstream supportedPodLevelResources). */
const POD_LEVEL_RESOURCES = new Set(['cpu', 'memory']);

function amount(name: string, v: unknown): number {
  if (v === undefined || v === null) return 0;
  return name === 'cpu' ? cpuToMillis(String(v)) : memoryToBytes(String(v));
}

export function toAmounts(list: ResourceList): ResourceAmounts {
  const out: ResourceAmounts = new Map();
  for (const [name, v] of Object.entries(list ?? {})) out.set(name, amount(name, v));
  return out;
}

function addInto(into: ResourceAmounts, add: ResourceAmounts): void {
  for (const [k, v] of add) into.set(k, (into.get(k) ?? 0) + v);
}

function maxInto(into: ResourceAmounts, other: ResourceAmounts): void {
  for (const [k, v] of other) {
    const cur = into.get(k);
    if (cur === undefined || v > cur) into.set(k, v);
  }
}

const isSidecar = (c: Container) => c.restartPolicy === 'Always';

/** Called with each container's effective list: regular containers, then init containers cumulated with earlier sidecars. */
export type ContainerFn = (list: ResourceAmounts, kind: 'containers' | 'initContainers') => void;

function aggregate(pod: Pod, pick: (c: Container) => ResourceList, fn?: ContainerFn): ResourceAmounts {
  const total: ResourceAmounts = new Map();
  for (const c of pod.spec?.containers ?? []) {
    const list = toAmounts(pick(c));
    fn?.(list, 'containers');
    addInto(total, list);
  }
  const sidecars: ResourceAmounts = new Map();
  const initPeak: ResourceAmounts = new Map();
  for (const c of pod.spec?.initContainers ?? []) {
    let list = toAmounts(pick(c));
    if (isSidecar(c)) {
      addInto(total, list);
      addInto(sidecars, list);
      list = new Map(sidecars);
    } else {
      const tmp: ResourceAmounts = new Map(list);
      addInto(tmp, sidecars);
      list = tmp;
    }
    fn?.(list, 'initContainers');
    maxInto(initPeak, list);
  }
  maxInto(total, initPeak);
  return total;
}

function podLevel(list: ResourceList): ResourceAmounts | undefined {
  const out: ResourceAmounts = new Map();
  for (const [name, v] of toAmounts(list)) if (POD_LEVEL_RESOURCES.has(name) && v > 0) out.set(name, v);
  return out.size > 0 ? out : undefined;
}

/** Upstream PodRequests: pod-level requests when set, else the container aggregate; plus overhead. */
export function podRequests(pod: Pod, fn?: ContainerFn): ResourceAmounts {
  const reqs = podLevel(pod.spec?.resources?.requests) ?? aggregate(pod, (c) => c.resources?.requests, fn);
  addInto(reqs, toAmounts(pod.spec?.overhead));
  return reqs;
}

/** Upstream PodLimits: pod-level limits when set, else the container aggregate; overhead only on resources limited. */
export function podLimits(pod: Pod, fn?: ContainerFn): ResourceAmounts {
  const limits = podLevel(pod.spec?.resources?.limits) ?? aggregate(pod, (c) => c.resources?.limits, fn);
  for (const [k, v] of toAmounts(pod.spec?.overhead)) {
    const cur = limits.get(k);
    if (cur !== undefined) limits.set(k, cur + v);
  }
  return limits;
}

/** Upstream GetResourceRequestQuantity(pod, memory) in bytes (what eviction ranking compares usage with). */
export function podMemoryRequestBytes(pod: Pod): number {
  return podRequests(pod).get('memory') ?? 0;
}

/** The request of one resource summed over a pod's regular containers (eviction messages use per-container requests). */
export function containerRequest(c: Container, resource: string): number {
  return amount(resource, c.resources?.requests?.[resource]);
}
