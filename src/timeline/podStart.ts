import type { Pod } from '../api/types.js';
import type { TimelineEntry } from './types.js';

/**
 * PURE: upstream's pod startup latency SLI (pkg/kubelet/util/pod_startup_latency_tracker.go)
 * computed from a pod's timeline: from creation to the watch observing every container started,
 * minus the time spent pulling images (overlapping pulls counted once) and running init
 * containers; stateful pods are left out of the SLI histogram.
 */

export interface PodStartObservation {
  uid: string;
  namespace: string;
  name: string;
  /** Creation → observed running, seconds (kubelet_pod_start_total_duration_seconds). */
  totalSeconds: number;
  /** The SLI (kubelet_pod_start_sli_duration_seconds); absent for stateful pods. */
  sliSeconds?: number;
  imagePullSeconds: number;
  initSeconds: number;
}

/** Upstream hasPodStartedSLO: every container's state is running with a start time. */
export function hasPodStartedSLO(pod: Pod): boolean {
  return (pod.status?.containerStatuses ?? []).every((cs) => !!cs.state?.running?.startedAt);
}

/** Upstream isPodUnschedulable: PodScheduled is False. */
export function isPodUnschedulable(pod: Pod): boolean {
  return (pod.status?.conditions ?? []).some((c) => c.type === 'PodScheduled' && c.status === 'False');
}

/** Upstream isStatefulPod: a volume other than secret, configMap, downwardAPI, emptyDir, projected. */
export function isStatefulPod(pod: Pod): boolean {
  return (pod.spec?.volumes ?? []).some(
    (v) => !v.secret && !v.configMap && !v.downwardAPI && !v.emptyDir && !v.projected,
  );
}

/** Upstream calculateImagePullingTime: the union of the pulls' intervals (ms). */
export function imagePullingMs(
  entries: readonly Pick<TimelineEntry, 'kind' | 'step' | 'at' | 'durationMs'>[],
): number {
  const pulls = entries
    .filter((e) => e.kind === 'image' && e.step.startsWith('pull ') && e.durationMs !== undefined)
    .map((e) => [e.at, e.at + (e.durationMs ?? 0)] as const)
    .sort((a, b) => a[0] - b[0]);
  let total = 0;
  let end = Number.NEGATIVE_INFINITY;
  for (const [s, e] of pulls) {
    if (s > end) {
      total += e - s;
      end = e;
    } else if (e > end) {
      total += e - end;
      end = e;
    }
  }
  return total;
}

/** The run time of the pod's completed (non-sidecar) init containers, from their statuses (ms). */
export function initContainersMs(pod: Pod): number {
  let total = 0;
  for (const s of pod.status?.initContainerStatuses ?? []) {
    const t = s.state?.terminated;
    if (!t?.startedAt || !t.finishedAt) continue;
    const d = Date.parse(t.finishedAt) - Date.parse(t.startedAt);
    if (d > 0) total += d;
  }
  return total;
}

/** The observation for a pod the watch now sees started at `whenMs` (epoch ms). */
export function podStartObservation(
  pod: Pod,
  entries: readonly Pick<TimelineEntry, 'kind' | 'step' | 'at' | 'durationMs'>[],
  whenMs: number,
): PodStartObservation | undefined {
  const created = Date.parse(pod.metadata?.creationTimestamp ?? '');
  if (!Number.isFinite(created)) return undefined;
  const total = Math.max(0, whenMs - created);
  const pulls = imagePullingMs(entries);
  const init = initContainersMs(pod);
  return {
    uid: pod.metadata?.uid ?? '',
    namespace: pod.metadata?.namespace ?? '',
    name: pod.metadata?.name ?? '',
    totalSeconds: total / 1000,
    ...(isStatefulPod(pod) ? {} : { sliSeconds: (total - pulls - init) / 1000 }),
    imagePullSeconds: pulls / 1000,
    initSeconds: init / 1000,
  };
}
