import { mkdir, readFile } from 'node:fs/promises';
import { join, posix } from 'node:path';
import type { Container, Pod } from '../api/types.js';
import type { CriClient } from '../cri/client.js';
import { CriError, isCriNotFound } from '../cri/errors.js';
import type { ContainerRuntimeStatus, PodRuntimeStatus } from '../cri/runtimeState.js';
import type { Mount, PodSandboxConfig } from '../cri/types.js';
import { Backoff } from '../util/backoff.js';
import { formatDuration } from '../util/duration.js';
import { expand, lookupIn } from '../util/expand.js';
import { type Logger, silentLogger } from '../util/log.js';
import { cpuToMillis, memoryToBytes } from '../util/quantity.js';
import type { Semaphore } from '../util/semaphore.js';
import type { VolumeManager, VolumeMountSource } from '../volumes/manager.js';
import { VolumeSetupError } from '../volumes/manager.js';
import { makeSubPath, SubPathError } from '../volumes/subpath.js';
import type { ActuatedState } from './actuatedState.js';
import {
  hostsFileContent,
  lastLogIndex,
  legacyLogSymlink,
  newTerminationLogFile,
  nodeHostsFileContent,
  writeHostsFile,
} from './containerFiles.js';
import {
  buildContainerConfig,
  buildSandboxConfig,
  containerResources,
  podDesc,
  podLogDir,
  propagation,
  verifyRunAsNonRoot,
} from './criConfig.js';
import { type DnsSettings, podDnsConfig } from './dns.js';
import { buildEnv, type EnvLookup } from './env.js';
import { BackoffError, SyncError } from './errors.js';
import { containerRef, type EventSink, podRef } from './events.js';
import { generatePodHostNameAndDomain, getNodenameForKernel, type PodHostnameAndDomain } from './hostname.js';
import type { ImageManager } from './images.js';
import { computePodActions, isSidecar, type PodActions, type ProbeResult } from './plan.js';
import { oomScoreAdj } from './qos.js';

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
  /** Upstream's actuated-resources checkpoint under the root dir (actuatedState.ts). */
  actuated?: Pick<ActuatedState, 'setContainerResources' | 'removePod'>;
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

const MIN_GRACE_SECONDS = 2;

// Priorities on the shared CRI limiter: finish pods already under way before opening new ones.
const PRIORITY_SANDBOX = 0;
const PRIORITY_CREATE = 1;
const PRIORITY_START = 2;

/**
 * Performs what plan.ts decides, through the CRI (upstream kubeGenericRuntimeManager.SyncPod,
 * startContainer, killContainer, KillPod). Keeps the per-container "reason cache" of the last
 * failed start and the CrashLoopBackOff state.
 */
export class PodSyncer {
  readonly crashBackoff = new Backoff(10_000, 300_000);
  private readonly failures = new Map<string, Map<string, StartFailure>>();
  private readonly log: Logger;
  private readonly now: () => number;

  constructor(private readonly d: SyncerDeps) {
    this.log = d.logger ?? silentLogger;
    this.now = d.now ?? Date.now;
  }

  /** The last failed start attempt per container of a pod (the status waiting reasons). */
  startFailures(uid: string): ReadonlyMap<string, StartFailure> {
    return this.failures.get(uid) ?? new Map();
  }

  forgetPod(uid: string): void {
    this.failures.delete(uid);
  }

  private setFailure(uid: string, name: string, f: StartFailure | undefined): void {
    let m = this.failures.get(uid);
    if (!f) {
      m?.delete(name);
      return;
    }
    if (!m) {
      m = new Map();
      this.failures.set(uid, m);
    }
    m.set(name, f);
  }

  /**
   * The pod's sandbox config (upstream generatePodSandboxConfig) and its hostname and domain;
   * throws a SyncError (CreatePodSandboxError) when the hostname cannot be made.
   */
  sandboxConfig(
    pod: Pod,
    attempt: number,
  ): {
    config: PodSandboxConfig;
    names: PodHostnameAndDomain;
    warnings: { reason: string; message: string }[];
  } {
    const names = generatePodHostNameAndDomain(pod, this.d.config.clusterDomain);
    const hostname = pod.spec?.hostNetwork
      ? ''
      : getNodenameForKernel(names.hostname, names.hostDomain, pod.spec?.setHostnameAsFQDN);
    const dns = podDnsConfig(pod, this.d.config.dns);
    return {
      config: buildSandboxConfig({
        pod,
        attempt,
        podLogsDir: this.d.config.podLogsDir,
        dns: dns.config,
        cgroupParent: this.d.config.cgroupParent(pod),
        hostname,
      }),
      names,
      warnings: dns.warnings,
    };
  }

