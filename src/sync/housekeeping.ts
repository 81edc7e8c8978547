import type { Pleg } from '../cri/pleg.js';
import type { RuntimeCache } from '../cri/runtimeCache.js';
import type { StatusManager } from '../status/manager.js';
import { errorMessage } from '../util/errors.js';
import { type Logger, silentLogger } from '../util/log.js';
import { Semaphore } from '../util/semaphore.js';
import type { VolumeManager } from '../volumes/manager.js';
import type { ImageManager } from './images.js';
import type { PodSyncer } from './kuberuntime/manager.js';
import type { PodConfig } from './podConfig.js';
import type { PodSyncHandlers } from './podSync.js';
import type { PodWorkers } from './podWorkers.js';
import type { StaticPodTracker } from './staticPodTracker.js';
import type { PodCgroupHooks, ProbeStatusView } from './syncTypes.js';

export interface HousekeepingDeps {
  pleg: Pleg;
  podConfig: PodConfig;
  workers: PodWorkers;
  handlers: PodSyncHandlers;
  syncer: PodSyncer;
  runtimeCache: RuntimeCache;
  statusManager: StatusManager;
  volumes: VolumeManager;
  images: ImageManager;
  probes?: ProbeStatusView;
  cgroups?: PodCgroupHooks;
  /** Static pods waiting for their predecessor, and mirror pods. */
  staticPods?: StaticPodTracker;
  logger?: Logger;
  now?: () => number;
}

/**
 * Upstream HandlePodCleanups, every 2 s: forgets finished workers of pods gone from the API
 * (removing their runtime objects and files in the background), kills runtime pods nobody asked
 * for, removes dead containers beyond the newest two instances, and cleans up statuses, pod
 * cgroups, probe workers, the runtime cache, images and pod directories of pods nothing knows.
 */
export class Housekeeping {
  /** Finished pods being (or just) removed from the runtime, by UID → when (bounded by the 60 s expiry). */
  private readonly removed = new Map<string, number>();
  private readonly removals = new Semaphore(4);
  private readonly d: HousekeepingDeps;
  private readonly log: Logger;
  private readonly now: () => number;

  constructor(d: HousekeepingDeps) {
    this.d = d;
    this.log = d.logger ?? silentLogger;
    this.now = d.now ?? Date.now;
  }

  /** Removes a finished pod's containers, sandboxes and files; at most 4 pods at a time. */
  private removeInBackground(uid: string, signal: AbortSignal): void {
    if (this.removed.has(uid)) return;
    this.removed.set(uid, this.now());
    void this.removals
      .run(async () => {
        await this.d.syncer.removePod(await this.d.runtimeCache.refresh(uid, signal), signal);
        this.d.runtimeCache.delete(uid);
        await this.d.volumes.tearDownPod(uid);
      }, signal)
      .catch((err) => {
        if (!signal.aborted) this.log.warn({ uid, err: errorMessage(err) }, 'removing a finished pod failed');
      });
  }

  /** Upstream HandlePodCleanups, trimmed to what we run. */
  async run(signal: AbortSignal): Promise<void> {
    // Static pods and their mirrors do not wait for the API source (a control plane boots so).
    this.d.staticPods?.housekeeping(this.d.podConfig.sourcesReady);
    if (!this.d.podConfig.sourcesReady || !this.d.pleg.hasRelisted) return;
    const known = new Set(this.d.podConfig.all().map((p) => p.metadata?.uid ?? ''));
    // Workers of pods gone from the API: forget them once finished, and remove their runtime
    // objects and files in the background (bounded), so housekeeping itself stays short.
    for (const uid of this.d.workers.uids()) {
      if (!known.has(uid) && this.d.workers.state(uid) === 'finished') {
        this.d.workers.forget(uid);
        this.d.syncer.forgetPod(uid);
        this.d.handlers.forget(uid);
        this.d.runtimeCache.delete(uid);
        this.removeInBackground(uid, signal);
      }
    }
    // Runtime pods nobody asked for: kill and remove them (grace 1 s). Pods this kubelet just
    // finished and is removing are not orphans, whatever a slightly older relist still shows.
    const now = this.now();
    for (const [uid, at] of this.removed) if (now - at > 60_000) this.removed.delete(uid);
    for (const [uid, ref] of this.d.pleg.runtimePods()) {
      if (known.has(uid) || this.d.workers.state(uid) !== undefined || this.removed.has(uid)) continue;
      this.d.workers.update(uid, { runtimePod: ref, kill: { graceSeconds: 1 } });
    }
    // Dead containers beyond the newest two instances per container of pods we still run.
    for (const uid of known) {
      const rt = this.d.runtimeCache.get(uid);
      if (rt) await this.d.syncer.gc.removeDeadContainers(rt, 2, signal);
    }
    this.d.statusManager.removeOrphanedStatuses(known);
    if (this.d.cgroups) {
      // Pod cgroups of pods that can no longer run anything (not known, no worker, no runtime pod).
      const keep = new Set([
        ...known,
        ...this.d.workers.uids().filter((u) => this.d.workers.state(u) !== 'finished'),
      ]);
      for (const uid of this.d.pleg.runtimePods().keys()) keep.add(uid);
      await this.d.cgroups
        .cleanupOrphans(keep)
        .catch((err) => this.log.warn({ err: errorMessage(err) }, 'removing orphaned pod cgroups failed'));
    }
    // Probes only for pods that may still run containers (upstream CleanupPods).
    const possiblyRunning = new Set(
      this.d.workers.uids().filter((uid) => {
        const st = this.d.workers.state(uid);
        return st === 'sync' || st === 'terminating';
      }),
    );
    this.d.probes?.cleanupPods?.(possiblyRunning);
    for (const uid of [...this.d.runtimeCache.uids()]) {
      if (!known.has(uid) && this.d.workers.state(uid) === undefined) this.d.runtimeCache.delete(uid);
    }
    this.d.images.gc();
    // Upstream cleanupOrphanedPodDirs: files and tmpfs volumes of pods nothing knows any more.
    const runtimeUids = this.d.pleg.runtimePods().keys();
    await this.d.volumes.cleanupOrphanedPodDirs(
      new Set([...known, ...this.d.workers.uids(), ...runtimeUids, ...this.removed.keys()]),
    );
  }
}
