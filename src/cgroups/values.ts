/**
 * PURE: the values the kubelet writes into its cgroups (upstream pkg/kubelet/cm/helpers_linux.go
 * ResourceConfigForPod, qos_container_manager_linux.go, node_container_manager_linux.go,
 * cgroup_manager_linux.go toResources/getCPUWeight), and how runc's libcontainer turns them into
 * cgroup v2 files and systemd unit properties.
 */

import { podLimits, podRequests } from '../api/resources.js';
import type { Pod } from '../api/types.js';
import type { QOSClass } from './names.js';

export const MIN_SHARES = 2;
export const MAX_SHARES = 262_144;
export const SHARES_PER_CPU = 1024;
/** Default CFS period (µs): 100 ms. */
export const QUOTA_PERIOD_US = 100_000;
/** Smallest quota the kubelet writes (µs). */
export const MIN_QUOTA_PERIOD_US = 1000;

/** Upstream ResourceConfig, reduced to what cgroup v2 pods use. -1 means "max" (unlimited). */
export interface ResourceConfig {
  cpuShares?: number;
  /** µs per period; -1 = no quota. */
  cpuQuota?: number;
  /** µs. */
  cpuPeriod?: number;
  /** bytes; -1 = max. */
  memory?: number;
  /** -1 = max. */
  pidsLimit?: number;
}

/** Upstream MilliCPUToShares: 0 → 2 (the kernel's minimum), m×1024/1000 clamped to [2, 262144]. */
export function milliCpuToShares(milliCpu: number): number {
  if (milliCpu <= 0) return MIN_SHARES;
  const shares = Math.floor((milliCpu * SHARES_PER_CPU) / 1000);
  return Math.min(MAX_SHARES, Math.max(MIN_SHARES, shares));
}

/**
 * Upstream getCPUWeight (the kubelet's own cgroups on v2): 1 + (shares − 2) × 9999 / 262142,
 * integer division, ≥ 262144 → 10000. (Container cgroups are written by the runtime, which in
 * runc ≥ 1.3.2 / crun ≥ 1.23 uses a different, quadratic mapping.)
 */
export function cpuSharesToWeight(shares: number): number {
  if (shares >= MAX_SHARES) return 10_000;
  return 1 + Math.floor(((Math.max(MIN_SHARES, shares) - 2) * 9999) / 262_142);
}

/** Upstream MilliCPUToQuota: 0 for no limit, else m × period / 1000 with a 1000 µs floor. */
export function milliCpuToQuota(milliCpu: number, periodUs = QUOTA_PERIOD_US): number {
  if (milliCpu <= 0) return 0;
  return Math.max(MIN_QUOTA_PERIOD_US, Math.floor((milliCpu * periodUs) / 1000));
}

export interface PodCgroupOptions {
  /** cpuCFSQuota: false → no CPU quota (cpu.max "max <period>"). */
  enforceCpuLimits: boolean;
  cpuPeriodUs?: number;
  /** podPidsLimit; ≤ 0 leaves pids.max alone. */
  podPidsLimit?: number;
}

/**
 * Upstream ResourceConfigForPod (+ EnsureExists' pids limit): Guaranteed → shares, quota,
 * memory; Burstable → shares, quota only when every container has a cpu limit, memory only when
 * every container has a memory limit; BestEffort → shares 2.
 */
export function resourceConfigForPod(pod: Pod, qos: QOSClass, opts: PodCgroupOptions): ResourceConfig {
  const period = opts.cpuPeriodUs ?? QUOTA_PERIOD_US;
  let cpuLimitsDeclared = true;
  let memoryLimitsDeclared = true;
  const reqs = podRequests(pod);
  const limits = podLimits(pod, (list) => {
    if (!(list.get('cpu') ?? 0)) cpuLimitsDeclared = false;
    if (!(list.get('memory') ?? 0)) memoryLimitsDeclared = false;
  });
  const podLevel = pod.spec?.resources?.limits;
  if (podLevel && Object.keys(podLevel).length > 0) {
    if (limits.get('cpu')) cpuLimitsDeclared = true;
    if (limits.get('memory')) memoryLimitsDeclared = true;
  }
  const cpuShares = milliCpuToShares(reqs.get('cpu') ?? 0);
  const cpuQuota = opts.enforceCpuLimits ? milliCpuToQuota(limits.get('cpu') ?? 0, period) : -1;
  const memory = limits.get('memory') ?? 0;

  const out: ResourceConfig = {};
  if (qos === 'Guaranteed') {
    Object.assign(out, { cpuShares, cpuQuota, cpuPeriod: period, memory });
  } else if (qos === 'Burstable') {
    out.cpuShares = cpuShares;
    if (cpuLimitsDeclared) Object.assign(out, { cpuQuota, cpuPeriod: period });
    if (memoryLimitsDeclared) out.memory = memory;
  } else {
    out.cpuShares = MIN_SHARES;
  }
  if ((opts.podPidsLimit ?? 0) > 0) out.pidsLimit = opts.podPidsLimit;
  return out;
}

