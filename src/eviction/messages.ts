/**
 * PURE: the eviction manager's texts, as upstream writes them (pkg/kubelet/eviction/helpers.go
 * evictionMessage, getThresholdMetInfo; eviction_manager.go Admit and synchronize).
 */
import type { Pod } from '../api/types.js';
import { canonicalQuantity, formatQuantity, memoryToBytes } from '../util/quantity.js';
import { SIGNAL_TO_RESOURCE, thresholdQuantity } from './thresholds.js';
import type {
  EvictionThreshold,
  Observations,
  PodUsage,
  PressureCondition,
  ReclaimResource,
} from './types.js';

/** Pod status reason and event reason of an eviction. */
export const EVICTED_REASON = 'Evicted';
export const THRESHOLD_MET_EVENT = 'EvictionThresholdMet';
export const OFFENDING_CONTAINERS_KEY = 'offending_containers';
export const OFFENDING_CONTAINERS_USAGE_KEY = 'offending_containers_usage';
export const STARVED_RESOURCE_KEY = 'starved_resource';

/** Quantities of bytes print in BinarySI (100Mi), counts (inodes, pids) in DecimalSI (5k). */
function formatAmount(resource: ReclaimResource, n: number): string {
  return formatQuantity(
    n,
    resource === 'memory' || resource === 'ephemeral-storage' ? 'BinarySI' : 'DecimalSI',
  );
}

/**
 * Upstream getThresholdMetInfo: the first threshold for the resource that has an observation,
 * as [threshold quantity, available] strings. A percentage threshold prints as
 * NewQuantity(capacity × %, BinarySI), whatever the resource (upstream does the same).
 */
export function thresholdMetInfo(
  resource: ReclaimResource,
  thresholds: readonly EvictionThreshold[],
  observations: Observations,
): [quantity: string, available: string] | undefined {
  for (const t of thresholds) {
    if (SIGNAL_TO_RESOURCE[t.signal] !== resource) continue;
    const o = observations.get(t.signal);
    if (!o) continue;
    const q = thresholdQuantity(t.value, o.capacity);
    const quantity = 'percentage' in t.value ? formatQuantity(q, 'BinarySI') : formatAmount(resource, q);
    return [quantity, formatAmount(resource, o.available)];
  }
  return undefined;
}

/** The event and status text of an eviction, and the Evicted event's annotations (upstream evictionMessage). */
export function evictionMessage(
  resource: ReclaimResource,
  pod: Pod,
  stats: PodUsage | undefined,
  thresholds: readonly EvictionThreshold[],
  observations: Observations,
): { message: string; annotations: Record<string, string> } {
  let message = `The node was low on resource: ${resource}. `;
  const met = thresholdMetInfo(resource, thresholds, observations);
  if (met) message += `Threshold quantity: ${met[0]}, available: ${met[1]}. `;
  if (!stats) return { message, annotations: {} };
  const containers: string[] = [];
  const usages: string[] = [];
  for (const cs of stats.containers) {
    for (const c of pod.spec?.containers ?? []) {
      if (c.name !== cs.name) continue;
      const raw = c.resources?.requests?.[resource];
      const requestBytes = raw === undefined || raw === null ? 0 : memoryToBytes(String(raw));
      const requestText = raw === undefined || raw === null ? '0' : canonicalQuantity(String(raw));
      let usage: number | undefined;
      if (resource === 'memory') usage = cs.memoryWorkingSetBytes;
      else if (
        resource === 'ephemeral-storage' &&
        cs.rootfsUsedBytes !== undefined &&
        cs.logsUsedBytes !== undefined
      ) {
        usage = cs.rootfsUsedBytes + cs.logsUsedBytes;
      }
      if (usage === undefined || usage <= requestBytes) continue;
      const used = formatQuantity(usage, 'BinarySI');
      message += `Container ${c.name} was using ${used}, request is ${requestText}, has larger consumption of ${resource}. `;
      containers.push(c.name);
      usages.push(used);
    }
  }
  return {
    message,
    annotations: {
      [OFFENDING_CONTAINERS_KEY]: containers.join(','),
      [OFFENDING_CONTAINERS_USAGE_KEY]: usages.join(','),
      [STARVED_RESOURCE_KEY]: resource,
    },
  };
}

/** The node event before reclaiming (upstream "Attempting to reclaim %s"). */
export function thresholdMetEventMessage(resource: ReclaimResource): string {
  return `Attempting to reclaim ${resource}`;
}

/** Admission refusal under pressure (upstream nodeConditionMessageFmt with Go slice formatting). */
export function nodeConditionMessage(conditions: readonly PressureCondition[]): string {
  return `The node had condition: [${conditions.join(' ')}]. `;
}
