import { quantityNanos } from '../util/quantity.js';
import type { Pod, PodSpec } from './types.js';

export type QOSClass = 'Guaranteed' | 'Burstable' | 'BestEffort';

const QOS_RESOURCES = new Set(['cpu', 'memory']);

type ResourceList = Record<string, string> | undefined;

/** Adds the positive cpu/memory quantities of `list` into `sums`; returns the resource names added. */
function addPositive(sums: Map<string, bigint>, list: ResourceList): Set<string> {
  const found = new Set<string>();
  for (const [name, q] of Object.entries(list ?? {})) {
    if (!QOS_RESOURCES.has(name)) continue;
    const v = quantityNanos(String(q));
    if (v === undefined || v <= 0n) continue;
    found.add(name);
    sums.set(name, (sums.get(name) ?? 0n) + v);
  }
  return found;
}

/**
 * The QoS class a spec implies (upstream qos.ComputePodQOS, PodLevelResources on): only cpu and
 * memory > 0 count, summed over containers and init containers, or taken from spec.resources
 * when pod-level resources are set.
 */
export function qosClass(spec: PodSpec): QOSClass {
  const requests = new Map<string, bigint>();
  const limits = new Map<string, bigint>();
  let guaranteed = true;
  const hasAllLimits = (found: Set<string>) => found.has('cpu') && found.has('memory');
  if (spec.resources) {
    addPositive(requests, spec.resources.requests);
    if (Object.keys(spec.resources.limits ?? {}).length > 0) {
      if (!hasAllLimits(addPositive(limits, spec.resources.limits))) guaranteed = false;
    }
  } else {
    for (const c of [...spec.containers, ...(spec.initContainers ?? [])]) {
      addPositive(requests, c.resources?.requests);
      if (!hasAllLimits(addPositive(limits, c.resources?.limits))) guaranteed = false;
    }
  }
  if (requests.size === 0 && limits.size === 0) return 'BestEffort';
  if (guaranteed) {
    for (const [name, req] of requests) {
      if (limits.get(name) !== req) {
        guaranteed = false;
        break;
      }
    }
  }
  return guaranteed && requests.size === limits.size ? 'Guaranteed' : 'Burstable';
}

/** The pod's QoS class: the one the apiserver recorded, else computed (upstream GetPodQOS). */
export function podQOSClass(pod: Pod): string {
  return pod.status?.qosClass || qosClass(pod.spec ?? { containers: [] });
}