/**
 * Upstream setCPUCgroupConfig: burstable gets the shares of the summed cpu requests of the
 * active Burstable pods, besteffort always 2 shares. (The kubepods level gets nothing here.)
 */
export function qosCgroupConfigs(
  activePods: readonly Pod[],
  qosOf: (pod: Pod) => QOSClass,
): { burstable: ResourceConfig; besteffort: ResourceConfig } {
  let burstableMillis = 0;
  for (const pod of activePods) {
    if (qosOf(pod) === 'Burstable') burstableMillis += podRequests(pod).get('cpu') ?? 0;
  }
  return {
    burstable: { cpuShares: milliCpuToShares(burstableMillis) },
    besteffort: { cpuShares: MIN_SHARES },
  };
}

export interface NodeCapacity {
  cpuMillis: number;
  memoryBytes: number;
  /** min(kernel.pid_max, kernel.threads-max); undefined when unknown. */
  pids?: number;
}

export interface Reservation {
  cpuMillis: number;
  memoryBytes: number;
  pids: number;
}

/**
 * Upstream enforceNodeAllocatableCgroups: the kubepods cgroup gets capacity − kubeReserved −
 * systemReserved (clamped at 0) when enforceNodeAllocatable contains "pods", else capacity:
 * cpu as shares, memory as memory.max, pids as pids.max.
 */
export function nodeAllocatableConfig(
  capacity: NodeCapacity,
  reserved: readonly Reservation[],
  enforcePods: boolean,
): ResourceConfig {
  const minus = (v: number, pick: (r: Reservation) => number) =>
    enforcePods ? Math.max(0, v - reserved.reduce((s, r) => s + pick(r), 0)) : v;
  const out: ResourceConfig = {
    cpuShares: milliCpuToShares(minus(capacity.cpuMillis, (r) => r.cpuMillis)),
    memory: minus(capacity.memoryBytes, (r) => r.memoryBytes),
  };
  if (capacity.pids !== undefined) out.pidsLimit = minus(capacity.pids, (r) => r.pids);
  return out;
}

/**
 * The cgroup v2 files runc's fs2 manager writes for a config, in its order (pids, memory, cpu):
 * pids.max, memory.max ("max" for -1), cpu.weight (from shares), cpu.max ("<quota|max> <period>").
 * A value of 0 (unset) writes nothing, as libcontainer does.
 */
export function cgroupV2Files(c: ResourceConfig): [file: string, value: string][] {
  const out: [string, string][] = [];
  const num = (v: number) => (v < 0 ? 'max' : String(Math.floor(v)));
  if (c.pidsLimit) out.push(['pids.max', num(c.pidsLimit)]);
  if (c.memory) out.push(['memory.max', num(c.memory)]);
  if (c.cpuShares) out.push(['cpu.weight', String(cpuSharesToWeight(c.cpuShares))]);
  if (c.cpuQuota || c.cpuPeriod) {
    let v = c.cpuQuota && c.cpuQuota > 0 ? String(c.cpuQuota) : 'max';
    if (c.cpuPeriod) v += ` ${c.cpuPeriod}`;
    out.push(['cpu.max', v]);
  }
  return out;
}

/**
 * The same config as systemd unit properties, in `systemctl set-property` syntax (runc's
 * systemd v2 manager: MemoryMax, CPUWeight, CPUQuota rounded up to whole percent (10 ms per
 * second, as systemd stores it) with CPUQuotaPeriodSec, TasksMax). The exact cpu.max is written
 * to the file afterwards, as runc does.
 */
export function systemdProperties(c: ResourceConfig): string[] {
  const out: string[] = [];
  if (c.memory) out.push(`MemoryMax=${c.memory < 0 ? 'infinity' : Math.floor(c.memory)}`);
  if (c.cpuShares) out.push(`CPUWeight=${cpuSharesToWeight(c.cpuShares)}`);
  if (c.cpuQuota || c.cpuPeriod) {
    const period = c.cpuPeriod || QUOTA_PERIOD_US;
    if (c.cpuQuota && c.cpuQuota > 0) {
      const perSecUs = Math.ceil((c.cpuQuota * 1_000_000) / period / 10_000) * 10_000;
      out.push(`CPUQuota=${perSecUs / 10_000}%`);
    } else {
      out.push('CPUQuota=');
    }
    out.push(`CPUQuotaPeriodSec=${period / 1000}ms`);
  }
  if (c.pidsLimit) out.push(`TasksMax=${c.pidsLimit < 0 ? 'infinity' : c.pidsLimit}`);
  return out;
}
