/**
 * PURE: a pod's aggregate requests and limits (upstream component-helpers resource.PodRequests /
 * PodLimits with PodLevelResources on), in millicores and bytes.
 */

import { cpuToMillis, memoryToBytes } from '../util/quantity.js';
import { isSidecar } from './pod.js';
import type { Container, Pod } from './types.js';

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

/**
 * Container resource values for the downward API (upstream pkg/api/v1/resource helpers.go):
 * shared by env `resourceFieldRef` (src/sync/env.ts) and downwardAPI volume files (src/volumes).
 */

/** Node allocatable in base units (cpu in millicores); 0 = not reported. */
export interface NodeAllocatable {
  cpuMillis: number;
  memoryBytes: number;
  ephemeralBytes: number;
}

/** A resourceFieldRef (v1.ResourceFieldSelector). */
export interface ResourceFieldSelector {
  containerName?: string;
  resource: string;
  divisor?: string | number;
}

/** The selector cannot be resolved; the message is upstream's. */
export class ResourceFieldError extends Error {
  override readonly name = 'ResourceFieldError';
}

/** Upstream findContainerInPod: regular containers first, then init containers. */
export function findContainerInPod(pod: Pod, name: string): Container {
  const c =
    (pod.spec?.containers ?? []).find((x) => x.name === name) ??
    (pod.spec?.initContainers ?? []).find((x) => x.name === name);
  if (!c) throw new ResourceFieldError(`container ${name} not found`);
  return c;
}

function parse(q: string | number | undefined, toBase: (s: string) => number): number | undefined {
  if (q === undefined || q === null || q === '') return undefined;
  try {
    return toBase(String(q));
  } catch {
    throw new ResourceFieldError(`invalid quantity ${JSON.stringify(String(q))}`);
  }
}

const DEFAULTED: Readonly<Record<string, keyof NodeAllocatable>> = {
  cpu: 'cpuMillis',
  memory: 'memoryBytes',
  'ephemeral-storage': 'ephemeralBytes',
};

/**
 * Upstream ExtractContainerResourceValue, after MergeContainerResourceLimits when `allocatable`
 * is given: a limit of cpu, memory or ephemeral-storage that is unset or zero takes the node's
 * allocatable. The value is divided by the divisor (absent or zero = 1) and rounded up: cpu in
 * millicores (`MilliValue`), the others in bytes (`Value`).
 */
export function containerResourceValue(
  c: Container,
  sel: ResourceFieldSelector,
  allocatable?: NodeAllocatable,
): string {
  const dot = sel.resource.indexOf('.');
  const kind = sel.resource.slice(0, dot);
  const name = sel.resource.slice(dot + 1);
  const supported =
    dot > 0 &&
    (kind === 'limits' || kind === 'requests') &&
    (name === 'cpu' || name === 'memory' || name === 'ephemeral-storage' || name.startsWith('hugepages-'));
  if (!supported) throw new ResourceFieldError(`unsupported container resource : ${sel.resource}`);
  const toBase = name === 'cpu' ? cpuToMillis : memoryToBytes;
  const list = kind === 'limits' ? c.resources?.limits : c.resources?.requests;
  let value = parse(list?.[name], toBase) ?? 0;
  const key = DEFAULTED[name];
  if (kind === 'limits' && value === 0 && allocatable && key) value = allocatable[key];
  const divisor = parse(sel.divisor, toBase) || (name === 'cpu' ? 1000 : 1);
  return String(Math.ceil(value / divisor));
}

/** Upstream ExtractResourceValueByContainerNameAndNodeAllocatable (downwardAPI volume files). */
export function resourceValueByContainerName(
  pod: Pod,
  sel: ResourceFieldSelector,
  allocatable: NodeAllocatable,
): string {
  return containerResourceValue(findContainerInPod(pod, sel.containerName ?? ''), sel, allocatable);
}
