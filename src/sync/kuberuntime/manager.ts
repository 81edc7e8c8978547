import { isSidecar, podRef } from '../../api/pod.js';
import type { Pod } from '../../api/types.js';
import type { ContainerRuntimeStatus, PodRuntimeStatus } from '../../cri/runtimeState.js';
import { Backoff } from '../../util/backoff.js';
import type { VolumeMountSource } from '../../volumes/manager.js';
import { PodDataDirsError, VolumeSetupError } from '../../volumes/manager.js';
import { SyncError } from '../errors.js';
import { computePodActions } from '../plan.js';
import { ContainerStarter } from './container.js';
import { ContainerGC } from './gc.js';
import { ReasonCache } from './reasonCache.js';
import { Sandboxes, type SandboxPlan, sandboxConfig } from './sandbox.js';
import { containerGrace, PodTerminator, type TerminationOrdering } from './termination.js';
import type { StartContext, StartFailure, SyncerDeps, SyncResult } from './types.js';

/**
 * Performs what plan.ts decides, through the CRI (upstream kubeGenericRuntimeManager.SyncPod,
 * KillPod): sandboxes (sandbox.ts), container starts (container.ts), stops and their ordering
 * (termination.ts), removal of dead containers (gc.ts), and the reason cache.
 */
export class PodSyncer {
  readonly crashBackoff = new Backoff(10_000, 300_000);
  readonly gc: ContainerGC;
  private readonly d: SyncerDeps;
  private readonly reasons = new ReasonCache();
  private readonly terminator: PodTerminator;
  private readonly sandboxes: Sandboxes;
  private readonly starter: ContainerStarter;

  constructor(d: SyncerDeps) {
    this.d = d;
    this.gc = new ContainerGC(d);
    this.terminator = new PodTerminator(d);
    this.sandboxes = new Sandboxes(d);
    this.starter = new ContainerStarter(d, this.terminator, this.reasons, this.crashBackoff);
  }

  /** The last failed start attempt per container of a pod (the status waiting reasons). */
  startFailures(uid: string): ReadonlyMap<string, StartFailure> {
    return this.reasons.get(uid);
  }

  forgetPod(uid: string): void {
    this.reasons.forget(uid);
  }

  sandboxConfig(pod: Pod, attempt: number): SandboxPlan {
    return sandboxConfig(this.d.config, pod, attempt);
  }

