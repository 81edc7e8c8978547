import type { Pod, PodStatus } from '../api/types.js';

/** What the sync layer needs from the probe manager (src/probes, wired by main). */
export interface ProbeStatusView {
  started(containerId: string): boolean | undefined;
  ready(containerId: string): boolean | undefined;
  /** Starts probe workers for the pod's containers (upstream probeManager.AddPod; idempotent). */
  addPod?(pod: Pod): void;
  /** A new status was stored for the pod (upstream UpdatePodStatus: readiness manual trigger). */
  statusUpdated?(uid: string, status: PodStatus): void;
  /** Stops liveness and startup probing of a terminating pod. */
  stopLivenessAndStartup?(uid: string): void;
  /** Stops every probe worker of a pod. */
  removePod?(uid: string): void;
  /** Stops the probe workers of every pod not in `keep`. */
  cleanupPods?(keep: ReadonlySet<string>): void;
}

/** The pod cgroups (src/cgroups' CgroupManager, wired by main; absent = cgroupsPerQOS off). */
export interface PodCgroupHooks {
  /** Before the pod's sandbox: create or update its cgroup (upstream SyncPod: EnsureExists). */
  ensurePod(pod: Pod): Promise<void>;
  /** After the pod terminated (upstream SyncTerminatedPod): remove its cgroup. */
  removePod(pod: Pod): Promise<void>;
  /** Housekeeping (upstream cleanupOrphanedPodCgroups): remove cgroups of pods not in the set. */
  cleanupOrphans(possiblyRunning: ReadonlySet<string>): Promise<unknown>;
}
