import type { Pod } from '../api/types.js';
import type { CriClient } from '../cri/client.js';
import { Pleg } from '../cri/pleg.js';
import { LifecycleHandlerRunner, ProbeManager, type ProbeRunMetric } from '../probes/index.js';
import { type StatusApi, StatusManager } from '../status/manager.js';
import type { Logger } from '../util/log.js';
import { Semaphore } from '../util/semaphore.js';
import type { VolumeManager } from '../volumes/manager.js';
import type { AdmissionNode } from './admission.js';
import type { EnvLookup } from './env.js';
import type { EventSink } from './events.js';
import type { ImageManager } from './images.js';
import { PodSyncer } from './kuberuntime/manager.js';
import type { SyncerConfig } from './kuberuntime/types.js';
import { type MirrorPodApi, MirrorPods } from './mirrorPods.js';
import { podFullName } from './podConfig.js';
import { SyncLoop } from './syncLoop.js';
import type { PodCgroupHooks } from './syncTypes.js';

export interface SyncCoreInputs {
  cri: CriClient;
  /** Where pod statuses are patched (the apiserver; a fake in tests). */
  statusApi: StatusApi;
  images: ImageManager;
  volumes: VolumeManager;
  events: EventSink;
  envLookup: EnvLookup;
  hostIPs: () => string[];
  runtimeName: () => string;
  admissionNode: () => AdmissionNode;
  syncer: SyncerConfig;
  /** Sandbox/container create and start calls in flight at once. */
  criConcurrency: number;
  cgroups?: PodCgroupHooks;
  /** Where static pods' mirror pods are created and deleted (absent: no mirror pods). */
  mirrorApi?: MirrorPodApi;
  logger?: Logger;
  relistPeriodMs?: number;
  housekeepingMs?: number;
  resyncMs?: number;
  observeProbe?: (m: ProbeRunMetric) => void;
}

/**
 * The kubelet's sync core, built the same way by the composition root and the test harness:
 * PLEG, status manager, probe manager, kuberuntime manager and the sync loop, with their
 * reactions wired through subscriptions (PLEG events and probe results → the pod workers; the
 * workers' states → the status manager).
 */
export function createSyncCore(x: SyncCoreInputs) {
  const log = x.logger;
  const pleg = new Pleg({
    cri: x.cri,
    ...(log ? { logger: log } : {}),
    ...(x.relistPeriodMs !== undefined ? { relistPeriodMs: x.relistPeriodMs } : {}),
  });
  const statusManager = new StatusManager({
    client: x.statusApi,
    ...(log ? { log } : {}),
    // A static pod's status goes to its mirror pod.
    mirrorUidOf: (pod: Pod): string | undefined =>
      syncLoop.podConfig.mirrorPod(podFullName(pod))?.metadata?.uid,
  });
  const probeManager = new ProbeManager({
    exec: x.cri,
    events: x.events,
    podStatus: (uid) => statusManager.getPodStatus(uid),
    ...(log ? { logger: log } : {}),
    ...(x.observeProbe ? { observe: x.observeProbe } : {}),
  });
  const syncer = new PodSyncer({
    cri: x.cri,
    images: x.images,
    volumes: x.volumes,
    events: x.events,
    envLookup: x.envLookup,
    hostIPs: x.hostIPs,
    criLimiter: new Semaphore(x.criConcurrency),
    probes: { liveness: probeManager.liveness, startup: probeManager.startup },
    hooks: new LifecycleHandlerRunner({ exec: x.cri, events: x.events }),
    config: x.syncer,
    ...(log ? { logger: log } : {}),
  });
  const syncLoop: SyncLoop = new SyncLoop({
    nodeName: x.syncer.nodeName,
    cri: x.cri,
    pleg,
    syncer,
    images: x.images,
    volumes: x.volumes,
    statusManager,
    events: x.events,
    runtimeName: x.runtimeName,
    hostIPs: x.hostIPs,
    admissionNode: x.admissionNode,
    probes: probeManager,
    cgroups: x.cgroups,
    mirrors: x.mirrorApi
      ? new MirrorPods({
          api: x.mirrorApi,
          nodeName: x.syncer.nodeName,
          mirrorOf: (fullName: string): Pod | undefined => syncLoop.podConfig.mirrorPod(fullName),
          ...(log ? { logger: log } : {}),
        })
      : undefined,
    logger: log,
    resyncMs: x.resyncMs,
    housekeepingMs: x.housekeepingMs,
  });
  pleg.subscribe((ev) => syncLoop.onPlegEvent(ev));
  probeManager.subscribe((u) => syncLoop.syncSoon(u.podUid));
  // A terminal phase may be reported once the pod's worker stopped all its containers.
  const podActive = (uid: string): boolean => {
    const st = syncLoop.workers.state(uid);
    return st === 'sync' || st === 'terminating';
  };
  statusManager.setCouldHaveRunningContainers(podActive);
  return {
    pleg,
    statusManager,
    probeManager,
    syncer,
    syncLoop,
    podActive,
    activePods: (): Pod[] => syncLoop.activePods(),
  };
}

export type SyncCore = ReturnType<typeof createSyncCore>;
