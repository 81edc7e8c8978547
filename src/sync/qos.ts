import { isCriticalPriority, isSidecar } from '../api/pod.js';
import { qosClass } from '../api/qos.js';
import type { Container, Pod } from '../api/types.js';
import { memoryToBytes } from '../util/quantity.js';

/**
 * Upstream GetContainerOOMScoreAdjust: Guaranteed and node-critical −997, BestEffort 1000,
 * Burstable 1000 − 1000 × memoryRequest / machineMemory clamped to [3, 999]; sidecars get the
 * smallest value of the pod's regular containers so they outlive them under OOM pressure.
 */
export function oomScoreAdj(pod: Pod, c: Container, memoryCapacityBytes: number): number {
  if (isCriticalPriority(pod)) return -997;
  const qos = qosClass(pod.spec ?? { containers: [] });
  if (qos === 'Guaranteed') return -997;
  if (qos === 'BestEffort') return 1000;
  const forContainer = (x: Container) => {
    const req = x.resources?.requests?.memory;
    const bytes = req === undefined ? 0 : memoryToBytes(String(req));
    const adj = 1000 - Math.floor((1000 * bytes) / Math.max(1, memoryCapacityBytes));
    return Math.min(999, Math.max(3, adj));
  };
  let v = forContainer(c);
  if (isSidecar(c) && (pod.spec?.initContainers ?? []).some((x) => x.name === c.name)) {
    for (const x of pod.spec?.containers ?? []) v = Math.min(v, forContainer(x));
  }
  return v;
}