  /** One SyncPod pass for a running (non-terminating) pod. */
  async syncPod(pod: Pod, rt: PodRuntimeStatus | undefined, signal: AbortSignal): Promise<SyncResult> {
    const uid = pod.metadata?.uid ?? '';
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

    let volumes: Map<string, VolumeMountSource>;
    try {
      volumes = await this.d.volumes.setUpPod(pod, signal);
    } catch (err) {
      if (err instanceof VolumeSetupError) {
        for (const f of err.failures) {
          this.d.events.event(
            podRef(pod),
            'Warning',
            'FailedMount',
            `MountVolume.SetUp failed for volume "${f.volume}" : ${f.message}`,
          );
        }
        result.errors.push(new SyncError('FailedMount', err.message));
        return result;
      }
      throw err;
    }

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
          await this.killContainer(pod, s, this.containerGrace(pod, k.name, k.reason), k.message, signal, {
            podIPs: rt?.ips ?? [],
          });
        }),
      );
      if (a.containersToKill.length > 0) result.changed = true;
      await this.pruneInitContainers(pod, rt, signal);
    }

    let sandboxId = a.sandboxId;
    let attempt = a.attempt;
    let podIPs = rt?.ips ?? [];
    let made: ReturnType<PodSyncer['sandboxConfig']>;
    try {
      made = this.sandboxConfig(pod, attempt);
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
    const { config: sandbox, names, warnings } = made;
    if (a.createSandbox) {
      for (const w of warnings) this.d.events.event(podRef(pod), 'Warning', w.reason, w.message);
      await mkdir(sandbox.logDirectory ?? podLogDir(this.d.config.podLogsDir, pod), {
        recursive: true,
        mode: 0o755,
      });
      try {
        const res = await this.d.criLimiter.run(
          () =>
            this.d.cri.runPodSandbox(
              { config: sandbox, runtimeHandler: pod.spec?.runtimeClassName ?? '' },
              { signal },
            ),
          signal,
          PRIORITY_SANDBOX,
        );
        sandboxId = res.podSandboxId;
      } catch (err) {
        const msg = `Failed to create pod sandbox: ${errText(err)}`;
        this.d.events.event(podRef(pod), 'Warning', 'FailedCreatePodSandBox', msg);
        result.errors.push(new SyncError('CreatePodSandboxError', msg));
        return result;
      }
      result.changed = true;
      try {
        const st = (await this.d.cri.podSandboxStatus(sandboxId, false, { signal })).status;
        const net = st?.network;
        podIPs = net?.ip ? [net.ip, ...net.additionalIps.map((x) => x.ip)] : [];
      } catch (err) {
        const msg = `Unable to get pod sandbox status: ${errText(err)}`;
        this.d.events.event(podRef(pod), 'Warning', 'FailedPodSandBoxStatus', msg);
        result.errors.push(new SyncError('FailedPodSandBoxStatus', msg));
        return result;
      }
      attempt = a.attempt;
    }
    if (pod.spec?.hostNetwork) podIPs = this.d.hostIPs();
    const podDir = this.d.volumes.podDir(uid);
    let hostsPath = '';
    if (pod.spec?.hostNetwork) {
      const nodeHosts = await readFile('/etc/hosts', 'utf8').catch(() => '');
      hostsPath = await writeHostsFile(podDir, nodeHostsFileContent(pod, nodeHosts));
    } else if (podIPs.length > 0) {
      hostsPath = await writeHostsFile(
        podDir,
        hostsFileContent(pod, podIPs, names.hostname, names.hostDomain),
      );
    }

    const ctx: StartContext = {
      pod,
      rt,
      sandboxId,
      sandbox,
      podIPs,
      volumes,
      hostsPath,
      podDir,
      signal,
      result,
    };
    // Ephemeral containers first (upstream SyncPod step 7), so a failing init container does not
    // keep a debug container from starting.
    for (const name of a.ephemeralContainersToStart) {
      const ec = (pod.spec?.ephemeralContainers ?? []).find((x) => x.name === name);
      if (ec) await this.startContainer(ec, ctx, ec.targetContainerName);
    }
    for (const name of a.initContainersToStart) {
      const c = (pod.spec?.initContainers ?? []).find((x) => x.name === name);
      if (!c) continue;
      const ok = await this.startContainer(c, ctx);
      if (!ok && !isSidecar(c)) return result;
    }
    for (const name of a.containersToStart) {
      const c = (pod.spec?.containers ?? []).find((x) => x.name === name);
      if (c) await this.startContainer(c, ctx);
    }
    void attempt;
    return result;
  }

  /** The grace period for killing one container (upstream killContainer's rules). */
  containerGrace(pod: Pod, name: string, reason = ''): number {
    const dgp = pod.metadata?.deletionGracePeriodSeconds;
    if (dgp !== undefined && dgp !== null) return dgp;
    const c = podContainerSpec(pod, name);
    if (reason === 'LivenessProbe' && c?.livenessProbe?.terminationGracePeriodSeconds != null) {
      return c.livenessProbe.terminationGracePeriodSeconds;
    }
    if (reason === 'StartupProbe' && c?.startupProbe?.terminationGracePeriodSeconds != null) {
      return c.startupProbe.terminationGracePeriodSeconds;
    }
    return pod.spec?.terminationGracePeriodSeconds ?? 30;
  }

  /**
   * Stops one container (upstream killContainer): Killing event; the preStop hook, if any, within
   * the grace period, which it shortens by the whole seconds it took; with `ordering`, the wait
   * for this container's turn (sidecars after the regular containers and later sidecars), which
   * shortens it again; then StopContainer (SIGTERM, SIGKILL after at least 2 s).
   */
  async killContainer(
    pod: Pod,
    s: Pick<ContainerRuntimeStatus, 'id' | 'name'>,
    graceSeconds: number,
    message: string | undefined,
    signal?: AbortSignal,
    opts: { podIPs?: readonly string[]; ordering?: TerminationOrdering } = {},
  ): Promise<void> {
    const spec = podContainerSpec(pod, s.name);
    if (spec)
      this.d.events.event(
        containerRef(pod, spec),
        'Normal',
        'Killing',
        message ?? `Stopping container ${s.name}`,
      );
    let grace = Math.floor(graceSeconds);
    const preStop = spec?.lifecycle?.preStop;
    if (spec && preStop && grace > 0 && this.d.hooks) {
      grace -= await this.runPreStop(pod, spec, s.id, preStop, grace, opts.podIPs ?? [], signal);
    }
    if (opts.ordering && grace > 0) grace -= Math.floor(await opts.ordering.waitForTurn(s.name, grace));
    grace = Math.max(MIN_GRACE_SECONDS, grace);
    try {
      await this.d.cri.stopContainer(s.id, grace, { signal });
    } catch (err) {
      if (!isCriNotFound(err)) {
        throw new SyncError('KillContainerError', `failed to kill container "${s.name}": ${errText(err)}`, {
          cause: err,
        });
      }
    }
    opts.ordering?.containerTerminated(s.name);
  }

  /**
   * Runs a preStop hook, waiting at most `graceSeconds` for it (upstream executePreStopHook: a
   * hook that overruns keeps running while the container is stopped). Returns the whole
   * seconds spent.
   */
  private async runPreStop(
    pod: Pod,
    spec: Container,
    id: string,
    handler: LifecycleHandler,
    graceSeconds: number,
    podIPs: readonly string[],
    signal?: AbortSignal,
  ): Promise<number> {
    const hooks = this.d.hooks;
    if (!hooks) return 0;
    const started = this.now();
    const failed = (message: string) => {
      this.log.info({ pod: podDesc(pod), container: spec.name, msg: message }, 'PreStop hook failed');
      // Never the hook's message: it may carry secrets.
      this.d.events.event(containerRef(pod, spec), 'Warning', 'FailedPreStopHook', 'PreStopHook failed');
    };
    const hook = hooks.run({ pod, container: spec, containerId: id, handler, podIPs }, signal).then(
      (o) => {
        if (!o.ok) failed(o.message);
      },
      (err) => failed(errText(err)),
    );
    let timer: NodeJS.Timeout | undefined;
    const expired = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, graceSeconds * 1000);
    });
    await Promise.race([hook, expired]);
    clearTimeout(timer);
    return Math.floor((this.now() - started) / 1000);
  }

  /**
   * Kills the whole pod (upstream KillPod): every container at once, each with its own grace
   * period and preStop hook; when the pod has sidecars, each sidecar's stop waits (within its
   * grace) until the regular containers and the sidecars declared after it have stopped, so
   * they stop in reverse order after the main containers. Then StopPodSandbox for every
   * sandbox. `graceOverride` (seconds) replaces each container's grace (deletion, eviction,
   * orphans).
   */
  async killPodContainers(
    pod: Pod,
    rt: PodRuntimeStatus | undefined,
    graceOverride: number | undefined,
    signal?: AbortSignal,
  ): Promise<void> {
    const running = (rt?.containers ?? []).filter(
      (c) => c.state === 'running' || c.state === 'created' || c.state === 'unknown',
    );
    const ordering = (pod.spec?.initContainers ?? []).some(isSidecar)
      ? new TerminationOrdering(
          pod,
          running.map((c) => c.name),
          this.now,
        )
      : undefined;
    const graceOf = (name: string) => graceOverride ?? this.containerGrace(pod, name);
    const errors: unknown[] = [];
    await Promise.all(
      running.map((c) =>
        this.killContainer(pod, c, graceOf(c.name), undefined, signal, {
          podIPs: rt?.ips ?? [],
          ordering,
        }).catch((e) => errors.push(e)),
      ),
    );
    for (const sb of rt?.sandboxes ?? []) {
      try {
        await this.d.cri.stopPodSandbox(sb.id, { signal });
      } catch (err) {
        if (!isCriNotFound(err)) errors.push(err);
      }
    }
    if (errors.length > 0) {
      const msg = `error killing pod: ${errors.map(errText).join('; ')}`;
      this.d.events.event(podRef(pod), 'Warning', 'FailedKillPod', msg);
      throw new SyncError('KillPodError', msg);
    }
  }

  /** Removes every container and sandbox of a pod (after it terminated). */
  async removePod(rt: PodRuntimeStatus | undefined, signal?: AbortSignal): Promise<void> {
    if (rt?.uid) await this.d.actuated?.removePod(rt.uid);
    for (const c of rt?.containers ?? []) {
      await this.d.cri.removeContainer(c.id, { signal }).catch((e) => {
        if (!isCriNotFound(e)) this.log.warn({ id: c.id, err: errText(e) }, 'remove container failed');
      });
    }
    for (const sb of rt?.sandboxes ?? []) {
      await this.d.cri.stopPodSandbox(sb.id, { signal }).catch(() => {});
      await this.d.cri.removePodSandbox(sb.id, { signal }).catch((e) => {
        if (!isCriNotFound(e)) this.log.warn({ id: sb.id, err: errText(e) }, 'remove sandbox failed');
      });
    }
  }

  /** Keeps only the newest exited instance of each init container (upstream pruneInitContainersBeforeStart). */
  private async pruneInitContainers(
    pod: Pod,
    rt: PodRuntimeStatus | undefined,
    signal?: AbortSignal,
  ): Promise<void> {
    for (const ic of pod.spec?.initContainers ?? []) {
      const exited = (rt?.containers ?? []).filter((c) => c.name === ic.name && c.state === 'exited');
      for (const old of exited.slice(1)) {
        await this.d.cri.removeContainer(old.id, { signal }).catch(() => {});
      }
    }
  }

  /**
   * Upstream startContainer. `target` is an ephemeral container's targetContainerName: it joins
   * the PID namespace of that container's newest instance, which must exist.
   */
  private async startContainer(c: Container, x: StartContext, target?: string): Promise<boolean> {
    const { pod, rt, signal, result } = x;
    const uid = pod.metadata?.uid ?? '';
    const ref = containerRef(pod, c);
    const prev = rt?.containers.find((s) => s.name === c.name);
    try {
      if (prev && prev.state === 'exited') {
        const key = `${pod.metadata?.name}_${pod.metadata?.namespace}_${uid}_${c.name}_${prev.hash}`;
        const now = this.now();
        const eventTime = prev.finishedAt || now;
        if (this.crashBackoff.isInBackOffSince(key, eventTime, now)) {
          this.d.events.event(
            ref,
            'Warning',
            'BackOff',
            `Back-off restarting failed container ${c.name} in pod ${podDesc(pod)}`,
          );
          const delay = this.crashBackoff.get(key);
          const retryAt = eventTime + delay;
          result.retryAt = Math.min(result.retryAt ?? retryAt, retryAt);
          throw new BackoffError(
            'CrashLoopBackOff',
            `back-off ${formatDuration(delay)} restarting failed container=${c.name} pod=${podDesc(pod)}`,
          );
        }
        this.crashBackoff.next(key, eventTime);
      }

      let image: Awaited<ReturnType<ImageManager['ensureImage']>>;
      try {
        image = await this.d.images.ensureImage(pod, c, x.sandbox, signal);
      } catch (err) {
        if (err instanceof SyncError) {
          this.d.events.event(ref, 'Warning', 'Failed', `Error: ${err.reason}`);
          if (err instanceof BackoffError) {
            result.retryAt = Math.min(result.retryAt ?? this.now() + 10_000, this.now() + 10_000);
          }
        }
        throw err;
      }

      let restartCount = 0;
      if (prev) restartCount = prev.restartCount + 1;
      else {
        const idx = await lastLogIndex(join(x.sandbox.logDirectory ?? '', c.name));
        if (idx >= 0) restartCount = idx + 1;
      }

      const config = await this.containerConfig(c, x, image, restartCount, target).catch((err) => {
        const e = err instanceof SyncError ? err : new SyncError('CreateContainerConfigError', errText(err));
        this.d.events.event(ref, 'Warning', 'Failed', `Error: ${e.message}`);
        throw e;
      });
      await mkdir(join(x.sandbox.logDirectory ?? '', c.name), { recursive: true, mode: 0o755 });
      // Upstream marks the resources as actuated when it creates a container (the record an
      // upstream kubelet taking over this root dir reads; see actuatedState.ts).
      await this.d.actuated?.setContainerResources(uid, c.name, c);

      let id: string;
      try {
        id = await this.d.criLimiter.run(
          () =>
            this.d.cri.createContainer(
              { podSandboxId: x.sandboxId, config, sandboxConfig: x.sandbox },
              { signal },
            ),
          signal,
          PRIORITY_CREATE,
        );
      } catch (err) {
        const msg = errText(err);
        this.d.events.event(ref, 'Warning', 'Failed', `Error: ${msg}`);
        throw new SyncError('CreateContainerError', msg);
      }
      result.changed = true;
      this.d.events.event(ref, 'Normal', 'Created', `Created container: ${c.name}`);
      try {
        await this.d.criLimiter.run(() => this.d.cri.startContainer(id, { signal }), signal, PRIORITY_START);
      } catch (err) {
        const msg = errText(err);
        this.d.events.event(ref, 'Warning', 'Failed', `Error: ${msg}`);
        throw new SyncError('RunContainerError', msg);
      }
      this.d.events.event(ref, 'Normal', 'Started', `Started container ${c.name}`);
      void legacyLogSymlink(pod, c.name, id, join(x.sandbox.logDirectory ?? '', config.logPath ?? ''));
      await this.runPostStart(c, id, x);
      this.setFailure(uid, c.name, undefined);
      return true;
    } catch (err) {
      if (signal.aborted) throw err;
      const e = err instanceof SyncError ? err : new SyncError('RunContainerError', errText(err));
      this.setFailure(uid, c.name, { reason: e.reason, message: e.message });
      if (!(e instanceof BackoffError)) result.errors.push(e);
      this.log.debug(
        { pod: podDesc(pod), container: c.name, reason: e.reason, msg: e.message },
        'start failed',
      );
      return false;
    }
  }

  /**
   * The postStart hook, synchronously inside the container start (upstream startContainer step
   * 4): on failure a FailedPostStartHook event, the container is killed (Killing
   * "FailedPostStartHook") and the start fails with PostStartHookError.
   */
  private async runPostStart(c: Container, id: string, x: StartContext): Promise<void> {
    const handler = c.lifecycle?.postStart;
    const hooks = this.d.hooks;
    if (!handler || !hooks) return;
    const { pod, signal } = x;
    const outcome = await hooks
      .run({ pod, container: c, containerId: id, handler, podIPs: x.podIPs }, signal)
      .catch((err): HookOutcome => ({ ok: false, message: errText(err) }));
    if (outcome.ok) return;
    if (signal.aborted) throw new SyncError('PostStartHookError', outcome.message);
    this.log.info({ pod: podDesc(pod), container: c.name, msg: outcome.message }, 'PostStart hook failed');
    // Never the hook's message in the event: it may carry secrets.
    this.d.events.event(containerRef(pod, c), 'Warning', 'FailedPostStartHook', 'PostStartHook failed');
    await this.killContainer(
      pod,
      { id, name: c.name },
      this.containerGrace(pod, c.name, 'FailedPostStartHook'),
      'FailedPostStartHook',
      signal,
      { podIPs: x.podIPs },
    ).catch((err) =>
      this.log.warn(
        { pod: podDesc(pod), container: c.name, err: errText(err) },
        'kill after PostStart failed',
      ),
    );
    throw new SyncError('PostStartHookError', outcome.message);
  }

  private async containerConfig(
    c: Container,
    x: StartContext,
    image: { imageRef: string; uid: number | undefined; username: string },
    restartCount: number,
    target: string | undefined,
  ) {
    const { pod } = x;
    let nsTarget: string | undefined;
    if (target) {
      nsTarget = x.rt?.containers.find((s) => s.name === target)?.id;
      if (!nsTarget)
        throw new SyncError('CreateContainerConfigError', `unable to find target container ${target}`);
    }
    // Upstream order: the environment (and its errors) first, then the non-root check.
    const env = await buildEnv(c, {
      pod,
      nodeName: this.d.config.nodeName,
      hostIPs: this.d.hostIPs(),
      podIPs: x.podIPs,
      lookup: this.d.envLookup,
      allocatable: this.d.config.allocatable,
    });
    const nonRoot = verifyRunAsNonRoot(pod, c, image.uid, image.username);
    if (nonRoot) throw new SyncError('CreateContainerConfigError', nonRoot);
    const look = lookupIn(env);
    const command = (c.command ?? []).map((s) => expand(s, look));
    const args = (c.args ?? []).map((s) => expand(s, look));
    const mounts = await this.mounts(c, x, env);
    const req = c.resources?.requests ?? {};
    const lim = c.resources?.limits ?? {};
    const q = (v: unknown, f: (s: string) => number) => (v === undefined || v === null ? 0 : f(String(v)));
    const resources = containerResources({
      cpuRequestMillis: q(req.cpu, cpuToMillis),
      cpuLimitMillis: q(lim.cpu, cpuToMillis),
      memoryLimitBytes: q(lim.memory, memoryToBytes),
      oomScoreAdj: oomScoreAdj(pod, c, this.d.config.memoryCapacityBytes),
      cpuCfsQuota: this.d.config.cpuCfsQuota,
      cgroupV2: this.d.config.cgroupV2,
    });
    return buildContainerConfig({
      pod,
      container: c,
      restartCount,
      imageRef: image.imageRef,
      env,
      command,
      args,
      mounts,
      resources,
      ...(nsTarget ? { nsTarget } : {}),
    });
  }

  private async mounts(c: Container, x: StartContext, env: Map<string, string>): Promise<Mount[]> {
    const out: Mount[] = [];
    const seen = new Set<string>();
    for (const vm of c.volumeMounts ?? []) {
      if (seen.has(vm.mountPath)) {
        throw new SyncError('CreateContainerConfigError', `duplicate mount path ${vm.mountPath}`);
      }
      seen.add(vm.mountPath);
      const src = x.volumes.get(vm.name);
      if (!src)
        throw new SyncError(
          'CreateContainerConfigError',
          `cannot find volume "${vm.name}" to mount into container "${c.name}"`,
        );
      let hostPath = src.hostPath;
      const sub = vm.subPathExpr ? expandSubPath(vm.subPathExpr, env) : vm.subPath;
      if (sub) {
        if (posix.isAbsolute(sub))
          throw new SyncError(
            'CreateContainerConfigError',
            `error SubPath \`${sub}\` must not be an absolute path`,
          );
        if (sub.split('/').includes('..')) {
          throw new SyncError(
            'CreateContainerConfigError',
            `unable to provision SubPath \`${sub}\`: must not contain '..'`,
          );
        }
        try {
          hostPath = await makeSubPath(hostPath, sub, vm.name, c.name);
        } catch (err) {
          if (err instanceof SubPathError) throw new SyncError('CreateContainerConfigError', err.message);
          throw err;
        }
      }
      out.push({
        containerPath: vm.mountPath,
        hostPath,
        readonly: vm.readOnly === true || src.forceReadOnly,
        selinuxRelabel: false,
        propagation: propagation(vm.mountPropagation),
      });
    }
    if (x.hostsPath && !seen.has('/etc/hosts')) {
      out.push({
        containerPath: '/etc/hosts',
        hostPath: x.hostsPath,
        readonly: false,
        selinuxRelabel: false,
        propagation: 'PROPAGATION_PRIVATE',
      });
    }
    const tmp = c.terminationMessagePath ?? '/dev/termination-log';
    if (tmp && !seen.has(tmp)) {
      const file = await newTerminationLogFile(x.podDir, c.name);
      out.push({
        containerPath: tmp,
        hostPath: file,
        readonly: false,
        selinuxRelabel: false,
        propagation: 'PROPAGATION_PRIVATE',
      });
    }
    return out;
  }
}

