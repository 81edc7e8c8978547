import { cpuToMillis, memoryToBytes } from '../util/quantity.js';
import type { Container, Pod } from './types.js';

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