  /** One SyncPod pass for a running (non-terminating) pod. */
  async syncPod(pod: Pod, rt: PodRuntimeStatus | undefined, signal: AbortSignal): Promise<SyncResult> {
    const result: SyncResult = {
      actions: computePodActions({
        pod,
        runtime: rt,
        liveness: this.d.probes.liveness,
        startup: this.d.probes.startup,
      }),
      changed: false,
      errors: [],
    };
    const a = result.actions;

    const volumes = await this.setUpVolumes(pod, result, signal);
    if (!volumes) return result;

    if (a.sandboxChanged && a.createSandbox) {
      this.d.events.event(
        podRef(pod),
        'Normal',
        'SandboxChanged',
        'Pod sandbox changed, it will be killed and re-created.',
      );
    }
    if (a.killPod) {
      await this.killPodContainers(pod, rt, undefined, signal);
      result.changed = true;
      if (!a.createSandbox) return result;
    } else {
      await Promise.all(
        a.containersToKill.map(async (k) => {
          const s = rt?.containers.find((c) => c.id === k.id);
          if (!s) return;
          await this.killContainer(pod, s, containerGrace(pod, k.name, k.reason), k.message, signal, {
            podIPs: rt?.ips ?? [],
          });
        }),
      );
      if (a.containersToKill.length > 0) result.changed = true;
      await this.gc.pruneInitContainers(pod, rt, signal);
    }

    let plan: SandboxPlan;
    try {
      plan = this.sandboxConfig(pod, a.attempt);
    } catch (err) {
      if (!(err instanceof SyncError)) throw err;
      this.d.events.event(
        podRef(pod),
        'Warning',
        'FailedCreatePodSandBox',
        `Failed to create pod sandbox: ${err.message}`,
      );
      result.errors.push(err);
      return result;
    }
    let sandboxId = a.sandboxId;
    let podIPs = rt?.ips ?? [];
    if (a.createSandbox) {
      const made = await this.sandboxes.create(pod, plan, result, signal);
      if (!made) return result;
      ({ sandboxId, podIPs } = made);
    }
    if (pod.spec?.hostNetwork) podIPs = this.d.hostIPs();
    const hostsPath = await this.sandboxes.writeHosts(pod, podIPs, plan.names);

    const ctx: StartContext = {
      pod,
      rt,
      sandboxId,
      sandbox: plan.config,
      podIPs,
      volumes,
      hostsPath,
      podDir: this.d.volumes.podDir(pod.metadata?.uid ?? ''),
      signal,
      result,
    };
    // Ephemeral containers first (upstream SyncPod step 7), so a failing init container does not
    // keep a debug container from starting.
    for (const name of a.ephemeralContainersToStart) {
      const ec = (pod.spec?.ephemeralContainers ?? []).find((x) => x.name === name);
      if (ec) await this.starter.start(ec, ctx, ec.targetContainerName);
    }
    for (const name of a.initContainersToStart) {
      const c = (pod.spec?.initContainers ?? []).find((x) => x.name === name);
      if (!c) continue;
      const ok = await this.starter.start(c, ctx);
      if (!ok && !isSidecar(c)) return result;
    }
    for (const name of a.containersToStart) {
      const c = (pod.spec?.containers ?? []).find((x) => x.name === name);
      if (c) await this.starter.start(c, ctx);
    }
    return result;
  }

  /** Sets up the pod's volumes; on failure FailedMount events and an error in `result`. */
  private async setUpVolumes(
    pod: Pod,
    result: SyncResult,
    signal: AbortSignal,
  ): Promise<Map<string, VolumeMountSource> | undefined> {
    try {
      return await this.d.volumes.setUpPod(pod, signal);
    } catch (err) {
      if (err instanceof PodDataDirsError) {
        const msg = `error making pod data directories: ${err.message}`;
        this.d.events.event(podRef(pod), 'Warning', 'FailedToMakePodDataDirectories', msg);
        result.errors.push(new SyncError('FailedToMakePodDataDirectories', msg));
        return undefined;
      }
      if (!(err instanceof VolumeSetupError)) throw err;
      for (const f of err.failures) {
        this.d.events.event(
          podRef(pod),
          'Warning',
          'FailedMount',
          `MountVolume.SetUp failed for volume "${f.volume}" : ${f.message}`,
        );
      }
      result.errors.push(new SyncError('FailedMount', err.message));
      return undefined;
    }
  }

  /** The grace period for killing one container (upstream killContainer's rules). */
  containerGrace(pod: Pod, name: string, reason = ''): number {
    return containerGrace(pod, name, reason);
  }

  killContainer(
    pod: Pod,
    s: Pick<ContainerRuntimeStatus, 'id' | 'name'>,
    graceSeconds: number,
    message: string | undefined,
    signal?: AbortSignal,
    opts: { podIPs?: readonly string[]; ordering?: TerminationOrdering } = {},
  ): Promise<void> {
    return this.terminator.killContainer(pod, s, graceSeconds, message, signal, opts);
  }

  killPodContainers(
    pod: Pod,
    rt: PodRuntimeStatus | undefined,
    graceOverride: number | undefined,
    signal?: AbortSignal,
  ): Promise<void> {
    return this.terminator.killPodContainers(pod, rt, graceOverride, signal);
  }

  /** Removes every container and sandbox of a pod (after it terminated). */
  removePod(rt: PodRuntimeStatus | undefined, signal?: AbortSignal): Promise<void> {
    return this.gc.removePod(rt, signal);
  }
}