/** Upstream ExpandContainerVolumeMounts: every referenced variable must be set and non-empty. */
function expandSubPath(expr: string, env: Map<string, string>): string {
  const missing = new Set<string>();
  const out = expand(expr, (k) => {
    const v = env.get(k);
    if (!v) missing.add(k);
    return v ?? '';
  });
  if (missing.size > 0) {
    throw new SyncError('CreateContainerConfigError', `missing value for ${[...missing].sort().join(', ')}`);
  }
  return out;
}

interface StartContext {
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

/**
 * Upstream terminationOrdering (kuberuntime_termination_order.go): each sidecar may stop only
 * once every regular container and the sidecar declared after it have terminated; containers
 * that are not running count as terminated from the start.
 */
export class TerminationOrdering {
  private readonly terminated = new Map<string, { done: Promise<void>; resolve: () => void }>();
  private readonly prereqs = new Map<string, Promise<void>[]>();

  constructor(
    pod: Pod,
    runningNames: readonly string[],
    private readonly now: () => number = Date.now,
  ) {
    const running = new Set(runningNames);
    const mark = (name: string) => {
      let resolve = () => {};
      const done = new Promise<void>((r) => {
        resolve = r;
      });
      const entry = { done, resolve };
      this.terminated.set(name, entry);
      if (!running.has(name)) resolve();
      return entry;
    };
    const mains = (pod.spec?.containers ?? []).map((c) => mark(c.name).done);
    let later: Promise<void> | undefined;
    for (const c of [...(pod.spec?.initContainers ?? [])].reverse()) {
      const entry = mark(c.name);
      if (!isSidecar(c)) continue;
      this.prereqs.set(c.name, later ? [...mains, later] : mains);
      later = entry.done;
    }
  }

  /** Waits until it is `name`'s turn to stop, at most `graceSeconds`; returns the seconds waited. */
  async waitForTurn(name: string, graceSeconds: number): Promise<number> {
    if (graceSeconds <= 0) return 0;
    const started = this.now();
    let timer: NodeJS.Timeout | undefined;
    const expired = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, graceSeconds * 1000);
    });
    await Promise.race([Promise.all(this.prereqs.get(name) ?? []), expired]);
    clearTimeout(timer);
    return (this.now() - started) / 1000;
  }

  containerTerminated(name: string): void {
    this.terminated.get(name)?.resolve();
  }
}

/** A container of the pod by name: regular, init or ephemeral (upstream GetContainerSpec). */
function podContainerSpec(pod: Pod, name: string): Container | undefined {
  const s = pod.spec;
  return (
    s?.containers.find((x) => x.name === name) ??
    s?.initContainers?.find((x) => x.name === name) ??
    s?.ephemeralContainers?.find((x) => x.name === name)
  );
}

function errText(err: unknown): string {
  if (err instanceof CriError) return err.details || err.message;
  return err instanceof Error ? err.message : String(err);
}
