import type { ResolvedConfig } from '../config/index.js';
import type { HostFacts } from '../host/types.js';
import { thresholdBytes } from './resources.js';
import type { NodeConfig } from './setters.js';

/** The release this kubelet implements and reports (Node nodeInfo.kubeletVersion, --version). */
export const KUBELET_VERSION = 'v1.37.2';

/** What the Node object reports of the kubelet's configuration (flags and KubeletConfiguration). */
export function nodeConfigFrom(cfg: ResolvedConfig): NodeConfig {
  const hard = (signal: string) =>
    cfg.evictionThresholds.find((t) => t.signal === signal && t.gracePeriodMs === 0)?.value;
  const val = (v: { quantity: number } | { percentage: number } | undefined) =>
    v === undefined ? undefined : 'quantity' in v ? { bytes: v.quantity } : { percentage: v.percentage };
  return {
    nodeName: cfg.nodeName,
    hostname: cfg.nodeName,
    nodeIPs: cfg.nodeIPs.length > 0 ? cfg.nodeIPs : undefined,
    maxPods: cfg.maxPods,
    podsPerCore: cfg.podsPerCore,
    kubeReserved: cfg.kubeReserved,
    systemReserved: cfg.systemReserved,
    evictionHard: {
      memoryAvailable: val(hard('memory.available')),
      nodefsAvailable: val(hard('nodefs.available')),
    },
    nodeLabels: cfg.nodeLabels,
    registerWithTaints: cfg.registerWithTaints,
    providerID: cfg.providerID,
    kubeletPort: cfg.port,
    kubeletVersion: KUBELET_VERSION,
    maxImages: cfg.nodeStatusMaxImages,
  };
}

export interface NodeAllocatable {
  /** Capacity: cores × 1000. */
  capacityCpuMillis: number;
  /** min(cores × podsPerCore, maxPods) when podsPerCore is set, else maxPods. */
  pods: number;
  cpuMillis: number;
  memoryBytes: number;
  ephemeralBytes: number;
}

const sum = (...xs: (number | undefined)[]): number => xs.reduce<number>((a, x) => a + (x ?? 0), 0);

/**
 * PURE: node allocatable (upstream GetNodeAllocatableReservation): capacity − (kubeReserved +
 * systemReserved + hard eviction thresholds), memory also less hugepages. What the Node reports
 * and what admission and the downward API use.
 */
export function nodeAllocatable(config: NodeConfig, facts: HostFacts): NodeAllocatable {
  const maxPods = config.maxPods ?? 110;
  const podsPerCore = config.podsPerCore ?? 0;
  const pods = podsPerCore > 0 ? Math.min(facts.cpuCores * podsPerCore, maxPods) : maxPods;
  const capacityCpuMillis = Math.round(facts.cpuCores * 1000);
  const hugepageBytes = sum(...Object.values(facts.hugepages));
  const kr = config.kubeReserved ?? {};
  const sr = config.systemReserved ?? {};
  const ev = config.evictionHard ?? {};
  const reservedCpu = sum(kr.cpuMillis, sr.cpuMillis);
  const reservedMem = sum(
    kr.memoryBytes,
    sr.memoryBytes,
    ev.memoryAvailable ? thresholdBytes(ev.memoryAvailable, facts.memoryBytes) : 0,
  );
  const reservedEph = sum(
    kr.ephemeralStorageBytes,
    sr.ephemeralStorageBytes,
    ev.nodefsAvailable ? thresholdBytes(ev.nodefsAvailable, facts.ephemeralStorageBytes) : 0,
  );
  return {
    capacityCpuMillis,
    pods,
    cpuMillis: Math.max(0, capacityCpuMillis - reservedCpu),
    memoryBytes: Math.max(0, Math.max(0, facts.memoryBytes - reservedMem) - hugepageBytes),
    ephemeralBytes: Math.max(0, facts.ephemeralStorageBytes - reservedEph),
  };
}
