import { isPodTerminal, podRef } from '../api/pod.js';
import type { Pod, PodStatus } from '../api/types.js';
import type { RuntimePodRef } from '../cri/pleg.js';
import type { RuntimeCache } from '../cri/runtimeCache.js';
import type { PodRuntimeStatus } from '../cri/runtimeState.js';
import { generatePodStatus, type StatusOverride } from '../status/generate.js';
import type { StatusManager } from '../status/manager.js';
import { errorMessage } from '../util/errors.js';
import { type Logger, silentLogger } from '../util/log.js';
import type { VolumeManager } from '../volumes/manager.js';
import { readTerminationMessage, tailLogMessage } from './containerFiles.js';
import { podDesc } from './criConfig.js';
import type { EventSink } from './events.js';
import type { PodSyncer } from './kuberuntime/manager.js';
import { podSandboxChanged } from './plan.js';
import type { KillRequest, SyncOutcome, WorkerHandlers } from './podWorkers.js';
import type { PodCgroupHooks, ProbeStatusView } from './syncTypes.js';

export interface PodSyncDeps {
  syncer: PodSyncer;
  runtimeCache: RuntimeCache;
  statusManager: StatusManager;
  volumes: VolumeManager;
  events: EventSink;
  runtimeName: () => string;
  hostIPs: () => string[];
  /** The desired pod now (the pod config's copy), for the final status. */
  desiredPod: (uid: string) => Pod | undefined;
  startedAt: number;
  probes?: ProbeStatusView;
  cgroups?: PodCgroupHooks;
  logger?: Logger;
  now?: () => number;
}

const noProbes: ProbeStatusView = { started: () => undefined, ready: () => undefined };

/**
 * What a pod worker runs (upstream Kubelet.SyncPod, SyncTerminatingPod, SyncTerminatedPod,
 * SyncTerminatingRuntimePod): read the runtime, generate and store status, then let the
 * kuberuntime manager act. Holds the status overrides of killed pods (eviction, deadline).
 */
export class PodSyncHandlers implements WorkerHandlers {
  private readonly overrides = new Map<string, StatusOverride>();
  /** After each sync pass of a pod that keeps running (static pods: reconcile the mirror). */
  onSynced: ((pod: Pod) => void) | undefined;
  private readonly d: PodSyncDeps;
  private readonly log: Logger;
  private readonly now: () => number;

  constructor(d: PodSyncDeps) {
    this.d = d;
    this.log = d.logger ?? silentLogger;
    this.now = d.now ?? Date.now;
  }

  /** The status a kill imposes (Evicted, DeadlineExceeded, preemption), kept until the pod is forgotten. */
  setOverride(uid: string, o: StatusOverride): void {
    this.overrides.set(uid, o);
  }

  forget(uid: string): void {
    this.overrides.delete(uid);
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
      kubeletStartedAt: this.d.startedAt,
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

  async syncPod(pod: Pod, signal: AbortSignal): Promise<SyncOutcome> {
    const uid = pod.metadata?.uid ?? '';
    let rt = this.d.runtimeCache.knownAbsent(uid)
      ? emptyRuntime(pod)
      : await this.d.runtimeCache.refresh(uid, signal);
    let status = await this.generate(pod, rt, false);
    if (!this.overrides.has(uid) && this.activeDeadlineExceeded(pod, status)) {
      const message = 'Pod was active on the node longer than the specified deadline';
      this.d.events.event(podRef(pod), 'Normal', 'DeadlineExceeded', message);
      this.overrides.set(uid, { reason: 'DeadlineExceeded', message });
      status = await this.generate(pod, rt, false);
    }
    this.storeStatus(pod, status);
    if (isPodTerminal({ status })) return { terminal: true };
    this.onSynced?.(pod);

    this.d.probes?.addPod?.(pod);
    if (this.d.cgroups) {
      try {
        await this.d.cgroups.ensurePod(pod);
      } catch (err) {
        const msg = `unable to ensure pod container exists: ${errorMessage(err)}`;
        this.d.events.event(podRef(pod), 'Warning', 'FailedCreatePodContainer', msg);
        return { terminal: false, requeueAfterMs: 10_000 };
      }
    }
    const res = await this.d.syncer.syncPod(pod, rt, signal);
    if (res.changed || res.errors.length > 0 || this.d.syncer.startFailures(uid).size > 0) {
      rt = await this.d.runtimeCache.refresh(uid, signal);
      status = await this.generate(pod, rt, false);
      this.storeStatus(pod, status);
      if (isPodTerminal({ status })) return { terminal: true };
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

  async syncTerminatingPod(
    pod: Pod,
    grace: number,
    kill: KillRequest | undefined,
    signal: AbortSignal,
  ): Promise<void> {
    const uid = pod.metadata?.uid ?? '';
    if (kill?.status) this.overrides.set(uid, kill.status);
    let rt = await this.d.runtimeCache.refresh(uid, signal);
    this.storeStatus(pod, await this.generate(pod, rt, false));
    this.d.probes?.stopLivenessAndStartup?.(uid);
    const override = kill?.graceSeconds !== undefined || pod.metadata?.deletionTimestamp ? grace : undefined;
    await this.d.syncer.killPodContainers(pod, rt, override, signal);
    this.d.probes?.removePod?.(uid);
    rt = await this.d.runtimeCache.refresh(uid, signal);
    const still = rt.containers.filter((c) => c.state === 'running');
    if (still.length > 0) throw new Error(`pod still has ${still.length} running container(s)`);
    this.storeStatus(pod, await this.generate(pod, rt, true));
  }

  async syncTerminatedPod(pod: Pod, _kill: KillRequest | undefined, signal: AbortSignal): Promise<void> {
    const uid = pod.metadata?.uid ?? '';
    const rt = await this.d.runtimeCache.refresh(uid, signal);
    this.storeStatus(pod, await this.generate(pod, rt, true));
    await this.d.volumes.tearDownPod(uid);
    await this.d.cgroups?.removePod(pod);
    this.d.statusManager.terminatePod(this.d.desiredPod(uid) ?? pod);
    this.log.info({ pod: podDesc(pod) }, 'pod terminated');
  }

  async syncTerminatingRuntimePod(ref: RuntimePodRef, signal: AbortSignal): Promise<void> {
    this.d.probes?.removePod?.(ref.uid);
    const rt = await this.d.runtimeCache.refresh(ref.uid, signal);
    const pod: Pod = {
      metadata: { name: ref.name, namespace: ref.namespace, uid: ref.uid },
      spec: { containers: [] },
    };
    await this.d.syncer.killPodContainers(pod, rt, 1, signal);
    await this.d.syncer.removePod(await this.d.runtimeCache.refresh(ref.uid, signal), signal);
    this.d.runtimeCache.delete(ref.uid);
    this.log.info({ pod: `${ref.namespace}/${ref.name}`, uid: ref.uid }, 'removed orphaned runtime pod');
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
