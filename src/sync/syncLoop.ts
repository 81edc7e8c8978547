import type { Pod, PodStatus } from '../api/types.js';
import type { CriClient } from '../cri/client.js';
import { inspectPod } from '../cri/inspect.js';
import type { Pleg, PlegEvent, RuntimePodRef } from '../cri/pleg.js';
import type { PodRuntimeStatus } from '../cri/runtimeState.js';
import { needToReconcilePodReadiness } from '../status/conditions.js';
import { generatePodStatus, rejectedPodStatus, type StatusOverride } from '../status/generate.js';
import type { StatusManager } from '../status/manager.js';
import { isStaticPod } from '../status/podutil.js';
import { sleep } from '../util/abort.js';
import { type Logger, silentLogger } from '../util/log.js';
import { Semaphore } from '../util/semaphore.js';
import type { VolumeManager } from '../volumes/manager.js';
import type { AdmissionNode } from './admission.js';
import { readTerminationMessage, tailLogMessage } from './containerFiles.js';
import { podDesc } from './criConfig.js';
import { type EventSink, podRef } from './events.js';
import type { ImageManager } from './images.js';
import type { MirrorPods } from './mirrorPods.js';
import { podSandboxChanged } from './plan.js';
import { PodConfig, type PodOp } from './podConfig.js';
import type { PodSyncer } from './podSyncer.js';
import { type KillRequest, PodWorkers, type SyncOutcome } from './podWorkers.js';
import {
  admitWithPreemption,
  PREEMPT_CONDITION_MESSAGE,
  PREEMPT_MESSAGE,
  PREEMPT_REASON,
} from './preemption.js';
import { StaticPodTracker } from './staticPodTracker.js';

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

const noProbes: ProbeStatusView = { started: () => undefined, ready: () => undefined };

/**
 * The kubelet's sync loop: takes pod updates from the API source, runs one worker per pod
 * (PodWorkers), reacts to PLEG events, generates status after every pass, and does
 * housekeeping (orphaned runtime pods, finished workers, dead containers) every 2 s.
 */
export class SyncLoop {
  readonly podConfig: PodConfig;
  readonly workers: PodWorkers;
  readonly staticPods: StaticPodTracker;
  private readonly runtimeCache = new Map<string, PodRuntimeStatus>();
  private readonly rejected = new Set<string>();
  private readonly overrides = new Map<string, StatusOverride>();
  /** Finished pods being (or just) removed from the runtime, by UID → when (bounded by the 60 s expiry). */
  private readonly removed = new Map<string, number>();
  private readonly removals = new Semaphore(4);
  private readonly log: Logger;
  private readonly now: () => number;
  readonly startedAt: number;

