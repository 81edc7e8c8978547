import type { Container, Pod } from '../../api/types.js';
import type { CriClient } from '../../cri/client.js';
import type { PodRuntimeStatus } from '../../cri/runtimeState.js';
import type { PodSandboxConfig } from '../../cri/types.js';
import type { Logger } from '../../util/log.js';
import type { Semaphore } from '../../util/semaphore.js';
import type { VolumeManager, VolumeMountSource } from '../../volumes/manager.js';
import type { DnsSettings } from '../dns.js';
import type { EnvLookup } from '../env.js';
import type { SyncError } from '../errors.js';
import type { EventSink } from '../events.js';
import type { ImageManager } from '../images.js';
import type { PodActions, ProbeResult } from '../plan.js';

export interface SyncerConfig {
  nodeName: string;
  podLogsDir: string;
  clusterDomain: string;
  dns: DnsSettings;
  cgroupV2: boolean;
  cpuCfsQuota: boolean;
  memoryCapacityBytes: number;
  allocatable: { cpuMillis: number; memoryBytes: number; ephemeralBytes: number };
  /** Pod cgroup parent for a pod ('' when cgroupsPerQOS is off). */
  cgroupParent: (pod: Pod) => string;
}

/** A postStart/preStop handler (v1.LifecycleHandler). */
export type LifecycleHandler = NonNullable<NonNullable<Container['lifecycle']>['postStart']>;

/** The outcome of a lifecycle hook; `message` is upstream's detailed text (never put in events). */
export type HookOutcome = { ok: true } | { ok: false; message: string };

/** Runs postStart/preStop handlers (src/probes' LifecycleHandlerRunner, wired by main). */
export interface LifecycleHookRunner {
  run(
    input: {
      pod: Pod;
      container: Container;
      containerId: string;
      handler: LifecycleHandler;
      podIPs: readonly string[];
    },
    signal?: AbortSignal,
  ): Promise<HookOutcome>;
}

export interface SyncerDeps {
  cri: CriClient;
  images: ImageManager;
  volumes: VolumeManager;
  events: EventSink;
  envLookup: EnvLookup;
  hostIPs: () => string[];
  /** Bounds the heavy runtime calls (RunPodSandbox, Create/StartContainer) across all pods. */
  criLimiter: Semaphore;
  probes: { liveness(id: string): ProbeResult | undefined; startup(id: string): ProbeResult | undefined };
  /** postStart/preStop hooks; without it hooks are not run. */
  hooks?: LifecycleHookRunner;
  config: SyncerConfig;
  logger?: Logger;
  now?: () => number;
}

export interface StartFailure {
  reason: string;
  message: string;
}

/** Outcome of one SyncPod pass. */
export interface SyncResult {
  actions: PodActions;
  /** Something was created, started or killed: re-inspect the pod at once. */
  changed: boolean;
  /** Errors other than back-offs (the worker retries sooner for these). */
  errors: SyncError[];
  /** Earliest time a back-off expires (epoch ms), to requeue then. */
  retryAt?: number;
}

export const MIN_GRACE_SECONDS = 2;

// Priorities on the shared CRI limiter: finish pods already under way before opening new ones.
export const PRIORITY_SANDBOX = 0;
export const PRIORITY_CREATE = 1;
export const PRIORITY_START = 2;

/** What one SyncPod pass hands to each container start. */
export interface StartContext {
  pod: Pod;
  rt: PodRuntimeStatus | undefined;
  sandboxId: string;
  sandbox: PodSandboxConfig;
  podIPs: string[];
  volumes: Map<string, VolumeMountSource>;
  hostsPath: string;
  podDir: string;
  signal: AbortSignal;
  result: SyncResult;
}
