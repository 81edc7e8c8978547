/**
 * PURE: which pod goes first (upstream pkg/kubelet/eviction/helpers.go rankMemoryPressure,
 * rankPIDPressure, rankDiskPressureFunc) and which pods are never evicted
 * (pkg/kubelet/types IsCriticalPod).
 */

import { podRequests } from '../api/resources.js';
import type { Pod } from '../api/types.js';
import type { EvictionSignal, PodUsage, ReclaimResource, StatsFunc } from './types.js';

type Cmp = (a: Pod, b: Pod) => number;

/** true before false. */
const cmpBool = (a: boolean, b: boolean) => (a === b ? 0 : a ? -1 : 1);

const uidOf = (p: Pod) => p.metadata?.uid ?? '';

function orderedBy(...cmps: Cmp[]): Cmp {
  return (a, b) => {
    for (const c of cmps) {
      const r = c(a, b);
      if (r !== 0) return r;
    }
    return 0;
  };
}

/** Lower priority first. */
export const byPriority: Cmp = (a, b) => {
  const pa = a.spec?.priority ?? 0;
  const pb = b.spec?.priority ?? 0;
  return pa === pb ? 0 : pa > pb ? 1 : -1;
};

/** Pods without stats first (upstream: "prioritize evicting the pod for which no stats were found"). */
function withStats(stats: StatsFunc, f: (a: PodUsage, b: PodUsage, pa: Pod, pb: Pod) => number): Cmp {
  return (pa, pb) => {
    const a = stats(uidOf(pa));
    const b = stats(uidOf(pb));
    if (!a || !b) return cmpBool(!a, !b);
    return f(a, b, pa, pb);
  };
}

export function podMemoryUsage(s: PodUsage): number {
  return s.memoryWorkingSetBytes ?? 0;
}

/** Ephemeral storage of a pod: writable layers + logs (local volumes are not measured here). */
export function podDiskUsage(s: PodUsage, resource: 'ephemeral-storage' | 'inodes'): number {
  let n = 0;
  for (const c of s.containers) {
    n +=
      resource === 'inodes' ? (c.rootfsInodesUsed ?? 0) : (c.rootfsUsedBytes ?? 0) + (c.logsUsedBytes ?? 0);
  }
  return n;
}

const request = (pod: Pod, resource: string) => podRequests(pod).get(resource) ?? 0;

/** Upstream rankMemoryPressure: usage above request first, then lower priority, then larger usage − request. */
export function memoryRanking(stats: StatsFunc): Cmp {
  const exceeds = withStats(stats, (a, b, pa, pb) =>
    cmpBool(podMemoryUsage(a) > request(pa, 'memory'), podMemoryUsage(b) > request(pb, 'memory')),
  );
  const usage = withStats(stats, (a, b, pa, pb) => {
    const da = podMemoryUsage(a) - request(pa, 'memory');
    const db = podMemoryUsage(b) - request(pb, 'memory');
    return db === da ? 0 : db > da ? 1 : -1;
  });
  return orderedBy(exceeds, byPriority, usage);
}

/** Upstream rankPIDPressure: lower priority first, then more processes. */
export function pidRanking(stats: StatsFunc): Cmp {
  const procs = withStats(stats, (a, b) => {
    const na = a.processCount ?? 0;
    const nb = b.processCount ?? 0;
    return na === nb ? 0 : nb > na ? 1 : -1;
  });
  return orderedBy(byPriority, procs);
}

/** Upstream rankDiskPressureFunc: usage above request first, then priority, then usage − request. */
export function diskRanking(stats: StatsFunc, resource: 'ephemeral-storage' | 'inodes'): Cmp {
  const req = (p: Pod) => (resource === 'inodes' ? 0 : request(p, 'ephemeral-storage'));
  const exceeds = withStats(stats, (a, b, pa, pb) =>
    cmpBool(podDiskUsage(a, resource) > req(pa), podDiskUsage(b, resource) > req(pb)),
  );
  const usage = withStats(stats, (a, b, pa, pb) => {
    const da = podDiskUsage(a, resource) - req(pa);
    const db = podDiskUsage(b, resource) - req(pb);
    return db === da ? 0 : db > da ? 1 : -1;
  });
  return orderedBy(exceeds, byPriority, usage);
}

/** The ranking for a signal (upstream signalToRankFunc); undefined for signals without one. */
export function rankingFor(
  signal: EvictionSignal,
  resource: ReclaimResource,
  stats: StatsFunc,
): Cmp | undefined {
  switch (resource) {
    case 'memory':
      return memoryRanking(stats);
    case 'pids':
      return pidRanking(stats);
    case 'ephemeral-storage':
      return diskRanking(stats, 'ephemeral-storage');
    case 'inodes':
      return diskRanking(stats, 'inodes');
    default:
      void signal;
      return undefined;
  }
}

/** Pods in eviction order (a stable sort of a copy). */
export function rankPods(pods: readonly Pod[], cmp: Cmp): Pod[] {
  return [...pods].sort(cmp);
}