  constructor(private readonly d: SyncLoopDeps) {
    this.log = d.logger ?? silentLogger;
    this.now = d.now ?? Date.now;
    this.startedAt = this.now();
    this.podConfig = new PodConfig((op, pod) => this.handle(op, pod));
    this.workers = new PodWorkers({
      logger: this.log,
      resyncMs: d.resyncMs ?? 60_000,
      handlers: {
        syncPod: (pod, signal) => this.syncPod(pod, signal),
        syncTerminatingPod: (pod, grace, kill, signal) => this.syncTerminatingPod(pod, grace, kill, signal),
        syncTerminatedPod: (pod, kill, signal) => this.syncTerminatedPod(pod, kill, signal),
        syncTerminatingRuntimePod: (ref, signal) => this.syncTerminatingRuntimePod(ref, signal),
      },
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
  }

  /** Runs housekeeping until `signal` aborts (the workers run on their own). */
  async run(signal: AbortSignal): Promise<void> {
    const period = this.d.housekeepingMs ?? 2_000;
    while (!signal.aborted) {
      await sleep(period, signal).catch(() => {});
      if (signal.aborted) break;
      const started = this.now();
      await this.housekeeping(signal).catch((err) =>
        this.log.warn({ err: String(err) }, 'housekeeping failed'),
      );
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
    this.workers.syncSoon(uid);
  }

  /** Kills a pod with a status override (eviction, preemption). */
  killPod(uid: string, kill: KillRequest): void {
    const pod = this.podConfig.get(uid);
    if (!pod) return;
    if (kill.status) this.overrides.set(uid, kill.status);
    this.workers.update(uid, { pod, kill });
  }

  /** Preempts a pod to admit a critical one (upstream CriticalPodAdmissionHandler). */
  private preempt(victim: Pod, admitting: Pod): void {
    this.d.events.event(podRef(victim), 'Warning', PREEMPT_REASON, PREEMPT_MESSAGE);
    this.log.info(
      { pod: podDesc(victim), requestingPod: podDesc(admitting) },
      'Preempting pod to free up resources',
    );
    this.killPod(victim.metadata?.uid ?? '', {
      status: {
        reason: PREEMPT_REASON,
        message: PREEMPT_MESSAGE,
        disruptionTarget: true,
        conditionMessage: PREEMPT_CONDITION_MESSAGE,
      },
    });
  }

  /** Pods that are admitted and not finished (for admission and eviction). */
  activePods(): Pod[] {
    return this.podConfig.all().filter((p) => {
      const uid = p.metadata?.uid ?? '';
      if (this.rejected.has(uid)) return false;
      const st = this.workers.state(uid);
      return st === 'sync' || st === 'terminating' || (st === undefined && !isTerminal(p));
    });
  }

  runtimeStatus(uid: string): PodRuntimeStatus | undefined {
    return this.runtimeCache.get(uid);
  }

  private handle(op: PodOp, pod: Pod): void {
    const uid = pod.metadata?.uid ?? '';
    switch (op) {
      case 'ADD': {
        if (this.workers.state(uid) === undefined && !isTerminal(pod) && !pod.metadata?.deletionTimestamp) {
          const verdict = admitWithPreemption(
            pod,
            this.activePods().filter((p) => p.metadata?.uid !== uid),
            this.d.admissionNode(),
          );
          if (!verdict.admit) {
            this.rejected.add(uid);
            this.d.events.event(podRef(pod), 'Warning', verdict.reason, verdict.message);
            this.d.statusManager.setPodStatus(pod, rejectedPodStatus(pod, verdict.reason, verdict.message));
            this.log.info({ pod: podDesc(pod), reason: verdict.reason }, 'pod rejected by admission');
            return;
          }
          for (const victim of verdict.preempt) this.preempt(victim, pod);
        }
        if (this.rejected.has(uid) || !this.staticPods.mayStart(pod)) return;
        this.workers.update(uid, { pod });
        return;
      }
      case 'UPDATE':
      case 'DELETE':
        if (this.rejected.has(uid)) {
          if (pod.metadata?.deletionTimestamp) this.d.statusManager.terminatePod(pod);
          return;
        }
        if (this.staticPods.isWaiting(uid)) return;
        this.workers.update(uid, { pod });
        return;
      case 'RECONCILE':
        // Upstream HandlePodReconcile: only a readiness-gate change needs a sync now.
        if (this.rejected.has(uid) || this.workers.state(uid) === undefined) return;
        if (needToReconcilePodReadiness(pod)) this.workers.update(uid, { pod });
        return;
      case 'REMOVE':
        this.rejected.delete(uid);
        this.staticPods.removed(pod);
        if (this.workers.state(uid) === undefined) return;
        // An API pod is gone after its graceful deletion; a static pod whose manifest went away
        // gets its own grace period (upstream deletePod: a kill without override).
        this.workers.update(uid, { pod, kill: isStaticPod(pod) ? {} : { graceSeconds: 1 } });
        return;
    }
  }

  private async inspect(uid: string, signal?: AbortSignal): Promise<PodRuntimeStatus> {
    const rt = await inspectPod(this.d.cri, uid, this.runtimeCache.get(uid), signal);
    this.runtimeCache.set(uid, rt);
    return rt;
  }

  /**
   * True when the runtime certainly has nothing of this pod: this process relisted the runtime
   * and saw none of it, and never created anything for it (what it creates it inspects and
   * caches). A new pod then gets its first status and its sandbox without two CRI list calls
   * that queue behind other pods' work.
   */
  private knownAbsent(uid: string): boolean {
    return this.d.pleg.hasRelisted && !this.runtimeCache.has(uid) && !this.d.pleg.runtimePods().has(uid);
  }

  private async terminationMessages(pod: Pod, rt: PodRuntimeStatus): Promise<Map<string, string>> {
    const out = new Map<string, string>();
    const specs = [
      ...(pod.spec?.containers ?? []),
      ...(pod.spec?.initContainers ?? []),
      ...(pod.spec?.ephemeralContainers ?? []),
    ];
    await Promise.all(
      rt.containers
        .filter((c) => c.state === 'exited')
        .map(async (c) => {
          let msg = await readTerminationMessage(c.terminationLogPath);
          const spec = specs.find((s) => s.name === c.name);
          if (!msg && c.exitCode !== 0 && spec?.terminationMessagePolicy === 'FallbackToLogsOnError') {
            msg = await tailLogMessage(c.logPath);
          }
          if (msg) out.set(c.id, msg);
        }),
    );
    return out;
  }

  private async generate(pod: Pod, rt: PodRuntimeStatus, podIsTerminal: boolean): Promise<PodStatus> {
    const uid = pod.metadata?.uid ?? '';
    const [changed] = podSandboxChanged(pod, rt);
    return generatePodStatus({
      pod,
      runtime: rt,
      previous: this.d.statusManager.getPodStatus(uid) ?? pod.status,
      nodeIPs: this.d.hostIPs(),
      now: this.now(),
      runtimeName: this.d.runtimeName(),
      startFailures: this.d.syncer.startFailures(uid),
      probes: this.d.probes ?? noProbes,
      terminationMessages: await this.terminationMessages(pod, rt),
      podIsTerminal,
      sandboxReady: !changed,
      override: this.overrides.get(uid),
      kubeletStartedAt: this.startedAt,
    });
  }

  /** Stores a generated status, and hands it to the probe workers (upstream UpdatePodStatus). */
  private storeStatus(pod: Pod, status: PodStatus): void {
    this.d.statusManager.setPodStatus(pod, status);
    this.d.probes?.statusUpdated?.(pod.metadata?.uid ?? '', status);
  }

  private activeDeadlineExceeded(pod: Pod, status: PodStatus): boolean {
    const ads = pod.spec?.activeDeadlineSeconds;
    const start = status.startTime ?? pod.status?.startTime;
    if (ads === undefined || ads === null || !start) return false;
    return this.now() - Date.parse(start) >= ads * 1000;
  }

  private async syncPod(pod: Pod, signal: AbortSignal): Promise<SyncOutcome> {
    const uid = pod.metadata?.uid ?? '';
    let rt = this.knownAbsent(uid) ? emptyRuntime(pod) : await this.inspect(uid, signal);
    let status = await this.generate(pod, rt, false);
    if (!this.overrides.has(uid) && this.activeDeadlineExceeded(pod, status)) {
      const message = 'Pod was active on the node longer than the specified deadline';
      this.d.events.event(podRef(pod), 'Normal', 'DeadlineExceeded', message);
      this.overrides.set(uid, { reason: 'DeadlineExceeded', message });
      status = await this.generate(pod, rt, false);
    }
    this.storeStatus(pod, status);
    if (isTerminal({ status })) return { terminal: true };
    this.staticPods.synced(pod);

    this.d.probes?.addPod?.(pod);
    if (this.d.cgroups) {
      try {
        await this.d.cgroups.ensurePod(pod);
      } catch (err) {
        const msg = `unable to ensure pod container exists: ${err instanceof Error ? err.message : String(err)}`;
        this.d.events.event(podRef(pod), 'Warning', 'FailedCreatePodContainer', msg);
        return { terminal: false, requeueAfterMs: 10_000 };
      }
    }
    const res = await this.d.syncer.syncPod(pod, rt, signal);
    if (res.changed || res.errors.length > 0 || this.d.syncer.startFailures(uid).size > 0) {
      rt = await this.inspect(uid, signal);
      status = await this.generate(pod, rt, false);
      this.storeStatus(pod, status);
      if (isTerminal({ status })) return { terminal: true };
    }
    if (res.retryAt !== undefined)
      return { terminal: false, requeueAfterMs: Math.max(100, res.retryAt - this.now() + 50) };
    if (res.errors.length > 0) {
      const networkNotReady = res.errors.some((e) => /network is not ready/.test(e.message));
      return {
        terminal: false,
        requeueAfterMs: networkNotReady
          ? 1_000
          : res.errors.some((e) => e.reason === 'FailedMount')
            ? 2_000
            : 10_000,
      };
    }
    return { terminal: false };
  }

  private async syncTerminatingPod(
    pod: Pod,
    grace: number,
    kill: KillRequest | undefined,
    signal: AbortSignal,
  ): Promise<void> {
    const uid = pod.metadata?.uid ?? '';
    if (kill?.status) this.overrides.set(uid, kill.status);
    let rt = await this.inspect(uid, signal);
    this.storeStatus(pod, await this.generate(pod, rt, false));
    this.d.probes?.stopLivenessAndStartup?.(uid);
    const override = kill?.graceSeconds !== undefined || pod.metadata?.deletionTimestamp ? grace : undefined;
    await this.d.syncer.killPodContainers(pod, rt, override, signal);
    this.d.probes?.removePod?.(uid);
    rt = await this.inspect(uid, signal);
    const still = rt.containers.filter((c) => c.state === 'running');
    if (still.length > 0) throw new Error(`pod still has ${still.length} running container(s)`);
    this.storeStatus(pod, await this.generate(pod, rt, true));
  }

  private async syncTerminatedPod(
    pod: Pod,
    _kill: KillRequest | undefined,
    signal: AbortSignal,
  ): Promise<void> {
    const uid = pod.metadata?.uid ?? '';
    const rt = await this.inspect(uid, signal);
    this.storeStatus(pod, await this.generate(pod, rt, true));
    await this.d.volumes.tearDownPod(uid);
    await this.d.cgroups?.removePod(pod);
    this.d.statusManager.terminatePod(this.podConfig.get(uid) ?? pod);
    this.log.info({ pod: podDesc(pod) }, 'pod terminated');
  }

  private async syncTerminatingRuntimePod(ref: RuntimePodRef, signal: AbortSignal): Promise<void> {
    this.d.probes?.removePod?.(ref.uid);
    const rt = await this.inspect(ref.uid, signal);
    const pod: Pod = {
      metadata: { name: ref.name, namespace: ref.namespace, uid: ref.uid },
      spec: { containers: [] },
    };
    await this.d.syncer.killPodContainers(pod, rt, 1, signal);
    await this.d.syncer.removePod(await this.inspect(ref.uid, signal), signal);
    this.runtimeCache.delete(ref.uid);
    this.log.info({ pod: `${ref.namespace}/${ref.name}`, uid: ref.uid }, 'removed orphaned runtime pod');
  }

  /** Removes a finished pod's containers, sandboxes and files; at most 4 pods at a time. */
  private removeInBackground(uid: string, signal: AbortSignal): void {
    if (this.removed.has(uid)) return;
    this.removed.set(uid, this.now());
    void this.removals
      .run(async () => {
        const rt = await inspectPod(this.d.cri, uid, undefined, signal);
        await this.d.syncer.removePod(rt, signal);
        await this.d.volumes.tearDownPod(uid);
      }, signal)
      .catch((err) => {
        if (!signal.aborted) this.log.warn({ uid, err: String(err) }, 'removing a finished pod failed');
      });
  }

  /** Upstream HandlePodCleanups, trimmed to what we run. */
  private async housekeeping(signal: AbortSignal): Promise<void> {
    // Static pods and their mirrors do not wait for the API source (a control plane boots so).
    this.staticPods.housekeeping(this.podConfig.sourcesReady);
    if (!this.podConfig.sourcesReady || !this.d.pleg.hasRelisted) return;
    const known = new Set(this.podConfig.all().map((p) => p.metadata?.uid ?? ''));
    // Workers of pods gone from the API: forget them once finished, and remove their runtime
    // objects and files in the background (bounded), so housekeeping itself stays short.
    for (const uid of this.workers.uids()) {
      if (!known.has(uid) && this.workers.state(uid) === 'finished') {
        this.workers.forget(uid);
        this.d.syncer.forgetPod(uid);
        this.overrides.delete(uid);
        this.runtimeCache.delete(uid);
        this.removeInBackground(uid, signal);
      }
    }
    // Runtime pods nobody asked for: kill and remove them (grace 1 s). Pods this kubelet just
    // finished and is removing are not orphans, whatever a slightly older relist still shows.
    const now = this.now();
    for (const [uid, at] of this.removed) if (now - at > 60_000) this.removed.delete(uid);
    for (const [uid, ref] of this.d.pleg.runtimePods()) {
      if (known.has(uid) || this.workers.state(uid) !== undefined || this.removed.has(uid)) continue;
      this.workers.update(uid, { runtimePod: ref, kill: { graceSeconds: 1 } });
    }
    // Dead containers beyond the newest two instances per container of pods we still run.
    for (const uid of known) {
      const rt = this.runtimeCache.get(uid);
      if (!rt) continue;
      const byName = new Map<string, number>();
      for (const c of rt.containers) {
        const n = (byName.get(c.name) ?? 0) + 1;
        byName.set(c.name, n);
        if (n > 2 && c.state === 'exited') await this.d.cri.removeContainer(c.id, { signal }).catch(() => {});
      }
    }
    this.d.statusManager.removeOrphanedStatuses(known);
    if (this.d.cgroups) {
      // Pod cgroups of pods that can no longer run anything (not known, no worker, no runtime pod).
      const keep = new Set([
        ...known,
        ...this.workers.uids().filter((u) => this.workers.state(u) !== 'finished'),
      ]);
      for (const uid of this.d.pleg.runtimePods().keys()) keep.add(uid);
      await this.d.cgroups
        .cleanupOrphans(keep)
        .catch((err) => this.log.warn({ err: String(err) }, 'removing orphaned pod cgroups failed'));
    }
    // Probes only for pods that may still run containers (upstream CleanupPods).
    const possiblyRunning = new Set(
      this.workers.uids().filter((uid) => {
        const st = this.workers.state(uid);
        return st === 'sync' || st === 'terminating';
      }),
    );
    this.d.probes?.cleanupPods?.(possiblyRunning);
    for (const uid of this.runtimeCache.keys()) {
      if (!known.has(uid) && this.workers.state(uid) === undefined) this.runtimeCache.delete(uid);
    }
    this.d.images.gc();
    // Upstream cleanupOrphanedPodDirs: files and tmpfs volumes of pods nothing knows any more.
    const runtimeUids = this.d.pleg.runtimePods().keys();
    await this.d.volumes.cleanupOrphanedPodDirs(
      new Set([...known, ...this.workers.uids(), ...runtimeUids, ...this.removed.keys()]),
    );
  }
}

function emptyRuntime(pod: Pod): PodRuntimeStatus {
  return {
    uid: pod.metadata?.uid ?? '',
    name: pod.metadata?.name ?? '',
    namespace: pod.metadata?.namespace ?? '',
    sandboxes: [],
    containers: [],
    ips: [],
    observedAt: Date.now(),
  };
}

function isTerminal(p: { status?: PodStatus }): boolean {
  return p.status?.phase === 'Succeeded' || p.status?.phase === 'Failed';
}
