import type { Pod } from '../api/types.js';
import type { CriClient } from '../cri/client.js';
import type { Pleg, PlegEvent } from '../cri/pleg.js';
import { RuntimeCache } from '../cri/runtimeCache.js';
import type { PodRuntimeStatus } from '../cri/runtimeState.js';
import type { StatusManager } from '../status/manager.js';
import { sleep } from '../util/abort.js';
import { errorMessage } from '../util/errors.js';
import { type Logger, silentLogger } from '../util/log.js';
import type { VolumeManager } from '../volumes/manager.js';
import type { AdmissionNode } from './admission.js';
import type { EventSink } from './events.js';
import { Housekeeping } from './housekeeping.js';
import type { ImageManager } from './images.js';
import type { PodSyncer } from './kuberuntime/manager.js';
import type { MirrorPods } from './mirrorPods.js';
import { PodConfig } from './podConfig.js';
import { PodLifecycle } from './podLifecycle.js';
import { PodSyncHandlers } from './podSync.js';
import { type KillRequest, PodWorkers } from './podWorkers.js';
import { StaticPodTracker } from './staticPodTracker.js';
import type { PodCgroupHooks, ProbeStatusView } from './syncTypes.js';

export type { PodCgroupHooks, ProbeStatusView } from './syncTypes.js';

export interface SyncLoopDeps {
  nodeName: string;
  cri: CriClient;
  pleg: Pleg;
  syncer: PodSyncer;
  images: ImageManager;
  volumes: VolumeManager;
  statusManager: StatusManager;
  events: EventSink;
  runtimeName: () => string;
  hostIPs: () => string[];
  admissionNode: () => AdmissionNode;
  probes?: ProbeStatusView;
  cgroups?: PodCgroupHooks;
  /** Mirror pods of static pods (absent: static pods run without API copies). */
  mirrors?: MirrorPods;
  logger?: Logger;
  now?: () => number;
  resyncMs?: number;
  housekeepingMs?: number;
}

/**
 * The kubelet's sync loop (upstream syncLoop / syncLoopIteration): dispatches pod config
 * changes to the pod lifecycle, PLEG events to the pod workers, and runs housekeeping every 2 s.
 * It builds the parts and decides nothing itself:
 *   podConfig → PodLifecycle (admission) → PodWorkers → PodSyncHandlers (podSync.ts)
 *   → kuberuntime → status manager; Housekeeping beside them.
 */
export class SyncLoop {
  readonly podConfig: PodConfig;
  readonly workers: PodWorkers;
  readonly lifecycle: PodLifecycle;
  readonly staticPods: StaticPodTracker;
  readonly runtimeCache: RuntimeCache;
  readonly startedAt: number;
  private readonly handlers: PodSyncHandlers;
  private readonly housekeeping: Housekeeping;
  private readonly d: SyncLoopDeps;
  private readonly log: Logger;
  private readonly now: () => number;

  constructor(d: SyncLoopDeps) {
    this.d = d;
    this.log = d.logger ?? silentLogger;
    this.now = d.now ?? Date.now;
    this.startedAt = this.now();
    this.runtimeCache = new RuntimeCache(d.cri, d.pleg);
    this.podConfig = new PodConfig((op, pod) => this.lifecycle.handle(op, pod));
    this.handlers = new PodSyncHandlers({
      ...d,
      runtimeCache: this.runtimeCache,
      desiredPod: (uid) => this.podConfig.get(uid),
      startedAt: this.startedAt,
    });
    this.workers = new PodWorkers({
      logger: this.log,
      resyncMs: d.resyncMs ?? 60_000,
      handlers: this.handlers,
    });
    this.staticPods = new StaticPodTracker({
      state: (uid) => this.workers.state(uid),
      pods: () => this.podConfig.all(),
      mirrorPods: () => this.podConfig.mirrorPods(),
      start: (pod) => this.workers.update(pod.metadata?.uid ?? '', { pod }),
      mirrors: d.mirrors,
      requeueStatus: (uid) => d.statusManager.requeue(uid),
    });
    this.podConfig.onMirror = (_op, mirror) => this.staticPods.mirrorChanged(mirror);
    this.handlers.onSynced = (pod) => this.staticPods.synced(pod);
    this.lifecycle = new PodLifecycle({
      ...d,
      podConfig: this.podConfig,
      workers: this.workers,
      handlers: this.handlers,
      staticPods: this.staticPods,
    });
    this.housekeeping = new Housekeeping({
      ...d,
      podConfig: this.podConfig,
      workers: this.workers,
      handlers: this.handlers,
      runtimeCache: this.runtimeCache,
      staticPods: this.staticPods,
    });
  }

  /** Runs housekeeping until `signal` aborts (the workers run on their own). */
  async run(signal: AbortSignal): Promise<void> {
    const period = this.d.housekeepingMs ?? 2_000;
    while (!signal.aborted) {
      await sleep(period, signal).catch(() => {});
      if (signal.aborted) break;
      const started = this.now();
      await this.housekeeping
        .run(signal)
        .catch((err) => this.log.warn({ err: errorMessage(err) }, 'housekeeping failed'));
      const took = this.now() - started;
      if (took > 1_000) this.log.warn({ ms: took }, 'housekeeping took longer than 1s');
    }
    this.workers.stop();
  }

  onPlegEvent(ev: PlegEvent): void {
    if (ev.type === 'ContainerRemoved') return;
    if (this.podConfig.get(ev.podUid) || this.workers.state(ev.podUid)) this.workers.syncSoon(ev.podUid);
  }

  /** Asks for a sync of a pod (probe result changes). */
  syncSoon(uid: string): void {
    this.lifecycle.syncSoon(uid);
  }

  /** Kills a pod with a status override (eviction, preemption). */
  killPod(uid: string, kill: KillRequest): void {
    this.lifecycle.killPod(uid, kill);
  }

  /** Pods that are admitted and not finished (for admission and eviction). */
  activePods(): Pod[] {
    return this.lifecycle.activePods();
  }

  runtimeStatus(uid: string): PodRuntimeStatus | undefined {
    return this.runtimeCache.get(uid);
  }
}
